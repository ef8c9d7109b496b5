"""The production profile (`make run-prod`) against the machine's PostgreSQL, Redis and RabbitMQ:
two Rasa replicas behind nginx share conversations; faults, one per test — a replica killed
mid-conversation, an action server killed, Redis restarted, PostgreSQL stopped for a moment, the
billing backend hanging while several customers need it — lose nothing and leave no conversation
stuck. Fails under CI=true when a service is missing, skips with the reason otherwise."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from typing import Tuple

import pytest
import requests

from bot.ops.run_prod import check_services, production_environment
from bot.settings import Settings
from tests.harness import rest
from tests.harness.assistant import launch_profile
from tests.harness.processes import descendants, service_pid, stop_tree
from tests.harness.production import production_settings, rabbitmqctl, seed_demo_customers
from tests.harness.rest import post_rest, texts
from tests.harness.services import service_missing, temporary_postgres_database


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prod")
    probe = production_environment(Settings(_env_file=None))
    problems = check_services(probe)
    if problems:
        service_missing("; ".join(problems), RuntimeError("production services"))
    if shutil.which(rabbitmqctl()) is None:
        service_missing("rabbitmqctl (a RabbitMQ account for the test)", RuntimeError("rabbitmqctl"))
    queue = f"assistente_test_{uuid.uuid4().hex[:8]}"
    with temporary_postgres_database() as fresh:
        database, env = production_settings(fresh, REDIS_DB="4", REDIS_KEY_PREFIX=queue.replace("_", ""),
                                            RABBITMQ_QUEUE=queue)
        seed_demo_customers(database)  # on purpose, as `make seed`: the profile never seeds
        process, (rasa_port, action_port, billing_port, _) = launch_profile(
            "bot.ops.run_prod", tmp / "prod.log", "production profile ready", database, **env)
        try:
            yield {"url": f"http://127.0.0.1:{rasa_port}", "rasa_port": rasa_port, "action_port": action_port,
                   "billing_port": billing_port, "process": process, "database": database, "queue": queue,
                   "log": tmp / "prod.log", "rest_token": env["REST_CHANNEL_TOKEN"]}
        finally:
            stop_tree(process)
            _delete_queue(queue)


async def _rabbit(queue: str, delete: bool) -> int:
    import aio_pika

    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1/")
    async with connection:
        channel = await connection.channel()
        if delete:
            await channel.queue_delete(queue)
            return 0
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count


def _delete_queue(queue: str) -> None:
    import asyncio

    asyncio.run(_rabbit(queue, delete=True))


def _queued(queue: str) -> int:
    import asyncio

    return asyncio.run(_rabbit(queue, delete=False))


def say(prod, sender, message, retry_on_502: bool = False) -> str:
    """What the bot answers through nginx (tests.harness.rest.say with the profile's token)."""
    return texts(rest.say(prod["url"], sender, message, token=prod["rest_token"], retry_on_502=retry_on_502))


def replica_pid(prod, port: int) -> int:
    return service_pid(prod["process"].pid, [b"run"], port)


def test_a_conversation_across_replicas_and_a_replica_killed_mid_way(prod):
    who = f"p-{uuid.uuid4().hex[:8]}"
    assert "codice cliente" in say(prod, who, "vorrei pagare a rate")
    assert "codice fiscale" in say(prod, who, "100001")
    os.kill(replica_pid(prod, prod["rasa_port"] + 1), signal.SIGKILL)  # one replica dies mid-conversation
    # A request that reaches the dying replica gets 502 (nginx does not resend a POST it already
    # sent: it could be processed twice); the client sends it again and the other replica serves
    # it, with the conversation's history from PostgreSQL.
    verified = say(prod, who, "RSSMRA80A01H501U", retry_on_502=True)
    assert "verificato" in verified and "182,40" in verified
    assert "Confermo?" in say(prod, who, "2")
    assert "piano di rateizzazione è attivo" in say(prod, who, "sì")

    from sqlalchemy import create_engine, text
    engine = create_engine(prod["database"], future=True)
    with engine.connect() as connection:
        users = connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"),
                                   {"s": who}).scalar_one()
        plans = connection.execute(text("SELECT count(*) FROM installment_plans")).scalar_one()
    assert users == 5 and plans == 1  # each message once, one plan

    # the event broker is fed, and its consumer folds the conversation into the console's summaries
    def summary():
        with engine.connect() as connection:
            return connection.execute(text("SELECT user_turns, verified FROM conversation_summaries "
                                           "WHERE conversation_id = :s"), {"s": who}).first()

    deadline = time.monotonic() + 60
    while (summary() or (0,))[0] < users and time.monotonic() < deadline:
        time.sleep(0.5)
    folded = summary()
    engine.dispose()
    assert folded is not None and folded.user_turns == users and folded.verified
    while _queued(prod["queue"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _queued(prod["queue"]) == 0  # nothing left behind in the queue


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_killed_replica_is_started_again(prod):
    """The test kills the replica itself (it does not rely on an earlier test having killed one),
    and passes only when a new process serves the port."""
    port = prod["rasa_port"] + 2
    deadline = time.monotonic() + 300
    while not _answers(port) and time.monotonic() < deadline:  # up first (it may be restarting)
        time.sleep(1)
    killed = replica_pid(prod, port)
    os.kill(killed, signal.SIGKILL)
    while time.monotonic() < deadline + 300:
        try:
            current = replica_pid(prod, port)
        except LookupError:
            current = None  # the respawn wrapper has not started it yet
        if current not in (None, killed) and _answers(port):
            return
        time.sleep(1)
    pytest.fail("the killed replica was not started again")


def test_the_replicas_start_on_a_fresh_database_without_racing(prod):
    """The launcher creates the tracker tables before the two replicas start: on a fresh
    database they no longer race to create them (one used to fail on a UniqueViolation)."""
    log = prod["log"].read_text(errors="replace")
    assert "UniqueViolation" not in log and "duplicate key" not in log


def test_the_log_has_no_library_noise(prod):
    """As `make run`'s (tests/test_assistant_server.py): the launcher creating the schemas, the
    replicas and action servers (one of each restarted above) print no TensorFlow notices,
    Alembic plugin lines or libraries' deprecation warnings (issue 11)."""
    log = prod["log"].read_text(errors="replace")
    assert "production profile ready" in log and "Starting Rasa server" in log
    noise = ("cuda", "onednn", "tensorrt", "context impl", "setup plugin", "deprecationwarning", "deprecated")
    assert [line for line in log.splitlines() if any(word in line.lower() for word in noise)] == []


def test_an_action_server_killed_is_replaced_by_the_other(prod):
    os.kill(service_pid(prod["process"].pid, [b"actions"], prod["action_port"] + 1), signal.SIGKILL)
    # the first turn may reach the dying server (connection reset): nginx sends the action call
    # to the other one (actions are idempotent, see bot/ops/run_prod.py)
    who = f"a-{uuid.uuid4().hex[:8]}"
    for _ in range(3):  # whichever action server nginx picks, the turn is answered
        assert "codice cliente" in say(prod, f"{who}-{_}", "vorrei pagare a rate")


REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def _redis_up() -> bool:
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.RedisError:
        return False


def test_conversations_continue_after_redis_restarts(prod):
    """The lock store's Redis restarts between two turns: locks are gone (they are only locks),
    the replicas reconnect, the conversation goes on."""
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed here: cannot restart it")
    who = f"r-{uuid.uuid4().hex[:8]}"
    assert "codice cliente" in say(prod, who, "vorrei sapere quanto devo pagare")
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379).shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # the server closes the connection as it stops
    try:
        assert not _redis_up()
    finally:
        subprocess.run(REDIS_START, check=True)
        deadline = time.monotonic() + 20
        while not _redis_up() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert _redis_up()
    # the replicas reconnect to the new Redis; the conversation is in PostgreSQL, nothing is lost
    assert "codice fiscale" in say(prod, who, "100003")
    assert "Giuseppe" in say(prod, who, "VRDGPP70C15G702S")


def post(prod, sender: str, message: str, message_id: str) -> requests.Response:
    return post_rest(prod["url"], {"sender": sender, "message": message, "message_id": message_id},
                     token=prod["rest_token"])


def user_messages(prod, sender: str):
    from sqlalchemy import create_engine, text

    engine = create_engine(prod["database"], future=True)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                                       "ORDER BY id"), {"s": sender}).scalars().all()
    engine.dispose()
    import json

    return [json.loads(row)["text"] for row in rows]


