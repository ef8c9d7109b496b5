"""The support database: what the channels and the support team keep beside Rasa's tracker
store (WhatsApp deliveries and contacts today; handoff tickets with the console)."""
