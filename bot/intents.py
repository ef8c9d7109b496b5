"""What each intent means to a customer, in Italian: button titles and summaries.

The list of intents is domain.yml's (bot/domain.py reads it); this module only says how each
is put to a customer. The two-stage fallback's "Did you mean ...?" buttons use these labels
(actions/fallback.py); a test checks that every intent of domain.yml has one.
"""

from __future__ import annotations

from bot.domain import domain_intents

INTENT_LABELS: dict[str, str] = {
    "greet": "Salutare",
    "goodbye": "Chiudere la conversazione",
    "thank": "Ringraziare",
    "affirm": "Sì",
    "deny": "No",
    "bot_challenge": "Sapere se parlo con un assistente virtuale",
    "out_of_scope": "Altro",
    "request_human": "Parlare con un operatore",
    "request_deferral": "Spostare la scadenza di una bolletta",
    "request_installments": "Pagare una bolletta a rate",
    "ask_bonus_sociale": "Informazioni sul bonus sociale",
    "find_store": "Trovare uno sportello",
    "ask_late_interest": "Interessi di mora",
    "check_bills": "Sapere lo stato delle bollette",
    "ask_hardship_support": "Aiuti per chi è in difficoltà",
    "report_outage": "Segnalare un guasto",
    "inform": "Comunicare un dato",
    "rate_service": "Valutare l'assistenza",  # issue 14
    # issue 13
    "identify_by_supply": "Identificarmi con POD o PDR",
    # issue 12
    "submit_meter_reading": "Comunicare l'autolettura",
    "ask_payment_methods": "Come pagare le bollette",
    "report_payment": "Ho già pagato",
    "file_complaint": "Presentare un reclamo",
    "request_bill_copy": "Avere una copia della bolletta",
    "ask_bill_explanation": "Capire perché la bolletta è alta",
    "send_photo": "Inviare una foto",
    "request_direct_debit": "Attivare la domiciliazione",
    "revoke_direct_debit": "Revocare la domiciliazione",
    "request_paperless": "Bolletta via e-mail",
    # issue 16
    "follow_up": "Chiedere ancora sullo stesso argomento",
    "correct_value": "Correggere un dato",
}

# Issue 16: two requests in one message are one combined intent, "check_bills+find_store".
MULTI_INTENT_SEPARATOR = "+"

# What each request is about, as the assistant names it when it answers two at once ("Le
# rispondo su entrambe le cose: prima lo sportello, poi le Sue bollette").
REQUEST_PHRASES: dict[str, str] = {
    "check_bills": "le Sue bollette",
    "request_deferral": "lo spostamento della scadenza",
    "request_installments": "il pagamento a rate",
    "ask_late_interest": "gli interessi di mora",
    "ask_bonus_sociale": "il bonus sociale",
    "find_store": "lo sportello",
    "request_human": "il passaggio a un operatore",
}


def parts(intent: str) -> list[str]:
    """The requests of a combined intent ("check_bills+find_store" -> both), or the intent."""
    return intent.split(MULTI_INTENT_SEPARATOR)


def combined_label(intent: str) -> str:
    """A combined intent's button title: its requests' labels joined ("... e trovare uno sportello")."""
    first, *rest = (INTENT_LABELS[name] for name in parts(intent))
    return " e ".join([first, *(label[:1].lower() + label[1:] for label in rest)])


INTENT_LABELS.update({name: combined_label(name) for name in domain_intents() if MULTI_INTENT_SEPARATOR in name})

# The fallback's last button ("none of these"): it sends /out_of_scope, which Rasa reads as a denial.
NONE_OF_THESE = "Nessuna di queste"

# Intents that carry no request of their own: courtesy, answers to a question, data, and what
# the assistant does not handle. Every other intent of domain.yml is a request (the NLU
# evaluation measures how often out-of-scope messages are taken for one).
CONVERSATION_INTENTS: frozenset[str] = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope", "inform"}
    # issue 14: the rating answers the question asked after a conversation with a person
    | {"rate_service"}
    # issue 16: a follow-up or a correction continues the request of the conversation
    | {"follow_up", "correct_value"}
    # issue 12: a photo is not read; the answer asks for the words (the meter's numbers)
    | {"send_photo"}
)


def request_intents() -> list[str]:
    """The intents of domain.yml that are customer requests (check_bills, find_store, ...); two
    requests in one message (issue 16) are not one more request."""
    return [
        name for name in domain_intents() if name not in CONVERSATION_INTENTS and MULTI_INTENT_SEPARATOR not in name
    ]
