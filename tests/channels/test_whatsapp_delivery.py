"""Issue 18: WhatsApp as Meta really delivers it. Bursts from new customers, out-of-order
webhooks, stale timestamps, Meta's error replies, read receipts, reactions and media, against
the real Rasa, action server and backend, with the fake Graph API answering as Meta does."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot.channels.whatsapp import (
    DeliveryStore,
    GraphClient,
    GraphError,
    WhatsAppConfig,
    WhatsAppOutput,
    conversation_id,
)
from bot.channels.whatsapp.inbound import Inbound
from bot.channels.whatsapp.ordering import CustomerQueues
from bot.support.whatsapp_status import conversation_status
from tests.channels.fake_graph import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    SECOND_PHONE_NUMBER_ID,
    channel_env,
    failed_status,
    post_webhook,
    text_message,
    webhook_payload,
)
from tests.harness.rest import CONVERSATION_ID_SECRET
from tests.harness.services import temporary_postgres_database
from tests.harness.stack import running_stack

APP_SECRET = "app-secret-for-delivery-tests"  # noqa: S105 - a test value
TEMPLATE = "risposta_in_attesa"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, graph):
    env = channel_env(
        graph,
        APP_SECRET,
        WHATSAPP_PHONE_NUMBER_ID=f"{PHONE_NUMBER_ID},{SECOND_PHONE_NUMBER_ID}",
        WHATSAPP_TEMPLATE_NAME=TEMPLATE,
    )
    with running_stack(tmp_path_factory.mktemp("whatsapp_delivery"), env) as running:
        yield running


def post(stack, payload) -> requests.Response:
    return post_webhook(stack.rasa_url, payload, APP_SECRET)


def new_user() -> str:
    return "39" + str(uuid.uuid4().int)[:10]


def new_id() -> str:
    return f"wamid.{uuid.uuid4().hex}"


def user_events(stack, wa_id: str) -> list:
    conversation = conversation_id(CONVERSATION_ID_SECRET, wa_id)
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{conversation}/tracker", params={"token": "token"}, timeout=10
    ).json()
    return [e for e in tracker.get("events") or [] if e.get("event") == "user"]


def wait_for_user_turns(stack, wa_id: str, count: int, timeout: float = 90) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = user_events(stack, wa_id)
        if len(events) >= count:
            return events
        time.sleep(0.3)
    return user_events(stack, wa_id)


def support_db(stack) -> str:
    return f"sqlite:///{stack.tmp / 'support.db'}"


# ---------------------------------------------------------------------- through the real stack
def test_concurrent_first_contact_loses_no_message(stack, graph):
    """Finding 1: five POSTs at once from a new customer (two messages each) are all processed,
    each once; before, the racing contact inserts failed and lost 8 of 40."""
    user, start = new_user(), time.time() - 30
    payloads = [
        webhook_payload(
            text_message(user, new_id(), f"messaggio {2 * n}", start + 2 * n),
            text_message(user, new_id(), f"messaggio {2 * n + 1}", start + 2 * n + 1),
        )
        for n in range(5)
    ]
    barrier = threading.Barrier(5)

    def send(payload):
        barrier.wait()
        return post(stack, payload).status_code

    with ThreadPoolExecutor(5) as pool:
        assert list(pool.map(send, payloads)) == [200] * 5
    texts = [e["text"] for e in wait_for_user_turns(stack, user, 10)]
    assert sorted(texts) == sorted(f"messaggio {n}" for n in range(10))
    assert texts == [f"messaggio {n}" for n in range(10)]  # and in the customer's order
    from bot.channels import UNAVAILABLE_REPLY

    assert all(m.get("text", {}).get("body") != UNAVAILABLE_REPLY for m in graph.messages_to(user))


def test_out_of_order_posts_are_processed_in_timestamp_order(stack, graph):
    """Finding 2: a known customer's messages, POSTed newest first, reach the assistant oldest first."""
    user = new_user()
    assert post(stack, webhook_payload(text_message(user, new_id(), "Buongiorno"))).status_code == 200
    wait_for_user_turns(stack, user, 1)
    start = time.time() - 10
    for n in reversed(range(5)):
        assert post(stack, webhook_payload(text_message(user, new_id(), f"parte {n}", start + n))).status_code == 200
    texts = [e["text"] for e in wait_for_user_turns(stack, user, 6)][1:]
    assert texts == [f"parte {n}" for n in range(5)]