def widget_says(prod, text: str) -> str:
    """What the widget shows after sending `text` on Rasa's socket.io channel (as widget.js does:
    session_request, wait for session_confirm, user_uttered, wait for bot_uttered)."""
    import asyncio

    import socketio

    async def talk() -> str:
        client = socketio.AsyncClient()
        confirmed, answers = asyncio.Event(), asyncio.Queue()
        client.on("session_confirm", lambda *_: confirmed.set())
        client.on("bot_uttered", lambda data: answers.put_nowait(data))
        await client.connect(prod["url"], socketio_path="/socket.io", wait_timeout=10)
        try:
            session = f"w-{uuid.uuid4().hex[:8]}"
            await client.emit("session_request", {"session_id": session})
            await asyncio.wait_for(confirmed.wait(), 10)
            await client.emit("user_uttered", {"message": text, "session_id": session})
            return (await asyncio.wait_for(answers.get(), 30)).get("text", "")
        finally:
            await client.disconnect()

    return asyncio.run(talk())


def _postgres(action: str) -> None:
    import shutil

    if shutil.which("pg_ctlcluster") is None:
        service_missing("pg_ctlcluster is not installed here: cannot stop and start PostgreSQL",
                        RuntimeError("pg_ctlcluster"))
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
                   + (["-m", "fast"] if action == "stop" else []), check=True, capture_output=True)
    if action == "start":
        deadline = time.monotonic() + 30
        while subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode != 0:
            assert time.monotonic() < deadline, "PostgreSQL did not come back"
            time.sleep(0.2)


