"""The customer panel next to a conversation (issue 14): the verified customer's open bills,
installment plans and deferrals, and their conversations on every channel, one timeline per
customer code (bot/console/customer.py; the trust reasoning is in docs/security.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from bot import clock
from bot.console.auth import StaffMember
from bot.console.customer import panel
from bot.console.routes.deps import Console


def router(console: Console) -> APIRouter:
    routes = APIRouter()

    @routes.get("/api/conversations/{shown_id}/customer")
    def customer(shown_id: str, staff: StaffMember = Depends(console.member)) -> Any:
        conversation_id = console.refs.resolve(shown_id)
        return panel(
            console.rasa.slots(conversation_id),
            console.billing,
            console.sessions,
            console.conversations,
            console.refs,
            conversation_id,
            clock.today(),
        )

    return routes
