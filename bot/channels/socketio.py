"""Rasa's socket.io channel (the website widget), with an answer when a message cannot be
processed: Rasa's channel lets the error escape into python-socketio and the widget waits for a
reply that never comes; here the customer reads the apology and knows to send the message again
(a store unreachable: PostgreSQL, Redis). Failures are logged without the message text.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from bot.channels import apologise

logger = logging.getLogger(__name__)


def answering_failures(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[None]]:
    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception as error:  # noqa: BLE001 - the customer must not wait for nothing
            logger.error("socket.io message not processed: %s", type(error).__name__)
            await apologise(message.output_channel, message.sender_id, logger)

    return handle


class AnsweringSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(answering_failures(on_new_message))
