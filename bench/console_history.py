"""A synthetic history of conversations for the console's benchmark (`make bench-console`) and its
scale tests, written through the project's own write path:

- the events are Rasa's own (`rasa.shared.core.events`, `as_dict()`), stored in Rasa's `events`
  table (Rasa's `SQLTrackerStore.SQLEvent` model) with the columns `bot.rasa_stores.save` fills;
- the summaries, text index and rollups come from the fold: the embedded profile's catch-up
  (`ConversationStore.catch_up`, which reads the events table) or, in the production profile,
  the broker consumer's decode-and-fold of the messages the tracker store publishes per save.

No hand-written SQL. Deterministic for a seed: the same call gives the same history.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, SlotSet, UserUttered
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.support.broker_consumer import BrokerConsumer, decode

EVENTS_TABLE = SQLTrackerStore.SQLEvent.__table__
CHANNELS = ("rest", "socketio", "socketio", "whatsapp")
CITIES = ("Prato", "Firenze", "Pistoia", "Empoli", "Livorno", "Lucca", "Pisa", "Siena", "Arezzo", "Massa")
# (intent, what the customer writes, what the bot answers)
TOPICS = (
    ("check_bills", "vorrei sapere l'importo della mia ultima bolletta", "La Sua ultima bolletta è di {n},40 euro."),
    ("report_outage", "manca la corrente in via Roma a {city}", "Ci risulta un guasto nella zona di {city}."),
    ("ask_installments", "posso pagare la bolletta a rate?", "Può chiedere una rateizzazione dall'area clienti."),
    ("self_reading", "voglio comunicare l'autolettura del contatore: {n}", "Autolettura registrata, grazie."),
    ("ask_bonus_sociale", "come funziona il bonus sociale?", "Il bonus sociale si ottiene con l'ISEE."),
    ("find_store", "dov'è lo sportello più vicino a {city}?", "Lo sportello di {city} è in piazza Duomo."),
    ("change_plan", "vorrei cambiare offerta per il gas", "Ecco le offerte per il gas disponibili."),
)
NAMES = ("Mario Rossi", "Giulia Bianchi", "Luca Verdi", "Anna Neri", "Paolo Gallo")


@dataclass(frozen=True)
class Shape:
    """How a synthetic conversation goes (fractions of the history)."""

    fallback: float = 0.08
    handoff: float = 0.12
    verified: float = 0.35


def conversation(number: int, start: float, rng: random.Random, shape: Shape = Shape()) -> tuple[str, list[dict]]:
    """One conversation's id and Rasa events (2 to 4 customer turns)."""
    sender = f"web:bench{number:08d}"
    channel = rng.choice(CHANNELS)
    at = start
    events: list[Any] = [ActionExecuted("action_session_start", timestamp=at)]

    def turn(intent: str, confidence: float, said: str, answer: str) -> None:
        nonlocal at
        at += rng.uniform(2, 40)
        parse = {"intent": {"name": intent, "confidence": confidence}, "entities": [], "text": said}
        events.append(
            UserUttered(
                said,
                intent=parse["intent"],
                parse_data=parse,
                input_channel=channel,
                message_id=f"{number}-{len(events)}",
                timestamp=at,
            )
        )
        events.append(ActionExecuted("utter_answer", timestamp=at + 0.3))
        events.append(BotUttered(answer, data={}, timestamp=at + 0.4))
        events.append(ActionExecuted("action_listen", timestamp=at + 0.5))

    city, amount = rng.choice(CITIES), rng.randint(20, 300)
    for _ in range(rng.randint(2, 4)):
        intent, said, answer = rng.choice(TOPICS)
        turn(intent, rng.uniform(0.6, 0.99), said.format(city=city, n=amount), answer.format(city=city, n=amount))
    if rng.random() < shape.verified:
        code = str(100000 + rng.randint(0, 899999))
        events += [
            SlotSet("customer_code", code, timestamp=at + 1),
            SlotSet("customer_name", rng.choice(NAMES), timestamp=at + 1),
            SlotSet("customer_verified", True, timestamp=at + 1),
        ]
    if rng.random() < shape.fallback:
        turn(
            "nlu_fallback",
            0.3,
            f"il mio codice fiscale è RSSMRA80A01H501U e il cellulare 333 123 {amount:04d}",
            "Mi scusi, non ho capito. Può riformulare?",
        )
    if rng.random() < shape.handoff:
        turn("request_human", 0.95, "vorrei parlare con un operatore", "La passo a un operatore.")
        events.append(ConversationPaused(timestamp=at + 1))
    return sender, [event.as_dict() for event in events]


def history(
    count: int, days: float = 365, now: float | None = None, seed: int = 17, first: int = 0
) -> Iterator[tuple[str, list[dict]]]:
    """`count` conversations spread evenly over the last `days`, oldest first."""
    rng = random.Random(seed + first)  # noqa: S311  (a reproducible synthetic history, no secret)
    end = time.time() if now is None else now
    span = days * 86400
    for number in range(first, first + count):
        start = end - span + span * (number - first) / max(count, 1) + rng.uniform(0, 30)
        yield conversation(number, min(start, end - 600), rng)


def stored_rows(sender: str, events: list[dict]) -> list[dict]:
    """The rows `bot.rasa_stores.UrlSQLTrackerStore.save` writes for these events."""
    return [
        {
            "sender_id": sender,
            "type_name": e["event"],
            "timestamp": e.get("timestamp"),
            "intent_name": (e.get("parse_data") or {}).get("intent", {}).get("name"),
            "action_name": e.get("name"),
            "data": json.dumps(e),
        }
        for e in events
    ]


def store_events(tracker: Engine, conversations: list[tuple[str, list[dict]]]) -> int:
    """Append the conversations' events to the tracker store; the number of events."""
    EVENTS_TABLE.create(tracker, checkfirst=True)
    rows = [row for sender, events in conversations for row in stored_rows(sender, events)]
    with tracker.begin() as connection:
        connection.execute(insert(EVENTS_TABLE), rows)
    return len(rows)


def broker_fold(consumer: BrokerConsumer, conversations: list[tuple[str, list[dict]]]) -> None:
    """What the broker consumer does with the messages the tracker store publishes per save."""
    pairs = [
        pair
        for sender, events in conversations
        for pair in decode(json.dumps({"sender_id": sender, "events": events}).encode())
    ]
    consumer.fold(pairs)
