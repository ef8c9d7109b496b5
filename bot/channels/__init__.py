"""Channels of the assistant beyond Rasa's built-in ones (WhatsApp Cloud API)."""
