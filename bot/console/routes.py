"""Console routes (mounted under /console by bot.web.app).

Every route but the login form needs a staff session; every POST also its CSRF token. The
conversation itself lives in Rasa's tracker store: the console reads it, and writes agent
turns through Rasa's HTTP API (`/conversations/{id}/tracker/events` with the latest input
channel as output channel, so the customer receives them on the channel they are on).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
from fastapi import APIRouter, Depends, Form, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, constr

from bot.console import auth
from bot.db import session_factory
from bot.masking import mask_text
from bot.settings import Settings
from bot.support.db import make_engine, upgrade_schema
from bot.support.handoff import TicketDesk, utcnow

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
OUTCOMES = ("risolto", "non_risolto", "richiamata", "reclamo")


class NotLoggedIn(Exception):
    def __init__(self, wants_html: bool) -> None:
        self.wants_html = wants_html


class ReplyBody(BaseModel):
    text: constr(strip_whitespace=True, min_length=1, max_length=2000)


class CloseBody(BaseModel):
    outcome: constr(regex="^(" + "|".join(OUTCOMES) + ")$")


def agent_turn(agent: str, text: str) -> Dict[str, Any]:
    """The custom payload of an agent's message. Rasa's socket.io channel emits custom payloads
    as `emit(event, **payload)`, so the message goes under `data` (what the widget receives)."""
    return {"data": {"sender": "agent", "agent_name": agent, "text": text}}


def agent_turn_of(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    payload = (((event.get("data") or {}).get("custom") or {}).get("data") or {})
    return payload if payload.get("sender") == "agent" else None


def transcript(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Turns of a conversation for the agent: masked texts, intents with confidence, actions."""
    turns: List[Dict[str, Any]] = []
    for event in events:
        kind, at = event.get("event"), event.get("timestamp")
        if kind == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            turns.append({"from": "cliente", "text": mask_text(event.get("text") or ""), "at": at,
                          "intent": intent.get("name"), "confidence": round(intent.get("confidence") or 0, 2)})
        elif kind == "bot":
            turn = agent_turn_of(event)
            if turn:
                turns.append({"from": "operatore", "agent": turn.get("agent_name"),
                              "text": mask_text(turn.get("text") or ""), "at": at})
            else:
                buttons = [b.get("title") for b in (event.get("data") or {}).get("buttons") or []]
                turns.append({"from": "assistente", "text": mask_text(event.get("text") or ""), "at": at,
                              "buttons": buttons})
        elif kind == "action" and event.get("name") not in (None, "action_listen"):
            turns.append({"from": "azione", "name": event["name"], "at": at})
        elif kind == "pause":
            turns.append({"from": "sistema", "text": "conversazione passata a un operatore", "at": at})
        elif kind == "resume":
            turns.append({"from": "sistema", "text": "conversazione ripresa dall'assistente", "at": at})
    return turns


