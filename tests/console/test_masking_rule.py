"""One masking rule for the console (issue 14, docs/console.md "Personal data"): the ticket's
summary, the transcript, the review's preview and the exports mask the customer code the same
way (****01) with the other personal data; the company's own numbers and the agent's own words
are shown as written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.masking import mask_text, names_masker
from bot.settings import get_settings
from bot.support.handoff import conversation_summary
from tests.console.inprocess import login, make_console, store_events

CODE, NAME, PHONE = "100001", "Mario Rossi", "3331234567"


def events() -> list[dict[str, Any]]:
    at = 1764630000.0
    return [
        {
            "event": "user",
            "text": f"sono {NAME}, codice cliente {CODE}, cell {PHONE}",
            "timestamp": at,
            "message_id": "a",
            "input_channel": "rest",
            "parse_data": {"intent": {"name": "inform", "confidence": 0.9}},
        },
        {"event": "slot", "name": "customer_code", "value": CODE, "timestamp": at + 1},
        {"event": "slot", "name": "customer_name", "value": NAME, "timestamp": at + 1},
        {"event": "slot", "name": "customer_verified", "value": True, "timestamp": at + 1},
        {
            "event": "bot",
            "text": f"Grazie, ho verificato il codice {CODE}. Per i guasti chiami l'800 900 800.",
            "timestamp": at + 2,
        },
        {"event": "pause", "timestamp": at + 3},
        {
            "event": "bot",
            "text": None,
            "timestamp": at + 4,
            "metadata": {"sender": "agent", "agent_name": "giulia"},
            "data": {
                "custom": {
                    "data": {
                        "sender": "agent",
                        "agent_name": "giulia",
                        "text": "Buongiorno Mario, sono Giulia: mi chiami pure al numero verde 800 123 456.",
                    }
                }
            },
        },
    ]


def test_the_company_numbers_are_not_masked_and_a_customer_number_is() -> None:
    settings = get_settings()
    for number in (settings.call_centre_number, settings.emergency_number_gas, settings.emergency_number_electricity):
        assert mask_text(f"chiami il {number}") == f"chiami il {number}"
    assert PHONE not in mask_text(f"il mio cell è {PHONE}")


def test_the_customer_code_is_masked_with_the_names() -> None:
    masked = names_masker([NAME], [CODE])(f"{NAME}, codice {CODE}, bolletta 1000012")
    assert masked == "M*** R***, codice ****01, bolletta 1000012"  # a longer number is not the code


def test_summary_transcript_review_and_exports_mask_the_same_way(tmp_path: Path) -> None:
    recorded = events()
    slots = {"customer_code": CODE, "customer_name": NAME, "customer_verified": True}
    summary = json.dumps(conversation_summary(recorded, slots, "rest", "request_human"))

    console = make_console(tmp_path)
    store_events(console.settings.tracker_store_url, "mascherata", recorded)
    marta = login(console.app, "marta")
    export = marta.get("/console/api/export.jsonl").text
    exported = next(json.loads(line) for line in export.splitlines() if "mascherata" in line)
    listed = marta.get("/console/api/conversations").json()["conversations"]
    preview = next(c["preview"] for c in listed if c["id"] == "mascherata")

    turns = exported["turns"]
    for shown in (summary, json.dumps(turns), preview):
        assert CODE not in shown and PHONE not in shown and "Mario Rossi" not in shown
    assert "****01" in summary and "****01" in json.dumps(turns) and "****01" in preview
    customer = next(t for t in turns if t["from"] == "cliente")
    assert "codice cliente ****01" in customer["text"] and "********67" in customer["text"]
    assistant = next(t for t in turns if t["from"] == "assistente")
    assert "il codice ****01" in assistant["text"] and "800 900 800" in assistant["text"]
    agent = next(t for t in turns if t["from"] == "operatore")
    assert agent["text"] == "Buongiorno Mario, sono Giulia: mi chiami pure al numero verde 800 123 456."
