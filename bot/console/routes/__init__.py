"""Console routes (mounted under /console by bot.web.app), one module per resource:

- `access`: static files, login (throttled) and logout: the only routes without a session;
- `queue`: the handoff queue; take, transfer, reply, hand back, close;
- `events`: server-sent events pushing the queue and a conversation to the agent desk;
- `conversation`: one conversation's page, live transcript and audited reveal in clear;
- `review`: the review list, tags and notes, audited exports, NLU corrections;
- `metrics`: the team's figures;
- `security`: the supervisors' page of locked accounts and login failures, and unlock;
- `canned`: canned replies, managed by supervisors (audited), filled for a conversation;
- `customer`: the customer panel next to a conversation (bills, plans, deferrals, timeline);
- `deps`: the parts they share (`Console`) and the dependencies that say who may call a route.

Every route but the login form and the static files needs a staff session; every POST also
its CSRF token (the login form a pre-session one). The conversation itself lives in Rasa's
tracker store: the console reads it, and writes agent turns through Rasa's HTTP API.
Supervisors may act on any ticket, see the "Sicurezza" page, export and reveal; agents act
only on the tickets assigned to them (bot/console/tickets.py). A conversation id that is
personal data (an old WhatsApp id: the phone number) is shown, linked and exported as an
opaque reference (bot/console/refs.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.console.headers import install_security_headers
from bot.console.routes import access, canned, conversation, customer, events, metrics, queue, review, security
from bot.console.routes.deps import Console, NotLoggedIn
from bot.console.turns import agent_turn, agent_turn_of
from bot.settings import Settings

# what bot.web.app (and tests) import from here
__all__ = ["NotLoggedIn", "agent_turn", "agent_turn_of", "build_router", "install_security_headers"]


def build_router(settings: Settings) -> APIRouter:
    console = Console.build(settings)
    router = APIRouter(prefix="/console")
    for module in (access, queue, conversation, events, review, metrics, security, canned, customer):
        router.include_router(module.router(console))
    return router
