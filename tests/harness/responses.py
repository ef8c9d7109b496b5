"""What the customer reads when an in-process test runs an action: the messages the action sent,
rendered by Rasa the way the Rasa server renders an action server's answer.

The actions send domain.yml responses (`dispatcher.utter_message(response=..., **variables)`);
Rasa's RemoteAction fills them with the response variables and the slots, picks the channel's
or the condition's variation, and adds the buttons the action sent. This helper hands the
messages to that same code (RemoteAction._utter_responses) with the project's domain.yml.
"""

from __future__ import annotations

import asyncio
import copy
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.domain import DOMAIN_FILE


@functools.lru_cache(maxsize=1)
def project_domain() -> Domain:
    return Domain.load(str(DOMAIN_FILE))


class _Channel(CollectingOutputChannel):
    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def name(self) -> str:
        return self._name


def rendered(
    messages: Iterable[Mapping[str, Any]], slots: Mapping[str, Any] | None = None, channel: str = "rest"
) -> list[dict[str, Any]]:
    """The bot messages (text, buttons, ...) Rasa would send for the action's `messages`, with
    the tracker's `slots` set (a response variable the action does not pass comes from them)."""
    domain = project_domain()
    tracker = DialogueStateTracker("unit", domain.slots)
    for name, value in (slots or {}).items():
        if any(slot.name == name for slot in domain.slots):
            tracker.update(SlotSet(name, value))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    uttered = asyncio.run(
        RemoteAction._utter_responses([copy.deepcopy(dict(m)) for m in messages], _Channel(channel), nlg, tracker)
    )
    return [{"text": event.text, **{k: v for k, v in event.data.items() if v}} for event in uttered]


def said(messages: Iterable[Mapping[str, Any]], slots: Mapping[str, Any] | None = None, channel: str = "rest") -> str:
    """The texts of `rendered`, one after the other."""
    return " ".join(m["text"] or "" for m in rendered(messages, slots, channel))
