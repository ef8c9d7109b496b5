"""RulePolicy's search for applicable rules stops where no rule reaches (issue 15), installed by
bot/rasa_main.py.

For every prediction Rasa's RulePolicy narrows its 214 rules (config.yml, data/rules.yml) down to
those that match the conversation, walking back over every past state of the session (it has no
`max_history`) and filtering the remaining rules at each one. A rule with n states is decided
by the conversation's last n states: further back, `_is_rule_applicable` keeps it unconditionally
("we got further in the conversation history than the rule's length"). So once the walk is past
the longest remaining rule, every later step keeps every rule: the walk stops there, with the
same rules kept. On a long conversation that walk was the part of RulePolicy that grew with the
session (docs/performance.md).
"""

from __future__ import annotations

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.generator import State

from bot.rasa_compat import require

require("rasa", __name__)

RASA_GET_POSSIBLE_KEYS = RulePolicy._get_possible_keys


def get_possible_keys(self: RulePolicy, lookup: dict[str, str], states: list[State]) -> set[str]:
    """Rasa's `_get_possible_keys`, stopping after the longest remaining rule's length."""
    possible_keys = set(lookup.keys())
    reach = max((len(self._rule_key_to_state(key)) for key in possible_keys), default=0)
    for i, state in enumerate(reversed(states)):
        if i >= reach:
            break  # every remaining rule is shorter than i: Rasa's filter keeps them all
        possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, i, state)}
    return possible_keys


def install() -> None:
    RulePolicy._get_possible_keys = get_possible_keys
