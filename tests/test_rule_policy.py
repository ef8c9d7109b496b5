"""bot/rule_policy.py (issue 15): RulePolicy's applicable rules, with the walk over past states
stopped after the longest rule, are Rasa's, for the trained model's 214 rules and the states of
the recorded conversation after every event (with a restart, loops and the conversation twice)."""

from __future__ import annotations

import json
import tarfile

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Restarted, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rule_policy, tracker_history
from bot.ops.train import ensure_model
from bot.settings import PROJECT_ROOT
from tests.test_tracker_cache import SENDER, _with_reverts_restarts_and_loops


@pytest.fixture(scope="module")
def lookup() -> dict[str, dict[str, str]]:
    with tarfile.open(ensure_model()) as model:
        member = next(name for name in model.getnames() if name.endswith("rule_policy.json"))
        stored = json.load(model.extractfile(member))  # type: ignore[arg-type]
    lookup: dict[str, dict[str, str]] = {
        name: stored["lookup"][name] for name in ("rules", "rules_for_loop_unhappy_path")
    }
    assert len(lookup["rules"]) > 100
    return lookup


def test_the_same_rules_are_applicable_after_every_event(lookup) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    policy = object.__new__(RulePolicy)  # the two methods read no configuration
    tracker = DialogueStateTracker(SENDER, domain.slots)
    longest = 0
    once = _with_reverts_restarts_and_loops()
    # then the same turns twice more without restarts: a conversation as long as a busy one
    again = [e for e in once if not isinstance(e, (Restarted, SessionStarted))]
    for event in [*once, *again, *again]:
        tracker.update(event)
        states = tracker_history.RASA_STATES_FOR_TRACKER_HISTORY(domain, tracker)
        longest = max(longest, len(states))
        for table in lookup.values():
            assert rule_policy.get_possible_keys(policy, table, states) == rule_policy.RASA_GET_POSSIBLE_KEYS(
                policy, table, states
            )
    assert longest > 30  # long enough for the early stop to matter (rules have a few states)
