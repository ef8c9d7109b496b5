"""bot/selector_gate.py: which messages reach Rasa's response selector (issue 15). The server
test (tests/test_assistant_server.py) checks it on the trained model."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot import selector_gate


def message(intent: str | None) -> Message:
    data = {"text": "x"}
    if intent is not None:
        data["intent"] = {"name": intent, "confidence": 0.9}
    return Message(data=data)


@pytest.mark.parametrize(
    ("intent", "retrieval_intent", "selected"),
    [
        ("faq", "faq", True),
        ("check_bills+faq", "faq", True),
        ("faq+find_store", "faq", True),
        ("check_bills", "faq", False),
        ("faqs", "faq", False),
        ("nlu_fallback", "faq", False),
        (None, "faq", False),
        ("check_bills", None, True),  # a selector for every retrieval intent: always, as Rasa
    ],
)
def test_which_messages_need_a_selection(intent, retrieval_intent, selected) -> None:
    assert selector_gate.needs_selection(message(intent), retrieval_intent) is selected


def test_only_those_messages_reach_rasas_selector(monkeypatch) -> None:
    seen: list[list[Message]] = []
    monkeypatch.setattr(selector_gate, "_process", lambda self, messages: seen.append(messages) or messages)
    selector = SimpleNamespace(retrieval_intent="faq")
    batch = [message("faq"), message("check_bills"), message("check_bills+faq")]
    assert selector_gate.process(selector, batch) is batch  # every message goes on down the pipeline
    assert seen == [[batch[0], batch[2]]]
    seen.clear()
    selector_gate.process(selector, [message("greet")])
    assert seen == []  # no selection at all: no TensorFlow call
