"""The widget's socket.io channel (bot/channels/socketio.py) answers a message it cannot process."""

from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import UNAVAILABLE_REPLY
from bot.channels.socketio import AnsweringSocketIOInput, SessionIds, _malformed, answering_failures


def test_a_message_that_cannot_be_processed_gets_the_apology():
    async def tracker_store_down(message: UserMessage) -> None:
        raise ConnectionError("PostgreSQL unreachable")

    output = CollectingOutputChannel()
    asyncio.run(answering_failures(tracker_store_down)(UserMessage("vorrei pagare a rate", output, "widget-1")))
    assert [(m["recipient_id"], m["text"]) for m in output.messages] == [("widget-1", UNAVAILABLE_REPLY)]


def test_a_message_processed_normally_gets_only_its_answer():
    async def assistant(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Buongiorno!")

    output = CollectingOutputChannel()
    asyncio.run(answering_failures(assistant)(UserMessage("Buongiorno", output, "widget-2")))
    assert [m["text"] for m in output.messages] == ["Buongiorno!"]


def test_it_is_rasas_socketio_channel_for_the_widget():
    channel = AnsweringSocketIOInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    )
    assert channel.name() == "socketio" and channel.session_persistence and channel.bot_message_evt == "bot_uttered"


def test_session_ids_are_issued_signed_and_checked():
    ids = SessionIds("conversation-id-secret")
    conversation, signed = ids.issue(customer=None)
    assert conversation.startswith("web:") and signed.startswith(conversation + ".")
    assert ids.verify(signed, None) == conversation
    assert ids.issue(None)[0] != conversation  # fresh every time
    # an id signed for an anonymous visitor is not resumed by a login, nor one login's by another
    assert ids.verify(signed, "100001") is None
    _, mario = ids.issue("100001")
    assert ids.verify(mario, "100001") and ids.verify(mario, "100002") is None and ids.verify(mario, None) is None
    for forged in [
        conversation,
        conversation + ".",
        signed[:-1] + "x",
        signed + "0",
        "web:." + signed.rpartition(".")[2],
        SessionIds("another-secret").issue(None)[1],
        None,
        42,
        ["web:x.y"],
        "web:" + "a" * 500,
    ]:
        assert ids.verify(forged, None) is None, forged


def test_malformed_messages_are_named():
    assert _malformed({"message": "ciao"}) is None
    for payload in [None, "ciao", 1, [], {}, {"message": None}, {"message": 3}, {"message": ["x"]}, {"message": " \n"}]:
        assert _malformed(payload), payload
