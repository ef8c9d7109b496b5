"""The broker consumer against the machine's RabbitMQ and a temporary PostgreSQL database: what
Rasa's own pika broker publishes ends up in the summaries, through a consumer killed and started
again, and through a batch RabbitMQ delivers twice. Fails under CI=true when a service is missing."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from typing import Any, Callable, Dict, List

import aio_pika
import pytest
import rasa.shared.core.events  # noqa: F401 - Rasa's pika broker uses it without importing it
from rasa.core.brokers.pika import PikaEventBroker
from sqlalchemy import select

from bot.db import session_factory
from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT, Settings
from bot.support.broker_consumer import BrokerConsumer, queue_consumers
from bot.support.db import make_engine, upgrade_schema
from bot.support.models import ConversationSummary
from tests.harness.services import service_missing, temporary_postgres_database
from tests.support.recorded import CONVERSATION, EVENTS, folded, state

FISCAL_CODE = "RSSMRA80A01H501U"


@pytest.fixture
def settings():
    queue = f"assistente_test_{uuid.uuid4().hex[:8]}"
    probe = Settings(_env_file=None, rabbitmq_queue=queue)
    try:
        asyncio.run(_delete_queue(probe))  # also: is RabbitMQ there?
    except OSError as error:
        service_missing("RabbitMQ at 127.0.0.1:5672", error)
    with temporary_postgres_database() as database:
        upgrade_schema(database)
        yield probe.copy(update={"support_database_url": database})
    asyncio.run(_delete_queue(probe))


async def _delete_queue(settings: Settings) -> None:
    connection = await aio_pika.connect(host=settings.rabbitmq_host, login=settings.rabbitmq_user,
                                        password=settings.rabbitmq_password)
    async with connection:
        await (await connection.channel()).queue_delete(settings.rabbitmq_queue)


async def _publish(settings: Settings, sender_id: str, events: List[Dict[str, Any]]) -> None:
    """As a Rasa replica does: Rasa's PikaEventBroker, which declares the exchange and the queue
    with its own arguments (a consumer that declared them otherwise would make it fail)."""
    broker = PikaEventBroker(settings.rabbitmq_host, settings.rabbitmq_user, settings.rabbitmq_password,
                             queues=[settings.rabbitmq_queue], raise_on_failure=True)
    await broker.connect()
    for event in events:
        broker.publish({"sender_id": sender_id, **event})
    while broker._background_tasks:  # publish() sends from background tasks
        await asyncio.sleep(0.05)
    await broker.close()


def publish(settings: Settings, events: List[Dict[str, Any]], sender_id: str = CONVERSATION) -> None:
    asyncio.run(_publish(settings, sender_id, events))


def summary_of(settings: Settings, conversation_id: str = CONVERSATION):
    with session_factory(make_engine(settings.support_database_url))() as session:
        return session.execute(select(ConversationSummary).where(
            ConversationSummary.conversation_id == conversation_id)).scalar_one_or_none()


def wait_until(condition: Callable[[], Any], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"not within {seconds} s")


def start_consumer(settings: Settings, log) -> subprocess.Popen:
    env = service_environment(SUPPORT_DATABASE_URL=settings.support_database_url, RABBITMQ_QUEUE=settings.rabbitmq_queue)
    return subprocess.Popen([sys.executable, "-m", "bot.support.broker_consumer"], cwd=PROJECT_ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def test_what_rasa_publishes_is_folded_through_a_killed_consumer(settings, tmp_path):
    half = len(EVENTS) // 2
    with open(tmp_path / "consumer.log", "ab") as log:
        consumer = start_consumer(settings, log)  # first: it declares the queue, Rasa's broker then agrees
        try:
            wait_until(lambda: queue_consumers(settings) == 1)
            publish(settings, EVENTS[:half])
            wait_until(lambda: (summary_of(settings) or folded([])).last == EVENTS[half - 1]["timestamp"])
            consumer.send_signal(signal.SIGKILL)
            consumer.wait(timeout=10)
            publish(settings, EVENTS[half:])  # nobody consumes: the queue keeps them
            assert state(summary_of(settings)) == state(folded(EVENTS[:half]))
            consumer = start_consumer(settings, log)
            wait_until(lambda: summary_of(settings).last == EVENTS[-1]["timestamp"])
        finally:
            consumer.terminate()
            assert consumer.wait(timeout=20) == 0  # SIGTERM: a clean stop
    assert state(summary_of(settings)) == state(folded(EVENTS))
    written = (tmp_path / "consumer.log").read_text()
    assert "consuming queue" in written
    assert FISCAL_CODE not in written and CONVERSATION not in written and "Mario" not in written


class CrashesBeforeTheFirstAcknowledgement(BrokerConsumer):
    """Commits the first batch, then loses the connection instead of acknowledging it: RabbitMQ
    delivers the batch again, to the consumer reconnected."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.crashed = False
        self.redelivered = 0

    async def acknowledge(self, last) -> None:
        if not self.crashed:
            self.crashed = True
            raise aio_pika.exceptions.AMQPConnectionError("simulated crash between commit and acknowledgement")
        self.redelivered += last.redelivered
        await super().acknowledge(last)


def test_a_batch_delivered_again_is_not_counted_twice(settings):
    consumer = CrashesBeforeTheFirstAcknowledgement(settings)

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(consumer.run(stop))
        await _publish(settings, CONVERSATION, EVENTS)
        await _publish(settings, "altra", EVENTS[:4])
        deadline = time.monotonic() + 30
        while not (consumer.redelivered and consumer.folded >= len(EVENTS) + 4) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        stop.set()
        await running

    asyncio.run(scenario())
    assert consumer.crashed and consumer.redelivered  # the first batch came back, flagged as redelivered
    assert state(summary_of(settings)) == state(folded(EVENTS))
    assert summary_of(settings).user_turns == 8 and summary_of(settings, "altra").user_turns == 1