def test_a_message_older_than_24_hours_gets_one_template_and_the_reply_waits(stack, graph):
    """Findings 3 and 4: the window counts from the customer's timestamp. The turn is stored,
    the reply is not sent free-form (Meta would refuse it with 131047): ONE template carries it,
    and the reply is delivered in full when the customer writes again, before the new answer."""
    user = new_user()
    stale = time.time() - 25 * 3600
    assert (
        post(stack, webhook_payload(text_message(user, new_id(), "voglio parlare con un operatore", stale))).status_code
        == 200
    )
    assert [e["text"] for e in wait_for_user_turns(stack, user, 1)] == ["voglio parlare con un operatore"]
    sent = graph.wait_for(user, 1)
    time.sleep(3)
    sent = graph.messages_to(user)
    assert [m["type"] for m in sent] == ["template"]
    template = sent[0]["template"]
    assert template["name"] == TEMPLATE
    parameter = template["components"][0]["parameters"][0]["text"]
    assert parameter and "\n" not in parameter
    status = _status(stack, user)
    assert status["window_open"] is False and status["pending"] >= 1 and status["template_sent"]

    assert post(stack, webhook_payload(text_message(user, new_id(), "grazie"))).status_code == 200
    wait_for_user_turns(stack, user, 2)
    after = graph.wait_for(user, 1 + status["pending"] + 1)[1:]
    held = after[: status["pending"]]
    assert held and all(m["type"] != "template" for m in after)
    # the first held message is the one the template announced, now in full
    first = held[0].get("text", {}).get("body") or held[0].get("interactive", {}).get("body", {}).get("text")
    assert " ".join(first.split()).startswith(parameter.rstrip("…"))
    assert _status(stack, user)["pending"] == 0 and graph.problems == []


def test_a_reply_meta_refuses_with_131047_waits_and_is_announced_once(stack, graph):
    """Clock skew or a late delivery: Meta's own 131047 holds the reply like a closed window."""
    user = new_user()
    graph.closed_windows.add(user)
    post(stack, webhook_payload(text_message(user, new_id(), "Buongiorno")))
    templates = [m for m in graph.wait_for(user, 1) if m["type"] == "template"]
    time.sleep(2)
    assert len([m for m in graph.messages_to(user) if m["type"] == "template"]) == 1 and templates
    assert _status(stack, user)["pending"] >= 1
    assert "131047" in stack.rasa_log()
    graph.closed_windows.discard(user)
    post(stack, webhook_payload(text_message(user, new_id(), "ci sono")))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _status(stack, user)["pending"]:
        time.sleep(0.3)
    assert _status(stack, user)["pending"] == 0


def test_each_processed_message_is_marked_read_with_the_typing_indicator(stack, graph):
    user, message_id = new_user(), new_id()
    post(stack, webhook_payload(text_message(user, message_id, "Buongiorno")))
    graph.wait_for(user, 1)
    reads = graph.reads_of(message_id)
    assert len(reads) == 1 and reads[0]["typing_indicator"] == {"type": "text"}
    assert reads[0]["status"] == "read" and graph.problems == []


def test_reactions_are_not_answered_but_appear_in_the_transcript(stack, graph):
    user = new_user()
    post(stack, webhook_payload(text_message(user, new_id(), "Buongiorno")))
    answered = len(graph.wait_for(user, 1))
    for emoji in ("👍", ""):  # a reaction, then its removal
        reaction = {
            "from": user,
            "id": new_id(),
            "timestamp": str(int(time.time())),
            "type": "reaction",
            "reaction": {"message_id": "wamid.out1", "emoji": emoji},
        }
        assert post(stack, webhook_payload(reaction)).status_code == 200
    texts = [e["text"] for e in wait_for_user_turns(stack, user, 3)]
    assert texts[1:] == ["[reazione 👍]", "[reazione tolta]"]
    time.sleep(2)
    assert len(graph.messages_to(user)) == answered


def test_a_caption_is_read_and_media_without_one_is_transcribed_and_answered(stack, graph):
    user = new_user()
    photo = {
        "from": user,
        "id": new_id(),
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": {"id": "media-1", "mime_type": "image/jpeg", "caption": "voglio parlare con un operatore"},
    }
    post(stack, webhook_payload(photo))
    first = wait_for_user_turns(stack, user, 1)[0]
    assert first["text"] == "voglio parlare con un operatore"
    assert first["parse_data"]["intent"]["name"] == "request_human"
    voice = {
        "from": user,
        "id": new_id(),
        "timestamp": str(int(time.time())),
        "type": "audio",
        "audio": {"id": "media-2", "mime_type": "audio/ogg"},
    }
    post(stack, webhook_payload(voice))
    assert wait_for_user_turns(stack, user, 2)[1]["text"] == "[messaggio vocale senza testo]"
    assert any("messaggi scritti" in m.get("text", {}).get("body", "") for m in graph.wait_for(user, 2))


