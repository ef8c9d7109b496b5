"""Issue 12 on WhatsApp: a copy of a bill arrives as a document message in the Cloud API's
documented format (the PDF uploaded to POST /{phone-number-id}/media, then a message naming the
media id), and a photo gets a polite request to type the meter's numbers. Against the real Rasa,
action server and billing backend, with the fake Graph API checking every request."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from bot.channels.whatsapp import GraphClient, GraphError, WhatsAppConfig
from tests.billing.test_bill_documents_api import pdf_text
from tests.channels.fake_graph import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    FakeGraph,
    channel_env,
    format_problems,
    post_webhook,
    text_message,
    webhook_payload,
)
from tests.harness.rest import CONVERSATION_ID_SECRET
from tests.harness.stack import running_stack

APP_SECRET = "app-secret-for-document-tests"  # noqa: S105 - a test value
MARIO_WA, LAURA_WA = "393331234567", "393471112233"  # the demo customers' WhatsApp numbers


@pytest.fixture(scope="module")
def stack(tmp_path_factory, graph):
    with running_stack(tmp_path_factory.mktemp("whatsapp_documents"), channel_env(graph, APP_SECRET)) as running:
        yield running


def send(stack, wa_id: str, message: dict) -> None:
    answer = post_webhook(stack.rasa_url, webhook_payload(message), APP_SECRET)
    assert answer.status_code == 200, answer.text


def say(stack, graph, wa_id: str, text: str, replies: int = 1) -> list[dict]:
    """Send a text; the messages the customer got in answer (at least `replies` of them)."""
    before = len(graph.messages_to(wa_id))
    send(stack, wa_id, text_message(wa_id, f"wamid.{uuid.uuid4().hex}", text))
    return graph.wait_for(wa_id, before + replies, timeout=90)[before:]


def photo(wa_id: str) -> dict:
    return {
        "from": wa_id,
        "id": f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": {"id": "1234567890", "mime_type": "image/jpeg", "sha256": "abc"},
    }


def shown(message: dict) -> str:
    """What a message says: a text's body, an interactive message's body, a document's caption."""
    return str(
        (message.get("text") or {}).get("body")
        or ((message.get("interactive") or {}).get("body") or {}).get("text")
        or (message.get("document") or {}).get("caption")
        or ""
    )


def test_a_bill_copy_arrives_as_a_document_in_the_documented_format(stack, graph):
    asked = say(stack, graph, MARIO_WA, "mi serve una copia dell'ultima bolletta", replies=2)
    assert any("codice fiscale" in shown(m).lower() for m in asked), [shown(m) for m in asked]
    # the number only hints at the customer code: the codice fiscale is what verifies him
    assert not any(m.get("type") == "document" for m in graph.messages_to(MARIO_WA))
    say(stack, graph, MARIO_WA, "RSSMRA80A01H501U", replies=3)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(m["type"] == "document" for m in graph.messages_to(MARIO_WA)):
        time.sleep(0.3)
    documents = [m for m in graph.messages_to(MARIO_WA) if m["type"] == "document"]
    assert len(documents) == 1, [shown(m) for m in graph.messages_to(MARIO_WA)]
    message = documents[0]
    assert message["messaging_product"] == "whatsapp" and message["recipient_type"] == "individual"
    document = message["document"]
    assert set(document) == {"id", "filename", "caption"}  # uploaded media: an id, never a link
    assert document["filename"] == "bolletta-F100001-01.pdf"
    assert "F100001-01" in document["caption"] and "182,40" in document["caption"]
    uploaded = graph.media[document["id"]]
    assert uploaded["mime_type"] == "application/pdf" and uploaded["filename"] == "bolletta-F100001-01.pdf"
    text = pdf_text(uploaded["content"])
    assert "Mario Rossi" in text and "IT001E12345678" in text and "182,40" in text
    # then the other bills are offered as buttons, with their months: the message after the
    # document, which the channel sends only once the document is out
    after = graph.messages_to(MARIO_WA).index(message) + 1
    offered = graph.wait_for(MARIO_WA, after + 1, timeout=90)[after:]
    assert offered and offered[0]["type"] == "interactive", [shown(m) for m in offered]
    assert "un'altra bolletta" in shown(offered[0]) and offered[0]["interactive"]["action"]["buttons"]
    assert graph.problems == []


def test_a_photo_gets_a_polite_request_for_the_numbers(stack, graph):
    user = "39" + str(uuid.uuid4().int)[:10]
    send(stack, user, photo(user))
    reply = graph.wait_for(user, 1, timeout=90)
    assert reply and "non riesco a leggere le immagini" in shown(reply[0]), [shown(m) for m in reply]
    assert "F1 4500" in shown(reply[0]) and graph.problems == []


def test_a_photo_during_the_self_reading_asks_to_type_the_numbers_there(stack, graph):
    say(stack, graph, LAURA_WA, "vorrei comunicare l'autolettura del gas", replies=2)
    asked = say(stack, graph, LAURA_WA, "BNCLRA85M41D612D", replies=2)
    assert any("lettura" in shown(m).lower() for m in asked), [shown(m) for m in asked]
    before = len(graph.messages_to(LAURA_WA))
    send(stack, LAURA_WA, photo(LAURA_WA))
    after = graph.wait_for(LAURA_WA, before + 2, timeout=90)[before:]
    assert "mi scriva qui i numeri" in shown(after[0]), [shown(m) for m in after]
    assert "m³" in " ".join(shown(m) for m in after[1:])  # asked again, with the meter's unit
    recorded = say(stack, graph, LAURA_WA, "8400")
    assert any("registrat" in shown(m).lower() for m in recorded), [shown(m) for m in recorded]


def test_the_fake_refuses_what_the_cloud_api_would():
    media = {"1013859600285441": {}}
    good = {"id": "1013859600285441", "filename": "bolletta.pdf", "caption": "Bolletta"}
    base = {"messaging_product": "whatsapp", "to": "393331234567", "type": "document"}
    assert format_problems({**base, "document": good}, media) == []
    for bad in (
        {**good, "link": "https://example.com/b.pdf"},  # both id and link
        {"filename": "bolletta.pdf"},  # neither
        {**good, "id": "999"},  # not uploaded
        {**good, "caption": "x" * 1025},
        {**good, "filename": "bolletta"},  # no extension
        {**good, "mime_type": "application/pdf"},  # not a field of a sent document
        {"link": "http://example.com/b.pdf"},  # not https
    ):
        assert format_problems({**base, "document": bad}, media), bad


def test_an_upload_that_is_not_as_documented_is_refused():
    fake = FakeGraph()
    try:
        config = WhatsAppConfig(
            "verify", APP_SECRET, ACCESS_TOKEN, PHONE_NUMBER_ID, fake.url, conversation_id_secret=CONVERSATION_ID_SECRET
        )
        client = GraphClient(config, attempts=1)

        async def upload(content: bytes, mime: str) -> str:
            try:
                return await client.upload_media(content, "bolletta.pdf", mime)
            finally:
                await client.close()

        media_id = asyncio.run(upload(b"%PDF-1.3 test", "application/pdf"))
        assert fake.media[media_id]["content"] == b"%PDF-1.3 test" and fake.problems == []
        with pytest.raises(GraphError) as refused:
            asyncio.run(upload(b"\x89PNG", "image/x-unknown"))
        assert refused.value.status == 400 and refused.value.code == 100
        assert any("MIME type" in problem for problem in fake.problems)
    finally:
        fake.close()
