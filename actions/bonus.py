"""Bonus sociale: the rules in force today, personalised when the customer gives ISEE or children."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apologise_backend_down, billing, guarded
from bot.billing.client import BillingUnavailable, run_blocking
from bot.dates import NUMBERS
from bot.folding import fold
from bot.formatters import bonus_sociale
from bot.rules.engine import BonusThresholds, bonus_sociale_eligible

# Bounded repetitions: linear on any text, and no digit string too long for int().
_ISEE = re.compile(r"isee[^\d]{0,25}(\d{1,3}(?:[.\s]\d{3}){1,3}|\d{1,12})(?!\d)(?:,(\d{1,2}))?", re.I)
_CHILDREN = re.compile(r"\b(\d+|" + "|".join(NUMBERS) + r")\s+figli", re.I)


def isee_in(text: str) -> int | None:
    """The ISEE value a message states, in integer cents ("ISEE di 9.000,50 euro" -> 900050)."""
    match = _ISEE.search(text or "")
    if not match:
        return None
    whole = re.sub(r"[.\s]", "", match.group(1))
    return int(whole) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def children_in(text: str) -> int | None:
    match = _CHILDREN.search(text or "")
    if not match:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else NUMBERS.get(word)


# Issue 16: "entro quando devo presentare la domanda?" after the bonus answer (folded text).
_DEADLINE = re.compile(r"\bentro quando\b|\bfino a quando\b|\bscadenz\w*|\btermine\b", re.I)


def remembered(tracker: Tracker, slot: str) -> int | None:
    value = tracker.get_slot(slot)
    return None if value is None else int(value)


class ActionBonusSociale(Action):
    """The bonus answer; a follow-up ("e con 4 figli?") keeps the ISEE or the children the
    customer gave before in the conversation (slots bonus_isee_cents, bonus_children)."""

    def name(self) -> str:
        return "action_bonus_sociale"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            rules = await run_blocking(billing().bonus_sociale_rules)
        except BillingUnavailable:
            return apologise_backend_down(dispatcher)
        text = (tracker.latest_message.get("text") or "")[:1000]
        thresholds = BonusThresholds.of(rules)
        isee, children = isee_in(text), children_in(text)
        if isee is None and children is None and _DEADLINE.search(fold(text)):
            if rules["deadlines"]:
                dispatcher.utter_message(text="\n".join([*rules["deadlines"], rules["how"]]))
            else:
                dispatcher.utter_message(response="utter_bonus_no_deadline", how=rules["how"])
            return []
        # a figure the message does not give is the one the customer gave before, if any
        isee = remembered(tracker, "bonus_isee_cents") if isee is None else isee
        children = remembered(tracker, "bonus_children") if children is None else children
        eligible = None if isee is None else bonus_sociale_eligible(thresholds, isee, children)
        dispatcher.utter_message(text=bonus_sociale(rules, thresholds, isee, children, eligible))
        return [SlotSet("bonus_isee_cents", isee), SlotSet("bonus_children", children)]
