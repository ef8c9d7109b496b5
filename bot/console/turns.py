"""A conversation's events as the console shows them: turns of the customer, the bot, the agent.

An agent's message is stored in the tracker as a bot event with a custom payload (Rasa's
socket.io channel emits it as the widget's agent message), so the transcript tells it apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.masking import names_masker


def agent_turn(agent: str, text: str) -> dict[str, Any]:
    """The custom payload of an agent's message. Rasa's socket.io channel emits custom payloads
    as `emit(event, **payload)`, so the message goes under `data` (what the widget receives)."""
    return {"data": {"sender": "agent", "agent_name": agent, "text": text}}


def agent_turn_of(event: dict[str, Any]) -> dict[str, Any] | None:
    payload = ((event.get("data") or {}).get("custom") or {}).get("data") or {}
    return payload if payload.get("sender") == "agent" else None


def slot_values(events: list[dict[str, Any]], name: str) -> list[str]:
    """Every value a slot was set to in these events (names and codes to mask)."""
    return [
        str(e["value"])
        for e in events
        if e.get("event") == "slot" and e.get("name") == name and isinstance(e.get("value"), (str, int))
    ]


def transcript(events: list[dict[str, Any]], masked: bool = True) -> list[dict[str, Any]]:
    """Turns of a conversation for the agent: masked texts, intents with confidence, actions.
    Masked as the summary and the exports are (docs/console.md, "Personal data"): personal data,
    the customer's names and customer code; the agent's own words are shown as written."""
    names, codes = slot_values(events, "customer_name"), slot_values(events, "customer_code")
    mask_text: Callable[[str], str] = names_masker(names, codes) if masked else (lambda text: text)
    turns: list[dict[str, Any]] = []
    for event in events:
        kind, at = event.get("event"), event.get("timestamp")
        if kind == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            turns.append(
                {
                    "from": "cliente",
                    "text": mask_text(event.get("text") or ""),
                    "at": at,
                    "intent": intent.get("name"),
                    "confidence": round(intent.get("confidence") or 0, 2),
                }
            )
        elif kind == "bot":
            turn = agent_turn_of(event)
            if turn:
                turns.append(
                    {
                        "from": "operatore",
                        "agent": turn.get("agent_name"),
                        "text": turn.get("text") or "",  # the agent's own words: not masked
                        "at": at,
                    }
                )
            else:
                buttons = [b.get("title") for b in (event.get("data") or {}).get("buttons") or []]
                turns.append(
                    {"from": "assistente", "text": mask_text(event.get("text") or ""), "at": at, "buttons": buttons}
                )
        elif kind == "action" and event.get("name") not in (None, "action_listen"):
            turns.append({"from": "azione", "name": event["name"], "at": at})
        elif kind == "pause":
            turns.append({"from": "sistema", "text": "conversazione passata a un operatore", "at": at})
        elif kind == "resume":
            turns.append({"from": "sistema", "text": "conversazione ripresa dall'assistente", "at": at})
    return turns