def test_a_tap_is_stored_with_the_title_the_customer_saw(stack, graph):
    user = new_user()
    tap = {
        "from": user,
        "id": new_id(),
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "/request_human", "title": "Operatore"}},
    }
    post(stack, webhook_payload(tap))
    event = wait_for_user_turns(stack, user, 1)[0]
    assert event["parse_data"]["intent"]["name"] == "request_human"
    assert event["metadata"]["whatsapp"]["title"] == "Operatore"


def test_the_number_written_to_answers_and_a_foreign_number_is_refused(stack, graph):
    user, stranger = new_user(), new_user()
    post(stack, webhook_payload(text_message(user, new_id(), "Buongiorno"), phone_number_id=SECOND_PHONE_NUMBER_ID))
    graph.wait_for(user, 1)
    assert {number for number, to in graph.senders if to == user} == {SECOND_PHONE_NUMBER_ID}
    assert (
        post(
            stack, webhook_payload(text_message(stranger, new_id(), "Buongiorno"), phone_number_id="555000111")
        ).status_code
        == 200
    )
    time.sleep(3)
    assert graph.messages_to(stranger) == [] and user_events(stack, stranger) == []


def test_failed_statuses_and_webhook_errors_are_logged_and_shown_without_the_number(stack, graph):
    user = new_user()
    post(stack, webhook_payload(text_message(user, new_id(), "Buongiorno")))
    graph.wait_for(user, 1)
    statuses = [failed_status("wamid.out1", user, 131026, "Message undeliverable")]
    errors = [{"code": 131051, "title": "Unsupported message type", "message": "Unsupported message type"}]
    assert post(stack, webhook_payload(statuses=statuses, errors=errors)).status_code == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _status(stack, user)["problems"]:
        time.sleep(0.3)
    problems = _status(stack, user)["problems"]
    assert [(p["code"], p["title"]) for p in problems] == [(131026, "Message undeliverable")]
    log = stack.rasa_log()
    assert "131026" in log and "131051" in log
    assert user not in log and user[2:] not in log  # no phone number in the log


def _status(stack, wa_id: str) -> dict:
    from bot.db import make_engine, session_factory

    sessions = session_factory(make_engine(support_db(stack)))
    with sessions() as session:
        status = conversation_status(session, conversation_id(CONVERSATION_ID_SECRET, wa_id))
    assert status is not None, "not a WhatsApp conversation"
    return status


# ---------------------------------------------------------------------- in process
def config_for(graph, template: str = TEMPLATE) -> WhatsAppConfig:
    return WhatsAppConfig(
        "verify",
        APP_SECRET,
        ACCESS_TOKEN,
        PHONE_NUMBER_ID,
        graph.url,
        template_name=template,
        conversation_id_secret=CONVERSATION_ID_SECRET,
    )


@pytest.mark.parametrize("code", [130429, 131056, 80007])
def test_meta_rate_limits_with_http_400_are_retried(graph, code):
    client, user = GraphClient(config_for(graph), backoff=0.01), new_user()
    graph.failures_to_simulate.extend([(400, code), (400, code, 2494055)])
    asyncio.run(client.send({"to": user, "type": "text", "text": {"body": "Buongiorno"}}))
    assert graph.failures_to_simulate == [] and len(graph.messages_to(user)) == 1


def test_other_refusals_are_final_and_logged_with_meta_fields(graph, caplog):
    client, user = GraphClient(config_for(graph), backoff=0.01), new_user()
    graph.failures_to_simulate.extend([(400, 100), (500, 1)])
    with caplog.at_level(logging.WARNING), pytest.raises(GraphError) as refused:
        asyncio.run(client.send({"to": user, "type": "text", "text": {"body": "Buongiorno"}}))
    assert (refused.value.status, refused.value.code) == (400, 100)
    assert graph.failures_to_simulate == [(500, 1)]  # not retried
    graph.failures_to_simulate.clear()
    assert "HTTP 400 code=100" in caplog.text and "fbtrace_id=AbCdEf100" in caplog.text
    assert user not in caplog.text and "Buongiorno" not in caplog.text


def test_a_bad_token_gets_a_clear_log_line(graph, caplog):
    client = GraphClient(config_for(graph), backoff=0.01)
    graph.bad_token = True
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(GraphError) as refused:
            asyncio.run(client.send({"to": new_user(), "type": "text", "text": {"body": "x"}}))
    finally:
        graph.bad_token = False
    assert refused.value.bad_token and graph.attempts >= 1
    assert (
        "access token" in caplog.text and "HTTP 401 code=190" in caplog.text and "fbtrace_id=AbCdEf190" in caplog.text
    )


