"""Bonus sociale: the rules in force today, personalised when the customer gives ISEE or children."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apologise_backend_down, billing, guarded
from bot.billing.client import BillingUnavailable, run_blocking
from bot.dates import NUMBERS

_ISEE = re.compile(r"isee[^\d]{0,25}(\d{1,3}(?:[.\s]\d{3})*|\d+)(?:,(\d{1,2}))?", re.I)
_CHILDREN = re.compile(r"\b(\d+|" + "|".join(NUMBERS) + r")\s+figli", re.I)


def _euros(amount: float) -> str:
    return f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".").replace(",00", "") + " €"


def isee_in(text: str) -> Optional[Decimal]:
    match = _ISEE.search(text or "")
    if not match:
        return None
    whole = re.sub(r"[.\s]", "", match.group(1))
    return Decimal(f"{whole}.{match.group(2) or '0'}")


def children_in(text: str) -> Optional[int]:
    match = _CHILDREN.search(text or "")
    if not match:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else NUMBERS.get(word)


class ActionBonusSociale(Action):
    def name(self) -> Text:
        return "action_bonus_sociale"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        try:
            rules = await run_blocking(billing().bonus_sociale_rules)
        except BillingUnavailable:
            return apologise_backend_down(dispatcher)
        text = tracker.latest_message.get("text") or ""
        lines = [
            f"{rules['how']} La soglia ISEE in vigore è {_euros(rules['isee_threshold_eur'])}, "
            f"{_euros(rules['large_family_isee_threshold_eur'])} per le famiglie con almeno "
            f"{rules['large_family_min_children']} figli a carico.",
        ]
        lines += rules["deadlines"]
        isee, children = isee_in(text), children_in(text)
        if isee is not None:
            large = children is not None and children >= rules["large_family_min_children"]
            limit = rules["large_family_isee_threshold_eur"] if large else rules["isee_threshold_eur"]
            verdict = "rientra" if float(isee) <= limit else "non rientra"
            lines.append(f"Con un ISEE di {_euros(float(isee))} {verdict} nella soglia di {_euros(limit)}"
                         + (" prevista per le famiglie numerose." if large else "."))
        lines.append(rules["disagio_fisico"])
        dispatcher.utter_message(text="\n".join(lines))
        return []
