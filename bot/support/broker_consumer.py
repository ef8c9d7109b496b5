"""Feeds the conversation summaries from Rasa's event broker (production profile).

    python -m bot.support.broker_consumer

Reads the RabbitMQ queue that Rasa's pika broker publishes every event to (`RABBITMQ_QUEUE`),
folds the events into `conversation_summaries` (support database) and acknowledges them only
after the transaction is committed: a crash in between redelivers them, and folding an event
twice changes nothing (`bot.support.summaries`). The queue and Rasa's exchange are declared as
Rasa declares them, so either may start first. When RabbitMQ or the database goes away the
consumer tries again after a growing pause; meanwhile the durable queue keeps Rasa's persistent
messages, so the review lags behind and nothing is lost.

The logs carry counts and error types only: no texts, no conversation ids (a WhatsApp
conversation id is a phone number), no database error messages (they quote the parameters).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from typing import Any

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage, AbstractQueue
from aio_pika.exceptions import AMQPError, ChannelInvalidStateError
from rasa.core.brokers.pika import RABBITMQ_EXCHANGE
from sqlalchemy.exc import SQLAlchemyError
from yarl import URL

from bot.db import session_factory
from bot.settings import Settings, get_settings
from bot.support.db import make_engine, upgrade_schema
from bot.support.summaries import fold_into

log = logging.getLogger("bot.support.broker_consumer")

BATCH = 200  # events folded in one transaction, at most
GATHER_S = 0.5  # how long a batch waits for more events: the review lags by that much at most
FIRST_PAUSE_S, LONGEST_PAUSE_S = 1.0, 30.0
CONNECTION_ERRORS = (OSError, asyncio.TimeoutError, AMQPError, ChannelInvalidStateError)


def decode(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(conversation id, event) pairs of a message: one event as Rasa publishes it, or the events
    of one save as the project's tracker store publishes them (`{"sender_id", "events": [...]}`);
    none if it is neither."""
    try:
        message = json.loads(body)
    except ValueError:
        return []
    if not isinstance(message, dict) or not isinstance(message.get("sender_id"), str):
        return []
    sender_id = message.pop("sender_id")
    if isinstance(message.get("events"), list):
        return [(sender_id, event) for event in message["events"] if isinstance(event, dict) and "event" in event]
    return [(sender_id, message)] if "event" in message else []


class Pause:
    """A wait that doubles at each failure, up to a limit, and starts over after a success."""

    def __init__(self) -> None:
        self.seconds = FIRST_PAUSE_S

    def reset(self) -> None:
        self.seconds = FIRST_PAUSE_S

    async def wait(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), self.seconds)
        self.seconds = min(self.seconds * 2, LONGEST_PAUSE_S)


async def declare(connection: AbstractConnection, queue_name: str) -> AbstractQueue:
    """Rasa's fanout exchange and the durable queue bound to it, declared with Rasa's arguments
    (rasa/core/brokers/pika.py): a different argument would make one of the two fail."""
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=BATCH)
    exchange = await channel.declare_exchange(RABBITMQ_EXCHANGE, type=aio_pika.ExchangeType.FANOUT)
    queue = await channel.declare_queue(queue_name, durable=True)
    await queue.bind(exchange, "")
    return queue


async def connect(settings: Settings) -> AbstractConnection:
    if settings.rabbitmq_host.startswith("amqp"):  # Rasa's `url` may be a whole AMQP URL
        url = URL(settings.rabbitmq_host)
        if not url.user:  # as Rasa does: the credentials from their own settings
            url = url.with_user(settings.rabbitmq_user).with_password(settings.rabbitmq_password)
        return await aio_pika.connect(url, timeout=10)
    return await aio_pika.connect(
        host=settings.rabbitmq_host, login=settings.rabbitmq_user, password=settings.rabbitmq_password, timeout=10
    )