def _old_contact(store: DeliveryStore, hours: float) -> tuple[str, str]:
    user = new_user()
    conversation = conversation_id(CONVERSATION_ID_SECRET, user)
    store.touch(user, conversation, datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=hours))
    return user, conversation


def test_a_two_message_turn_outside_the_window_sends_one_template_and_waits_in_full(tmp_path, graph):
    store = DeliveryStore(f"sqlite:///{tmp_path / 'support.db'}")
    output = WhatsAppOutput(config_for(graph), GraphClient(config_for(graph), backoff=0.01), store)
    user, conversation = _old_contact(store, 30)
    first = "Le abbiamo aperto la pratica.\nUn operatore Le risponderà qui appena possibile."
    asyncio.run(output.send_text_message(conversation, first))
    asyncio.run(output.send_text_message(conversation, "Il numero della pratica è 42."))
    sent = graph.messages_to(user)
    assert [m["type"] for m in sent] == ["template"]
    assert sent[0]["template"]["components"][0]["parameters"][0]["text"] == " ".join(first.split())
    assert len(store.pending(conversation)) == 2
    store.touch(user, conversation)  # the customer writes again
    assert asyncio.run(output.flush(conversation)) == 2
    assert [m["text"]["body"] for m in graph.messages_to(user)[1:]] == [first, "Il numero della pratica è 42."]
    assert store.pending(conversation) == [] and graph.problems == []


def test_without_a_template_the_reply_waits_and_the_start_names_the_setting(tmp_path, graph, caplog):
    store = DeliveryStore(f"sqlite:///{tmp_path / 'support.db'}")
    config = config_for(graph, template="")
    with caplog.at_level(logging.ERROR):
        config.report()
    assert "WHATSAPP_TEMPLATE_NAME" in caplog.text
    output = WhatsAppOutput(config, GraphClient(config, backoff=0.01), store)
    user, conversation = _old_contact(store, 25)
    asyncio.run(output.send_text_message(conversation, "Eccomi"))
    assert graph.messages_to(user) == [] and len(store.pending(conversation)) == 1


def test_lists_use_the_formal_button_and_descriptions_for_long_titles(tmp_path, graph):
    store = DeliveryStore(f"sqlite:///{tmp_path / 'support.db'}")
    output = WhatsAppOutput(config_for(graph), GraphClient(config_for(graph), backoff=0.01), store)
    user, conversation = _old_contact(store, 1)
    long = "Rateizzare una bolletta scaduta da poco"
    buttons = [{"title": long, "payload": "/request_installments"}] + [
        {"title": f"Opzione {n}", "payload": f"/x{n}"} for n in range(4)
    ]
    asyncio.run(output.send_text_with_buttons(conversation, "Come posso aiutarLa?", buttons))
    action = graph.messages_to(user)[0]["interactive"]["action"]
    assert action["button"] == "Scelga"
    row = action["sections"][0]["rows"][0]
    assert len(row["title"]) <= 24 and row["description"] == long and graph.problems == []


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_first_contact_records_are_atomic_under_concurrency(tmp_path, database):
    """Finding 1 at its root: 16 threads touching a new customer and recording one message id."""

    def run(url: str) -> None:
        store = DeliveryStore(url)
        user, message_id = new_user(), new_id()
        conversation = conversation_id(CONVERSATION_ID_SECRET, user)
        barrier = threading.Barrier(16)

        def first_contact(_: int) -> bool:
            barrier.wait()
            store.touch(user, conversation, phone_number_id=PHONE_NUMBER_ID)
            return store.first_delivery(message_id)

        with ThreadPoolExecutor(16) as pool:
            firsts = list(pool.map(first_contact, range(16)))
        assert firsts.count(True) == 1
        contact = store.recipient(conversation)
        assert contact is not None and contact.wa_id == user

    if database == "sqlite":
        run(f"sqlite:///{tmp_path / 'support.db'}")
    else:
        with temporary_postgres_database() as url:
            run(url)


def test_queues_order_each_customer_and_serve_customers_in_parallel():
    done: list = []

    async def scenario() -> None:
        async def handle(message: Inbound) -> None:
            await asyncio.sleep(0.05)
            done.append((message.wa_id, message.text))

        queues = CustomerQueues(handle, wait=0.2, concurrency=4)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        for n in (3, 1, 2, 0):
            queues.put(Inbound(new_id(), "391", f"a{n}", "text", timestamp=now + timedelta(seconds=n)))
        queues.put(Inbound(new_id(), "392", "b0", "text", timestamp=now))
        await queues.drain()

    asyncio.run(scenario())
    assert [text for wa_id, text in done if wa_id == "391"] == ["a0", "a1", "a2", "a3"]
    assert done.index(("392", "b0")) < done.index(("391", "a1"))  # B did not wait for all of A
