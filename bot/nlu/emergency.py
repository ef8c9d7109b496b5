"""The emergency safety net (issue 13): a gas smell or leak, a power cut, is `report_outage`
whatever the classifier thought, so that the emergency numbers are never missed.

A component of the NLU pipeline (config.yml), after the FallbackClassifier: on a message whose
words say "gas" near "smell/leak/escaping" or "without/no/cut" near "electricity", it puts
`report_outage` first with confidence 1.0. Words are compared accent-folded (bot/folding.py)
and by token windows, linear in the message length (no regular expression backtracking).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.folding import fold

EMERGENCY_INTENT = "report_outage"
MAX_CHARS = 2000  # the channels' message cap: nothing longer reaches the pipeline
_WORD = re.compile(r"[a-z0-9]+")

GAS = frozenset({"gas", "metano"})
GAS_DANGER = frozenset(
    {
        "odore",
        "odori",
        "puzza",
        "puzzo",
        "tanfo",
        "fuga",
        "fughe",
        "perdita",
        "perdite",
        "perde",
        "perdendo",
        "esce",
        "uscire",
        "fuoriesce",
        "fuoriuscita",
        "sento",
        "sente",
        "sentiamo",
        "sentito",
        "fischia",
        "sibilo",
        "soffia",
        "odora",
        "sa",
        "esplosione",
        "scoppio",
        "respirare",
    }
)
POWER = frozenset({"luce", "corrente", "elettricita", "energia", "blackout"})
POWER_LOSS = frozenset(
    {
        "senza",
        "manca",
        "mancanza",
        "mancata",
        "niente",
        "saltata",
        "saltato",
        "salta",
        "saltano",
        "andata",
        "via",
        "interruzione",
        "interrotta",
        "staccata",
        "spenta",
        "buio",
        "rimasto",
        "rimasta",
        "rimasti",
    }
)
# Words between a loss word and "luce" that make it about a bill or an offer, not the supply.
NOT_SUPPLY = frozenset({"bolletta", "bollette", "fattura", "fatture", "offerta", "contratto", "tariffa", "bonus"})
WINDOW = 3


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text[:MAX_CHARS]))


def _near(tokens: list[str], first: frozenset[str], second: frozenset[str], both_ways: bool) -> bool:
    for i, token in enumerate(tokens):
        if token not in first:
            continue
        after = tokens[i + 1 : i + 1 + WINDOW]
        for other in after:
            if other in NOT_SUPPLY:
                break
            if other in second:
                return True
        if both_ways and any(other in second for other in tokens[max(0, i - WINDOW) : i]):
            return True
    return False


def is_emergency(text: str) -> bool:
    """Whether a customer's message reports a gas danger or a power cut."""
    tokens = words(text or "")
    if "blackout" in tokens or any(a == "black" and b == "out" for a, b in itertools.pairwise(tokens)):
        return True
    return _near(tokens, GAS_DANGER, GAS, both_ways=True) or _near(tokens, POWER_LOSS, POWER, both_ways=False)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyKeywords(GraphComponent):
    """Overrides the intent with report_outage when is_emergency(text)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmergencyKeywords:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith("/") or not is_emergency(text):
                continue
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != EMERGENCY_INTENT]
            top = {"name": EMERGENCY_INTENT, "confidence": 1.0}
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
        return messages