def build_router(settings: Settings) -> APIRouter:
    upgrade_schema(settings.support_database_url)
    sessions = session_factory(make_engine(settings.support_database_url))
    desk = TicketDesk(settings.support_database_url, settings)
    rasa = settings.rasa_api_url.rstrip("/")
    router = APIRouter(prefix="/console")

    def rasa_call(method: str, path: str, **kwargs: Any) -> Any:
        params = {"token": settings.rasa_api_token, **kwargs.pop("params", {})}
        try:
            answer = requests.request(method, rasa + path, params=params, timeout=(2, 10), **kwargs)
        except requests.RequestException:
            raise HTTPException(502, "Rasa non raggiungibile")
        if answer.status_code >= 400:
            raise HTTPException(502, f"Rasa ha risposto {answer.status_code}")
        return answer.json()

    def member(request: Request) -> auth.StaffMember:
        found = auth.member_for(sessions, request.cookies.get(auth.COOKIE))
        if found is None:
            raise NotLoggedIn(wants_html="text/html" in request.headers.get("accept", ""))
        return found

    def member_with_csrf(request: Request, x_csrf_token: Optional[str] = Header(None),
                         staff: auth.StaffMember = Depends(member)) -> auth.StaffMember:
        if not x_csrf_token or x_csrf_token != staff.csrf_token:
            raise HTTPException(403, "token CSRF mancante o non valido")
        return staff

    # ------------------------------------------------------------------ login
    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, error: Optional[str] = None) -> Any:
        return TEMPLATES.TemplateResponse("login.html", {"request": request, "error": error})

    @router.post("/login")
    def login(username: str = Form(..., max_length=80), password: str = Form(..., max_length=200)) -> Any:
        token = auth.login(sessions, username, password, settings.console_session_hours)
        if token is None:
            return RedirectResponse("/console/login?error=1", status_code=303)
        response = RedirectResponse("/console/", status_code=303)
        response.set_cookie(auth.COOKIE, token, httponly=True, samesite="strict", path="/console",
                            secure=settings.console_secure_cookies, max_age=settings.console_session_hours * 3600)
        return response

    @router.post("/logout")
    def logout(request: Request, staff: auth.StaffMember = Depends(member_with_csrf)) -> Any:
        auth.logout(sessions, request.cookies.get(auth.COOKIE, ""))
        response = JSONResponse({"status": "logged out"})
        response.delete_cookie(auth.COOKIE, path="/console")
        return response

    # ------------------------------------------------------------------ pages
    @router.get("/", response_class=HTMLResponse)
    def queue_page(request: Request, staff: auth.StaffMember = Depends(member)) -> Any:
        return TEMPLATES.TemplateResponse("queue.html", {"request": request, "staff": staff})

    @router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
    def conversation_page(conversation_id: str, request: Request, staff: auth.StaffMember = Depends(member)) -> Any:
        return TEMPLATES.TemplateResponse("conversation.html", {
            "request": request, "staff": staff, "conversation_id": conversation_id, "outcomes": OUTCOMES})

    # ------------------------------------------------------------------ API
    @router.get("/api/queue")
    def queue(staff: auth.StaffMember = Depends(member)) -> Any:
        now = utcnow()
        return {"tickets": [{
            "id": t.id, "conversation_id": t.conversation_id, "channel": t.channel, "status": t.status,
            "reason": t.summary.get("reason"), "taken_by": t.taken_by, "summary": t.summary,
            "waiting_seconds": int(((t.taken_at or now) - t.created_at).total_seconds()),
        } for t in desk.waiting_and_active()]}

    @router.post("/api/tickets/{ticket_id}/take")
    def take(ticket_id: int, staff: auth.StaffMember = Depends(member_with_csrf)) -> Any:
        if desk.get(ticket_id) is None:
            raise HTTPException(404, "ticket inesistente")
        ticket = desk.take(ticket_id, staff.username)
        return {"id": ticket.id, "status": ticket.status, "taken_by": ticket.taken_by,
                "conversation_id": ticket.conversation_id}

    @router.get("/api/conversations/{conversation_id}")
    def conversation(conversation_id: str, staff: auth.StaffMember = Depends(member)) -> Any:
        tracker = rasa_call("GET", f"/conversations/{conversation_id}/tracker", params={"include_events": "ALL"})
        ticket = desk.open_for(conversation_id)
        return {"conversation_id": conversation_id, "paused": tracker.get("paused"),
                "channel": tracker.get("latest_input_channel"),
                "ticket": {"id": ticket.id, "status": ticket.status, "taken_by": ticket.taken_by,
                           "summary": ticket.summary} if ticket else None,
                "turns": transcript(tracker.get("events") or [])}

    def open_ticket_of(conversation_id: str) -> Any:
        ticket = desk.open_for(conversation_id)
        if ticket is None:
            raise HTTPException(409, "nessun passaggio a operatore aperto per questa conversazione")
        return ticket

    def send(conversation_id: str, events: List[Dict[str, Any]]) -> None:
        rasa_call("POST", f"/conversations/{conversation_id}/tracker/events", json=events,
                  params={"output_channel": "latest", "execute_side_effects": "true"})

    @router.post("/api/conversations/{conversation_id}/reply")
    def reply(conversation_id: str, body: ReplyBody, staff: auth.StaffMember = Depends(member_with_csrf)) -> Any:
        ticket = open_ticket_of(conversation_id)
        if ticket.status == "waiting":
            desk.take(ticket.id, staff.username)
        agent = staff.username
        send(conversation_id, [{"event": "bot", "text": None, "metadata": {"sender": "agent", "agent_name": agent},
                                "data": {"custom": agent_turn(agent, body.text)},
                                "timestamp": datetime.now(timezone.utc).timestamp()}])
        desk.replied(ticket.id)
        return {"status": "sent"}

    def give_back(conversation_id: str, message: str) -> None:
        # The bot speaks, then listens: without the action_listen the policies would not
        # recognise the next message as a new turn (none was logged while paused).
        send(conversation_id, [{"event": "resume"}, {"event": "bot", "text": message},
                               {"event": "action", "name": "action_listen"}])

    @router.post("/api/conversations/{conversation_id}/handback")
    def hand_back(conversation_id: str, staff: auth.StaffMember = Depends(member_with_csrf)) -> Any:
        ticket = open_ticket_of(conversation_id)
        desk.close(ticket.id, "restituito_al_bot")
        give_back(conversation_id, "Sono di nuovo l'assistente virtuale. Posso aiutarLa in altro?")
        return {"status": "resumed"}

    @router.post("/api/conversations/{conversation_id}/close")
    def close(conversation_id: str, body: CloseBody, staff: auth.StaffMember = Depends(member_with_csrf)) -> Any:
        ticket = open_ticket_of(conversation_id)
        desk.close(ticket.id, body.outcome)
        give_back(conversation_id, "La conversazione con l'operatore si è conclusa. Se ha bisogno, sono qui.")
        return {"status": "closed", "outcome": body.outcome}

    return router
