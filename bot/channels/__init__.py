"""Channels of the assistant beyond Rasa's built-in ones: WhatsApp Cloud API, and Rasa's REST
channel made safe to resend."""

# What a customer reads when the message could not be processed (a store unreachable).
UNAVAILABLE_REPLY = ("Mi scusi, in questo momento non riesco a rispondere per un problema tecnico. Il Suo "
                     "messaggio non è andato perso: lo rimandi tra qualche istante.")