def test_postgresql_briefly_unavailable(prod):
    """PostgreSQL stops between two turns. The turn that needs it is refused with 503 and an
    apology (never answered by an assistant that forgot the conversation); the client resends it
    once PostgreSQL is back, and the conversation goes on where it was, each message stored once.
    The console's summaries catch up: the broker kept the events while the consumer waited."""
    who = f"pg-{uuid.uuid4().hex[:8]}"
    assert "codice cliente" in post(prod, who, "vorrei pagare a rate", "m-1").json()[0]["text"]
    _postgres("stop")
    try:
        refused = post(prod, who, "100001", "m-2")
        assert refused.status_code == 503 and "non è andato perso" in refused.json()[0]["text"]
        # a widget customer (socket.io, through nginx) is answered too, not left waiting
        assert "non è andato perso" in widget_says(prod, "vorrei sapere le mie bollette")
    finally:
        _postgres("start")
    resent = post(prod, who, "100001", "m-2")
    assert resent.status_code == 200 and "codice fiscale" in resent.json()[0]["text"]
    assert "verificato" in " ".join(m["text"] for m in post(prod, who, "RSSMRA80A01H501U", "m-3").json())
    assert user_messages(prod, who) == ["vorrei pagare a rate", "100001", "RSSMRA80A01H501U"]

    from sqlalchemy import create_engine, text

    engine = create_engine(prod["database"], future=True)
    deadline, folded = time.monotonic() + 90, None
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            folded = connection.execute(text("SELECT user_turns FROM conversation_summaries "
                                             "WHERE conversation_id = :s"), {"s": who}).scalar()
        if folded == 3:
            break
        time.sleep(1)
    engine.dispose()
    assert folded == 3


def test_billing_backend_hanging_while_customers_need_it(prod):
    """The billing backend stops answering (SIGSTOP: connections open, no reply) while six
    customers identify themselves at once. Each gets, within the client's timeouts, the apology
    and a person; the replicas keep serving other turns meanwhile; once the backend answers
    again the next customer is served normally."""
    from concurrent.futures import ThreadPoolExecutor

    master = service_pid(prod["process"].pid, [b"bot.billing.api:create_app"], prod["billing_port"])
    hung = [master] + sorted(descendants(master))

    def identify(i: int) -> Tuple[str, str]:
        who = f"bh-{i}-{uuid.uuid4().hex[:6]}"
        post(prod, who, "vorrei pagare a rate", f"{who}-1").raise_for_status()
        post(prod, who, "100001", f"{who}-2").raise_for_status()
        answer = post(prod, who, "RSSMRA80A01H501U", f"{who}-3")
        answer.raise_for_status()
        return who, " ".join(m.get("text", "") for m in answer.json())

    for pid in hung:
        os.kill(pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(6) as pool:
            pending = [pool.submit(identify, i) for i in range(6)]
            # a turn without the backend is answered meanwhile
            greeting = say(prod, f"bh-chat-{uuid.uuid4().hex[:6]}", "buongiorno")
            assert any(word in greeting for word in ("Buongiorno", "Buon pomeriggio", "Buonasera"))
            answers = [future.result(timeout=120) for future in pending]
    finally:
        for pid in hung:
            os.kill(pid, signal.SIGCONT)
    for _, answer in answers:
        # queued (within support hours) or told when an agent answers (outside them); never the
        # "cannot hand you over" apology
        assert "problema tecnico" in answer and ("in coda" in answer or "Le risponderà" in answer), answer
        assert "non riesco a passarLa" not in answer, answer
    # each of them is with an agent: a ticket, and the bot paused
    from sqlalchemy import create_engine, text

    engine = create_engine(prod["database"], future=True)
    with engine.connect() as connection:
        for who, _ in answers:
            tickets = connection.execute(text("SELECT count(*) FROM tickets WHERE conversation_id = :s"),
                                         {"s": who}).scalar_one()
            paused = connection.execute(text("SELECT count(*) FROM events WHERE sender_id = :s AND "
                                             "type_name = 'pause'"), {"s": who}).scalar_one()
            assert (tickets, paused) == (1, 1), who
    engine.dispose()
    who = f"bh-after-{uuid.uuid4().hex[:6]}"
    say(prod, who, "vorrei pagare a rate")
    say(prod, who, "100001")
    assert "verificato" in say(prod, who, "RSSMRA80A01H501U")
