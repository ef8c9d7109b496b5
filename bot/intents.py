"""What each intent means to a customer, in Italian: button titles and summaries.

The two-stage fallback's "Did you mean ...?" buttons use these labels (actions/fallback.py).
Keys are the intents of domain.yml (today exactly the 17 the contract fixes); an intent
without a label here is never offered as a button.
"""

from __future__ import annotations

from typing import Dict, FrozenSet

INTENT_LABELS: Dict[str, str] = {
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
}

# Intents never offered as "Did you mean ...?": they are not requests a customer would pick.
NOT_SUGGESTED: FrozenSet[str] = frozenset(
    {"nlu_fallback", "out_of_scope", "affirm", "deny", "inform", "greet", "thank", "goodbye"}
)