class BrokerConsumer:
    """Folds the events of the queue into the summaries, in batches, acknowledging after commit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions = session_factory(make_engine(settings.support_database_url))
        self.folded = 0

    def fold(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        with self.sessions() as session, session.begin():
            fold_into(session, events)

    async def acknowledge(self, last: AbstractIncomingMessage) -> None:
        """Everything up to `last` on its channel is folded and committed."""
        await last.ack(multiple=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, reconnecting whenever RabbitMQ goes away."""
        pause = Pause()
        while not stop.is_set():
            try:
                connection = await connect(self.settings)
            except CONNECTION_ERRORS as error:
                log.warning("RabbitMQ not reachable (%s); trying again in %.0f s", type(error).__name__, pause.seconds)
                await pause.wait(stop)
                continue
            try:
                async with connection:
                    await self._consume(connection, stop, pause)
            except CONNECTION_ERRORS as error:
                log.warning(
                    "RabbitMQ connection lost (%s); unacknowledged events will be delivered again", type(error).__name__
                )
                await pause.wait(stop)

    async def _consume(self, connection: AbstractConnection, stop: asyncio.Event, pause: Pause) -> None:
        inbox: asyncio.Queue[AbstractIncomingMessage | None] = asyncio.Queue()
        connection.close_callbacks.add(lambda *_: inbox.put_nowait(None))
        queue = await declare(connection, self.settings.rabbitmq_queue)
        await queue.consume(inbox.put)
        pause.reset()
        log.info("consuming queue %s", self.settings.rabbitmq_queue)
        while not stop.is_set():
            batch = await self._next_batch(inbox)
            if None in batch or connection.is_closed:
                raise aio_pika.exceptions.AMQPConnectionError("connection closed")
            if batch:
                await self._fold_and_acknowledge(batch, stop, pause)

    async def _next_batch(self, inbox: asyncio.Queue[AbstractIncomingMessage | None]) -> list[Any]:
        """The events that arrive within GATHER_S of the first one (at most BATCH): one
        transaction for a turn's dozen events instead of one each (a third of a core under
        `make load` when it was one each)."""
        try:
            batch = [await asyncio.wait_for(inbox.get(), timeout=1.0)]
        except asyncio.TimeoutError:
            return []
        deadline = asyncio.get_running_loop().time() + GATHER_S
        while len(batch) < BATCH and batch[-1] is not None:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 and inbox.empty():
                break
            try:
                batch.append(
                    inbox.get_nowait() if not inbox.empty() else await asyncio.wait_for(inbox.get(), remaining)
                )
            except asyncio.TimeoutError:
                break
        return batch

    async def _fold_and_acknowledge(
        self, batch: list[AbstractIncomingMessage], stop: asyncio.Event, pause: Pause
    ) -> None:
        decoded = [decode(message.body) for message in batch]
        events = [event for events in decoded for event in events]
        if not all(decoded):
            log.warning("%d messages were not Rasa events; dropped", sum(1 for events in decoded if not events))
        try:
            await asyncio.to_thread(self.fold, events)
        except SQLAlchemyError as error:
            log.error(
                "support database unavailable (%s); %d events go back to the queue, trying again in %.0f s",
                type(error).__name__,
                len(batch),
                pause.seconds,
            )
            await batch[-1].nack(multiple=True, requeue=True)
            await pause.wait(stop)
            return
        await self.acknowledge(batch[-1])
        pause.reset()
        self.folded += len(events)
        log.debug("%d events folded", len(events))


def queue_consumers(settings: Settings) -> int:
    """How many consumers read the queue (0 if it does not exist yet or RabbitMQ is away)."""

    async def count() -> int:
        connection = await connect(settings)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(settings.rabbitmq_queue, passive=True)
            return queue.declaration_result.consumer_count or 0

    try:
        return asyncio.run(count())
    except CONNECTION_ERRORS:
        return 0


def migrate(settings: Settings) -> None:
    """The support database's schema, waiting for the database (or for another process
    migrating it at the same moment) with the same growing pause."""
    pause = FIRST_PAUSE_S
    while True:
        try:
            upgrade_schema(settings.support_database_url)
            return
        except SQLAlchemyError as error:
            log.warning("support database not ready (%s); trying again in %.0f s", type(error).__name__, pause)
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)


async def _serve(consumer: BrokerConsumer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await consumer.run(stop)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for chatty in ("aio_pika", "aiormq", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    settings = get_settings()
    migrate(settings)
    asyncio.run(_serve(BrokerConsumer(settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
