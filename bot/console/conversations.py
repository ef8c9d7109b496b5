"""All conversations, read from Rasa's SQL tracker store (table `events`), for review,
metrics and retention.

Rasa writes the store; the console reads it (SQLAlchemy Core, 2.0 style) and, for retention
and erasure only, deletes from it. Conversations are summarised in Python from their events:
fine for the embedded profile; the production profile can feed a summary table from Rasa's
event broker instead (see the production issue).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Set

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, select
from sqlalchemy.engine import Engine

from bot import db

LOW_CONFIDENCE = 0.5
_metadata = MetaData()
EVENTS = Table(
    "events", _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@dataclass
class Conversation:
    id: str
    started: float
    last: float
    channel: Optional[str] = None
    user_turns: int = 0
    intents: Set[str] = field(default_factory=set)
    fallback: bool = False
    low_confidence: bool = False
    handed_off: bool = False
    verified: bool = False
    customer_code: Optional[str] = None
    names: List[str] = field(default_factory=list)
    texts: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id, "started": _iso(self.started), "last": _iso(self.last), "channel": self.channel,
            "user_turns": self.user_turns, "intents": sorted(self.intents), "fallback": self.fallback,
            "low_confidence": self.low_confidence, "handed_off": self.handed_off, "verified": self.verified,
        }


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


class ConversationStore:
    def __init__(self, tracker_store_url: str) -> None:
        self.engine: Engine = db.make_engine(tracker_store_url)

    def _rows(self, sender_ids: Optional[Iterable[str]] = None):
        query = select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.intent_name,
                       EVENTS.c.action_name, EVENTS.c.data).order_by(EVENTS.c.sender_id, EVENTS.c.id)
        if sender_ids is not None:
            query = query.where(EVENTS.c.sender_id.in_(list(sender_ids)))
        with self.engine.connect() as connection:
            yield from connection.execute(query)

    def conversations(self) -> List[Conversation]:
        """Every conversation, most recent first."""
        found: Dict[str, Conversation] = {}
        for row in self._rows():
            conversation = found.get(row.sender_id)
            if conversation is None:
                conversation = found[row.sender_id] = Conversation(row.sender_id, row.timestamp, row.timestamp)
            conversation.last = max(conversation.last, row.timestamp or 0)
            event = json.loads(row.data or "{}")
            if row.type_name == "user":
                conversation.user_turns += 1
                conversation.channel = event.get("input_channel") or conversation.channel
                intent = (event.get("parse_data") or {}).get("intent") or {}
                if intent.get("name"):
                    conversation.intents.add(intent["name"])
                conversation.fallback |= intent.get("name") == "nlu_fallback"
                conversation.low_confidence |= (intent.get("confidence") or 1) < LOW_CONFIDENCE
                conversation.texts.append(event.get("text") or "")
            elif row.type_name == "bot":
                conversation.texts.append(event.get("text") or "")
            elif row.type_name == "pause":
                conversation.handed_off = True
            elif row.type_name == "slot" and event.get("name") == "customer_verified" and event.get("value"):
                conversation.verified = True
            elif row.type_name == "slot" and event.get("name") == "customer_code" and event.get("value"):
                conversation.customer_code = str(event["value"])
            elif row.type_name == "slot" and event.get("name") == "customer_name" and event.get("value"):
                conversation.names.append(str(event["value"]))
        return sorted(found.values(), key=lambda c: c.last, reverse=True)

    def events(self, sender_id: str) -> List[Dict[str, Any]]:
        return [json.loads(row.data or "{}") for row in self._rows([sender_id])]

    def erase(self, sender_ids: Iterable[str]) -> int:
        ids = list(sender_ids)
        if not ids:
            return 0
        with self.engine.begin() as connection:
            return connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(ids))).rowcount

    def older_than(self, cutoff: datetime) -> List[str]:
        limit = cutoff.replace(tzinfo=timezone.utc).timestamp() if cutoff.tzinfo is None else cutoff.timestamp()
        return [c.id for c in self.conversations() if c.last < limit]

    def of_customer(self, customer_code: str) -> List[str]:
        return [c.id for c in self.conversations() if c.customer_code == customer_code]
