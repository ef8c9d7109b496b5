"""Emergencies while a person has (or is about to have) the conversation (issue 13).

The assistant answers a gas smell or a power cut even while the conversation is paused for an
agent (bot/conversation_guards.py); the agent must see it at once: the open ticket is marked
as an emergency (reason "emergency", the summary's reason in Italian), which the console's queue
shows first-hand.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from actions.common import logger
from actions.handoff import desk
from bot.support.handoff import OPEN, REASONS
from bot.support.models import Ticket

EMERGENCY_REASON = "emergency"


def _flag(conversation_id: str) -> bool:
    with desk().sessions() as session, session.begin():
        ticket = session.execute(
            select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN))
        ).scalar_one_or_none()
        if ticket is None:
            return False
        ticket.reason = EMERGENCY_REASON
        ticket.summary = {**(ticket.summary or {}), "reason": REASONS[EMERGENCY_REASON], "emergency": True}
        return True


async def flag_emergency(conversation_id: str) -> bool:
    """Mark the conversation's open ticket as an emergency; False when there is none (or no
    support database: the customer has the emergency numbers either way)."""
    try:
        return await asyncio.to_thread(_flag, conversation_id)
    except Exception as error:  # noqa: BLE001 - the emergency answer must not depend on it
        logger.error("emergency flag failed: %s", type(error).__name__)
        return False
