"""The WhatsApp channel against a fake Graph API, with the real Rasa, actions and backend."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta

import pytest
import requests

from bot.channels.whatsapp import (
    DeliveryStore,
    GraphClient,
    WhatsAppConfig,
    WhatsAppConfigError,
    WhatsAppOutput,
    conversation_id,
)
from bot.settings import Settings
from tests.channels.fake_graph import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    channel_env,
    post_webhook,
    text_message,
    webhook_payload,
)
from tests.harness.rest import CONVERSATION_ID_SECRET
from tests.harness.stack import running_stack

APP_SECRET = "app-secret-for-tests"  # noqa: S105 - a test value
VERIFY_TOKEN = "verify-token-for-tests"  # noqa: S105 - a test value


@pytest.fixture(scope="module")
def stack(tmp_path_factory, graph):
    env = channel_env(graph, APP_SECRET, VERIFY_TOKEN, WHATSAPP_TEMPLATE_NAME="ripresa_conversazione")
    with running_stack(tmp_path_factory.mktemp("whatsapp"), env) as running:
        yield running


def webhook(stack) -> str:
    return f"{stack.rasa_url}/webhooks/whatsapp/webhook"


def post_signed(stack, payload, secret: str = APP_SECRET, signature: str | None = None) -> requests.Response:
    return post_webhook(stack.rasa_url, payload, secret, signature)


def new_user() -> str:
    return "39" + str(uuid.uuid4().int)[:10]


def new_id() -> str:
    return f"wamid.{uuid.uuid4().hex}"


def test_verification_handshake(stack):
    ok = requests.get(webhook(stack), params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                              "hub.challenge": "1158201444"}, timeout=10)
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = requests.get(webhook(stack), params={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                 "hub.challenge": "1"}, timeout=10)
    assert wrong.status_code == 403


def test_the_conversation_id_is_an_opaque_hmac_of_the_number():
    mario = conversation_id(CONVERSATION_ID_SECRET, "393331234567")
    assert mario.startswith("wa:") and len(mario) == 3 + 32 and "3331234567" not in mario
    assert mario == conversation_id(CONVERSATION_ID_SECRET, "+393331234567")
    assert mario != conversation_id("another-secret", "393331234567")
    with pytest.raises(WhatsAppConfigError):
        conversation_id("", "393331234567")


def test_forged_or_missing_signature_is_refused_and_not_processed(stack, graph):
    user = new_user()
    payload = webhook_payload(text_message(user, new_id(), "Buongiorno"))
    assert post_signed(stack, payload, secret="not-the-app-secret").status_code == 403  # noqa: S106 - the attack
    assert post_signed(stack, payload, signature="").status_code == 403
    assert post_signed(stack, payload, signature="sha1=abc").status_code == 403
    time.sleep(3)
    assert graph.messages_to(user) == []


def test_a_message_delivered_three_times_is_answered_once(stack, graph):
    user, message_id = new_user(), new_id()
    payload = webhook_payload(text_message(user, message_id, "Buongiorno"))
    for _ in range(3):
        assert post_signed(stack, payload).status_code == 200
    replies = graph.wait_for(user, 1)
    time.sleep(2)
    assert len(graph.messages_to(user)) == 1
    greeting = replies[0]
    # six quick replies: more than 3 reply buttons allow, so a list
    assert greeting["type"] == "interactive" and greeting["interactive"]["type"] == "list"
    rows = greeting["interactive"]["action"]["sections"][0]["rows"]
    assert "/request_installments" in [r["id"] for r in rows]
    assert graph.problems == []


def test_every_message_of_a_batch_is_handled_and_statuses_ignored(stack, graph):
    first, second = new_user(), new_user()
    payload = webhook_payload(text_message(first, new_id(), "Buongiorno"), text_message(second, new_id(), "Salve"),
                              statuses=[{"id": "wamid.x", "status": "delivered", "recipient_id": first}])
    assert post_signed(stack, payload).status_code == 200
    assert graph.wait_for(first, 1) and graph.wait_for(second, 1)
    only_status = webhook_payload(statuses=[{"id": "wamid.y", "status": "read", "recipient_id": first}])
    assert post_signed(stack, only_status).status_code == 200


def test_button_reply_reaches_the_assistant_as_its_payload(stack, graph):
    user = new_user()
    tap = {"from": user, "id": new_id(), "timestamp": str(int(time.time())), "type": "interactive",
           "interactive": {"type": "button_reply", "button_reply": {"id": "/request_human", "title": "Operatore"}}}
    assert post_signed(stack, webhook_payload(tap)).status_code == 200
    reply = graph.wait_for(user, 1)[0]
    assert reply["type"] == "text" and "numero verde" in reply["text"]["body"]


def test_yes_no_question_uses_reply_buttons_cut_to_20_characters(stack, graph):
    user = new_user()
    post_signed(stack, webhook_payload(text_message(user, new_id(), "sei un robot?")))
    reply = graph.wait_for(user, 1)[0]
    assert reply["interactive"]["type"] == "button"
    titles = [b["reply"]["title"] for b in reply["interactive"]["action"]["buttons"]]
    # cut at a word, with an ellipsis, when a title is over WhatsApp's 20 characters
    assert all(len(t) <= 20 for t in titles) and any(t.startswith("Continuare con") for t in titles)
    assert all(not t.endswith("…") or t[-2] != " " for t in titles)


def test_location_gets_the_nearest_stores(stack, graph):
    user = new_user()
    where = {"from": user, "id": new_id(), "timestamp": str(int(time.time())), "type": "location",
             "location": {"latitude": 43.32, "longitude": 11.33, "name": "Piazza del Campo"}}
    post_signed(stack, webhook_payload(where))
    reply = graph.wait_for(user, 1)[0]
    assert "Store Siena" in reply["text"]["body"]


def test_unsupported_types_get_a_polite_answer(stack, graph):
    user = new_user()
    voice = {"from": user, "id": new_id(), "timestamp": str(int(time.time())), "type": "audio",
             "audio": {"id": "media-1", "mime_type": "audio/ogg"}}
    assert post_signed(stack, webhook_payload(voice)).status_code == 200
    reply = graph.wait_for(user, 1)[0]
    assert "messaggi scritti" in reply["text"]["body"]


def test_graph_errors_are_retried(stack, graph):
    user = new_user()
    graph.failures_to_simulate.extend([500, 429])
    post_signed(stack, webhook_payload(text_message(user, new_id(), "voglio parlare con un operatore")))
    assert graph.wait_for(user, 1)
    assert graph.failures_to_simulate == []


def test_the_whatsapp_number_prefills_the_customer_code_but_not_the_identity(stack, graph):
    user = "393331234567"  # Mario Rossi's WhatsApp in the demo data
    post_signed(stack, webhook_payload(text_message(user, new_id(), "vorrei pagare a rate")))
    replies = " ".join(m["text"]["body"] for m in graph.wait_for(user, 2))
    assert "100001" in replies and "codice fiscale" in replies


def test_malformed_payload_with_a_valid_signature_is_a_400(stack):
    assert post_signed(stack, b"{not json").status_code == 400


def test_outside_the_24_hour_window_only_the_template_is_sent(tmp_path, graph):
    config = WhatsAppConfig(VERIFY_TOKEN, APP_SECRET, ACCESS_TOKEN, PHONE_NUMBER_ID, graph.url,
                            template_name="ripresa_conversazione", conversation_id_secret=CONVERSATION_ID_SECRET)
    store = DeliveryStore(f"sqlite:///{tmp_path / 'support.db'}")
    output = WhatsAppOutput(config, GraphClient(config, backoff=0.01), store)
    recent, old = new_user(), new_user()
    store.touch(recent, conversation_id(CONVERSATION_ID_SECRET, recent))
    store.touch(old, conversation_id(CONVERSATION_ID_SECRET, old))
    with store._sessions() as session, session.begin():
        from bot.support.models import WhatsAppContact
        session.get(WhatsAppContact, old).last_inbound_at = datetime.utcnow() - timedelta(hours=25)
    asyncio.run(output.send_text_message(conversation_id(CONVERSATION_ID_SECRET, recent), "Un operatore Le ha risposto."))
    asyncio.run(output.send_text_message(conversation_id(CONVERSATION_ID_SECRET, old), "Un operatore Le ha risposto."))
    assert graph.messages_to(recent)[0]["type"] == "text"
    late = graph.messages_to(old)[0]
    assert late["type"] == "template" and late["template"]["name"] == "ripresa_conversazione"


def test_configuration_all_or_nothing():
    assert WhatsAppConfig.from_settings(Settings(_env_file=None)) is None
    with pytest.raises(WhatsAppConfigError) as error:
        WhatsAppConfig.from_settings(Settings(_env_file=None, whatsapp_verify_token="x", whatsapp_app_secret="y"))
    assert "WHATSAPP_ACCESS_TOKEN" in str(error.value) and "WHATSAPP_PHONE_NUMBER_ID" in str(error.value)
    complete = dict(whatsapp_verify_token="v", whatsapp_app_secret="s", whatsapp_access_token="a",
                    whatsapp_phone_number_id="1")
    with pytest.raises(WhatsAppConfigError, match="CONVERSATION_ID_SECRET"):
        WhatsAppConfig.from_settings(Settings(_env_file=None, **complete))
    assert WhatsAppConfig.from_settings(Settings(_env_file=None, conversation_id_secret="k", **complete))


def test_output_sends_only_to_conversations_the_channel_created(tmp_path, graph):
    """A REST or web conversation id (or a bare number) never becomes a WhatsApp recipient."""
    config = WhatsAppConfig(VERIFY_TOKEN, APP_SECRET, ACCESS_TOKEN, PHONE_NUMBER_ID, graph.url,
                            conversation_id_secret=CONVERSATION_ID_SECRET)
    store = DeliveryStore(f"sqlite:///{tmp_path / 'support.db'}")
    output = WhatsAppOutput(config, GraphClient(config, backoff=0.01), store)
    user = new_user()
    store.touch(user, conversation_id(CONVERSATION_ID_SECRET, user))
    for recipient in (user, "+" + user, "wa:" + "0" * 32, "web:abc"):
        asyncio.run(output.send_text_message(recipient, "Buongiorno"))
    assert graph.messages_to(user) == []
    asyncio.run(output.send_text_message(conversation_id(CONVERSATION_ID_SECRET, user), "Buongiorno"))
    assert [m["text"]["body"] for m in graph.messages_to(user)] == ["Buongiorno"]


def test_one_http_session_for_every_message(tmp_path, graph, monkeypatch):
    """Issue 11: a new aiohttp session (a connection pool, a TLS handshake with Meta) per reply."""
    import aiohttp

    created = []

    class CountedSession(aiohttp.ClientSession):
        def __init__(self, *args, **kwargs):
            created.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(aiohttp, "ClientSession", CountedSession)
    config = WhatsAppConfig(VERIFY_TOKEN, APP_SECRET, ACCESS_TOKEN, PHONE_NUMBER_ID, graph.url,
                            conversation_id_secret=CONVERSATION_ID_SECRET)
    client = GraphClient(config, backoff=0.01)
    user = new_user()

    async def five_messages() -> None:
        graph.failures_to_simulate.append(500)  # a retry reuses the session too
        for n in range(5):
            await client.send({"to": user, "type": "text", "text": {"body": f"messaggio {n}"}})
        await client.close()

    asyncio.run(five_messages())
    assert len(graph.messages_to(user)) == 5
    assert len(created) == 1


def test_an_agent_reply_reaches_whatsapp_as_text(stack, graph):
    from bot.console.routes import agent_turn

    user = new_user()
    tap = {"from": user, "id": new_id(), "timestamp": str(int(time.time())), "type": "interactive",
           "interactive": {"type": "button_reply", "button_reply": {"id": "/request_human", "title": "Operatore"}}}
    post_signed(stack, webhook_payload(tap))
    graph.wait_for(user, 1)
    conversation = conversation_id(CONVERSATION_ID_SECRET, user)  # what the console sees
    answer = requests.post(f"{stack.rasa_url}/conversations/{conversation}/tracker/events",
                           params={"token": "token", "output_channel": "latest", "execute_side_effects": "true"},
                           json=[{"event": "bot", "text": None, "data": {"custom": agent_turn("Giulia", "Eccomi, La aiuto io.")}}],
                           timeout=10)
    assert answer.status_code == 200
    sent = graph.wait_for(user, 2)[-1]
    assert sent["type"] == "text" and sent["text"]["body"] == "Giulia (operatore): Eccomi, La aiuto io."


def test_a_message_that_cannot_be_processed_gets_an_apology(tmp_path, graph):
    """Meta has had its 200 and will not redeliver: the customer is asked to resend."""
    from bot.channels import UNAVAILABLE_REPLY
    from bot.channels.whatsapp import Inbound, WhatsAppInput

    config = WhatsAppConfig(VERIFY_TOKEN, APP_SECRET, ACCESS_TOKEN, PHONE_NUMBER_ID, graph.url,
                            conversation_id_secret=CONVERSATION_ID_SECRET)
    channel = WhatsAppInput(None)
    channel.config, channel.graph = config, GraphClient(config, backoff=0.01)
    channel.store = DeliveryStore(f"sqlite:///{tmp_path / 'support.db'}")
    user = new_user()

    async def tracker_store_down(message) -> None:
        raise ConnectionError("PostgreSQL unreachable")

    store = channel.store
    store.touch(user, conversation_id(CONVERSATION_ID_SECRET, user))
    asyncio.run(channel.process(Inbound(new_id(), user, "vorrei pagare a rate", "text"), tracker_store_down))
    assert [m["text"]["body"] for m in graph.messages_to(user)] == [UNAVAILABLE_REPLY]
