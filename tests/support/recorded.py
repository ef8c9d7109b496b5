"""A real conversation recorded from the tracker store of the running assistant (REST, business
day 2026-11-26): greeting, a message not understood, Mario Rossi verified and his bills, a request
for a person (the bot pauses), one more message. The customer token slot is blanked out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterable, List

from bot.support.models import ConversationSummary
from bot.support.summaries import fold, new_summary

CONVERSATION = "registrata-1"
EVENTS: List[Dict[str, Any]] = json.loads(Path(__file__).with_name("recorded_conversation.json").read_text())


def state(summary: ConversationSummary) -> Dict[str, Any]:
    """Every column of a summary but its key, for comparisons."""
    return {column.name: getattr(summary, column.name) for column in ConversationSummary.__table__.columns
            if column.name != "conversation_id"}


def folded(events: Iterable[Dict[str, Any]]) -> ConversationSummary:
    """The recorded conversation's summary after these events."""
    summary = new_summary(CONVERSATION)
    for event in events:
        fold(summary, event)
    return summary
