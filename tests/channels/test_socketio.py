"""The widget's socket.io channel (bot/channels/socketio.py) answers a message it cannot process."""

from __future__ import annotations

import asyncio

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import UNAVAILABLE_REPLY
from bot.channels.socketio import AnsweringSocketIOInput, answering_failures


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
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True})
    assert channel.name() == "socketio" and channel.session_persistence and channel.bot_message_evt == "bot_uttered"
