"""Canned replies and the customer panel of the agent desk (issue 14), in-process: who may manage
canned replies (supervisors, audited) and who may use them (every member), bad input, the
variables filled only with values that are certainly right, a reply still holding a placeholder
refused, and the panel's timeline (one per verified customer code, every channel).

As in test_routes_inprocess.py nothing listens on the Rasa port; the billing backend's port is
closed too (the panel says the backend does not answer). The panel and the fill against the
running backend and Rasa: tests/console/test_customer_panel.py and tests/web/test_canned_browser.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.billing.client import BillingClient
from bot.console.canned import VARIABLES, fill, unfilled, values_for
from bot.console.conversations import ConversationStore
from bot.console.customer import (
    EXPIRED,
    NOT_VERIFIED,
    UNAVAILABLE,
    BillingFacts,
    bill_row,
    panel,
    plan_row,
    verified_customer,
)
from bot.console.refs import ConversationRefs
from bot.db import session_factory
from bot.support.db import make_engine
from bot.support.models import CannedReply
from tests.console.inprocess import Console, make_console, store_events
from tests.harness.processes import free_port
from tests.support.recorded import CONVERSATION
from tests.support.recorded import EVENTS as RECORDED

BILL_DAY = date(2026, 11, 26)
MARIO = {"customer_code": "100001", "customer_verified": True, "customer_name": "Mario Rossi", "customer_token": "t"}
BILL = {"id": "F100001-01", "amount_cents": 18_240, "due_date": "2026-12-07", "status": "open", "supply": "luce"}
GAS = {"id": "F100001-04", "amount_cents": 5_000, "due_date": "2026-12-20", "status": "open", "supply": "gas"}


def on_channel(channel: str) -> list[dict[str, Any]]:
    """The recorded conversation (Mario verified) as if it had come from another channel."""
    return [dict(e, input_channel=channel) if e["event"] == "user" else e for e in RECORDED]


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Console:
    tmp = tmp_path_factory.mktemp("canned")
    console = make_console(tmp)
    tracker = console.settings.tracker_store_url
    store_events(tracker, "web:sito1", on_channel("socketio"))
    store_events(tracker, "wa:numero1", on_channel("whatsapp"))
    # the code typed, never verified (the events stop before the backend's answer)
    verified_at = next(i for i, e in enumerate(RECORDED) if e.get("name") == "customer_verified")
    store_events(tracker, "web:nonverificato", on_channel("socketio")[:verified_at])
    return console


def replies(console: Console) -> dict[str, str]:
    with session_factory(make_engine(console.support_url))() as session:
        return {r.title: r.body for r in session.execute(select(CannedReply)).scalars()}


# ---------------------------------------------------------------------- who manages, who uses
def test_agents_read_the_seeded_replies_but_only_supervisors_change_them(
    console: Console, clients: dict[str, TestClient]
) -> None:
    giulia, marta = clients["giulia"], clients["marta"]
    listed = giulia.get("/console/api/canned").json()
    titles = [r["title"] for r in listed["replies"]]
    assert {"Presentazione", "Bolletta aperta", "Chiusura"} <= set(titles) and titles == sorted(titles)
    assert set(listed["variables"]) == set(VARIABLES)
    seeded = next(r for r in listed["replies"] if r["title"] == "Bolletta aperta")
    before, audited = replies(console), len(console.audit("canned_create", "canned_update", "canned_delete"))

    for path, body in (
        ("/console/api/canned", {"title": "Di Giulia", "body": "Salve"}),
        (f"/console/api/canned/{seeded['id']}", {"title": "Cambiata", "body": "Salve"}),
        (f"/console/api/canned/{seeded['id']}/delete", None),
    ):
        answer = giulia.post(path, json=body)
        assert answer.status_code == 403 and "supervisori" in answer.json()["detail"], path
    assert giulia.get("/console/canned").status_code == 403
    assert replies(console) == before
    assert len(console.audit("canned_create", "canned_update", "canned_delete")) == audited

    page = marta.get("/console/canned")
    assert page.status_code == 200 and "{importo}" in page.text and "Risposte pronte" in page.text
    assert "/console/canned" in marta.get("/console/").text and "/console/canned" not in giulia.get("/console/").text


def test_a_supervisor_creates_edits_and_deletes_and_each_change_is_audited(
    console: Console, clients: dict[str, TestClient]
) -> None:
    marta = clients["marta"]
    created = marta.post("/console/api/canned", json={"title": " Sollecito ", "body": "Gentile {nome}, …"})
    assert created.status_code == 201
    reply = created.json()
    assert (reply["title"], reply["updated_by"]) == ("Sollecito", "marta")
    assert marta.post("/console/api/canned", json={"title": "Sollecito", "body": "altro"}).status_code == 409

    edited = marta.post(f"/console/api/canned/{reply['id']}", json={"title": "Sollecito", "body": "Gentile {nome}."})
    assert edited.status_code == 200 and replies(console)["Sollecito"] == "Gentile {nome}."
    assert marta.post(f"/console/api/canned/{reply['id']}/delete").json() == {"status": "deleted"}
    assert "Sollecito" not in replies(console)
    assert marta.post(f"/console/api/canned/{reply['id']}/delete").status_code == 404
    assert marta.post("/console/api/canned/999999", json={"title": "x", "body": "y"}).status_code == 404

    trail = console.audit("canned_create", "canned_update", "canned_delete")[-3:]
    assert [(e.action, e.actor) for e in trail] == [
        ("canned_create", "marta"),
        ("canned_update", "marta"),
        ("canned_delete", "marta"),
    ]
    assert all(e.detail == f"canned reply {reply['id']} (Sollecito)" for e in trail)


@pytest.mark.parametrize(
    "body",
    [
        {"title": "", "body": "Salve"},
        {"title": "t" * 81, "body": "Salve"},
        {"title": "Vuota", "body": "   "},
        {"title": "Lunga", "body": "a" * 2001},
        {"title": "Sbagliata", "body": "Gentile {nomee}"},  # a variable that does not exist
        {"title": "Senza testo"},
    ],
)
def test_bad_canned_replies_get_422_and_nothing_is_stored(
    console: Console, clients: dict[str, TestClient], body: dict[str, Any]
) -> None:
    before = replies(console)
    answer = clients["marta"].post("/console/api/canned", json=body)
    assert answer.status_code == 422, answer.text
    assert replies(console) == before
    if "nomee" in body.get("body", ""):
        assert "{nomee}" in answer.json()["detail"] and "{nome}" in answer.json()["detail"]


# ---------------------------------------------------------------------- filling and sending
def test_an_agent_fills_a_reply_that_needs_no_customer_data_without_rasa(
    console: Console, clients: dict[str, TestClient]
) -> None:
    marta, giulia = clients["marta"], clients["giulia"]
    made = marta.post("/console/api/canned", json={"title": "Firma", "body": "Un saluto da {operatore}."}).json()
    filled = giulia.get(f"/console/api/conversations/{CONVERSATION}/canned/{made['id']}")
    assert filled.json() == {"text": "Un saluto da Giulia.", "missing": []}
    # a reply that uses the customer's data asks Rasa for the conversation's slots (down here)
    seeded = next(r for r in giulia.get("/console/api/canned").json()["replies"] if r["title"] == "Presentazione")
    assert giulia.get(f"/console/api/conversations/{CONVERSATION}/canned/{seeded['id']}").status_code == 502
    assert giulia.get(f"/console/api/conversations/{CONVERSATION}/canned/999999").status_code == 404


def test_a_reply_still_holding_a_placeholder_is_refused_before_anything_is_sent(
    console: Console, clients: dict[str, TestClient]
) -> None:
    ticket = console.open_ticket("segnaposto-1")
    giulia = clients["giulia"]
    giulia.post(f"/console/api/tickets/{ticket}/take").raise_for_status()
    answer = giulia.post(
        "/console/api/conversations/segnaposto-1/reply", json={"text": "La bolletta di {importo} scade il {scadenza}."}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("Completi o tolga {importo}, {scadenza} prima di inviare")
    # a placeholder of no variable (a reply written before a rename) is refused as well
    old = giulia.post("/console/api/conversations/segnaposto-1/reply", json={"text": "La bolletta {numero}"})
    assert old.status_code == 422 and "{numero}" in old.json()["detail"]
    # braces around what is no placeholder's shape are ordinary text: past the check, on to Rasa (down here)
    assert giulia.post("/console/api/conversations/segnaposto-1/reply", json={"text": "Ok {sì}"}).status_code == 502


def test_variables_are_filled_only_with_values_that_are_certainly_right() -> None:
    body = (
        "Gentile {nome}, sono {operatore}: la bolletta {fornitura} di {importo} "
        "scade il {scadenza} ({totale_da_pagare})."
    )
    mario = verified_customer(MARIO)
    one = fill(body, values_for("giulia", mario, BillingFacts(bills=[BILL])))
    assert one.text == (
        "Gentile Mario Rossi, sono Giulia: la bolletta luce di 182,40\u00a0€ scade il 7 dicembre 2026 (182,40\u00a0€)."
    )
    assert one.missing == [] and unfilled(one.text) == []

    two = fill(body, values_for("giulia", mario, BillingFacts(bills=[BILL, GAS])))  # which bill? not known
    assert two.text == (
        "Gentile Mario Rossi, sono Giulia: la bolletta {fornitura} di {importo} scade il {scadenza} (232,40\u00a0€)."
    )
    assert two.missing == ["fornitura", "importo", "scadenza"] == unfilled(two.text)

    expired = fill(body, values_for("giulia", mario, BillingFacts(problem=EXPIRED)))
    assert expired.missing == ["fornitura", "importo", "scadenza", "totale_da_pagare"]
    assert expired.text.startswith("Gentile Mario Rossi, sono Giulia")

    nobody = fill(body, values_for("giulia", None, None))
    assert nobody.text.startswith("Gentile {nome}, sono Giulia") and "nome" in nobody.missing


@pytest.mark.parametrize(
    "slots",
    [
        {},
        {**MARIO, "customer_verified": None},
        {**MARIO, "customer_verified": "true"},  # only the action server's boolean counts
        {**MARIO, "customer_code": None},
        {"customer_code": "100001", "phone_lookup_done": True},  # WhatsApp's hint: a code, no identity
    ],
)
def test_a_code_without_the_backends_verification_is_no_customer(slots: dict[str, Any]) -> None:
    assert verified_customer(slots) is None


# ---------------------------------------------------------------------- the panel
def panel_of(console: Console, slots: dict[str, Any], conversation: str = CONVERSATION) -> dict[str, Any]:
    sessions = session_factory(make_engine(console.support_url))
    billing = BillingClient(base_url=f"http://127.0.0.1:{free_port()}", token="x", retries=0)  # noqa: S106 - nobody listens
    store = ConversationStore(console.settings, sessions)
    return panel(slots, billing, sessions, store, ConversationRefs(sessions), conversation, BILL_DAY)


def test_the_panel_of_an_unverified_customer_says_so_and_shows_nothing_else(console: Console) -> None:
    shown = panel_of(console, {"customer_code": "100001"})
    assert shown == {"verified": False, "message": NOT_VERIFIED}


def test_the_timeline_holds_every_channel_of_the_verified_code_and_the_backend_outage_is_said(
    console: Console,
) -> None:
    shown = panel_of(console, MARIO)
    assert shown["verified"] and shown["customer"] == {"name": "M*** R***", "code": "****01"}
    assert (shown["message"], shown["bills"], shown["plans"]) == (UNAVAILABLE, [], [])
    timeline = {item["id"]: item for item in shown["timeline"]}
    assert set(timeline) == {CONVERSATION, "web:sito1", "wa:numero1"}  # not the unverified one
    assert {timeline[i]["channel_label"] for i in timeline} == {"Sistemi interni (API)", "Sito web", "WhatsApp"}
    assert [i for i, item in timeline.items() if item["current"]] == [CONVERSATION]
    assert "Sapere lo stato delle bollette" in timeline["wa:numero1"]["topics"]
    assert all(item["handed_off"] for item in timeline.values())
    text = str(shown)
    assert "Mario" not in text and "RSSMRA80A01H501U" not in text and "100001" not in text


def test_the_panel_and_fill_routes_need_rasa_and_a_session(console: Console, clients: dict[str, TestClient]) -> None:
    assert clients["giulia"].get(f"/console/api/conversations/{CONVERSATION}/customer").status_code == 502
    assert TestClient(console.app).get(f"/console/api/conversations/{CONVERSATION}/customer").status_code == 401


def test_bills_plans_and_deferrals_are_named_as_the_assistant_names_them() -> None:
    deferred = dict(BILL, deferred=True, original_due_date="2026-11-30", has_installment_plan=True)
    assert bill_row(deferred) == {
        "supply": "luce",
        "amount": "182,40\u00a0€",
        "due": "7 dicembre 2026",
        "arrears": False,
        "has_plan": True,
        "deferral": "rinviata dal 30 novembre 2026 al 7 dicembre 2026",
    }
    plan = {
        "bill_id": BILL["id"],
        "total_cents": 18_240,
        "installments": [
            {"number": 1, "due_date": "2026-11-20", "amount_cents": 6_080},
            {"number": 2, "due_date": "2026-12-20", "amount_cents": 6_080},
            {"number": 3, "due_date": "2027-01-20", "amount_cents": 6_080},
        ],
    }
    shown = plan_row(plan, {BILL["id"]: BILL}, BILL_DAY)
    assert shown == {
        "bill": "luce 182,40\u00a0€",
        "total": "182,40\u00a0€",
        "installments": 3,
        "next": "rata 2 di 60,80\u00a0€ il 20 dicembre 2026",
    }
    assert plan_row(plan, {}, date(2027, 2, 1))["bill"] == "bolletta non più aperta"
    assert plan_row(plan, {}, date(2027, 2, 1))["next"] is None
    assert "F100001" not in str(shown) + str(bill_row(deferred))
