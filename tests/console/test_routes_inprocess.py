"""The console's routes in-process (FastAPI's TestClient on the whole web app): routing, login,
CSRF, roles, ticket ownership, audited exports and reveals, masking, bad input.

The support database and the tracker store are real SQLite files (the recorded conversation
written as Rasa's SQL tracker store writes it). Nothing listens on the Rasa port: a route that
needs Rasa answers 502, so these tests check what the console decides before it calls Rasa;
tests/console/test_handoff.py covers the calls themselves against a running Rasa.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.db import session_factory
from bot.support.db import make_engine
from bot.support.models import Ticket
from tests.console.inprocess import PASSWORD, PHONE, Console, form_token, login, make_console
from tests.support.recorded import CONVERSATION

FISCAL_CODE = "RSSMRA80A01H501U"
MASKED_FISCAL_CODE = "RSS*********501U"

# Every console URL, as the single-builder router served them before the split (issue 11).
ROUTES = {
    ("GET", "/console/static/{name}"),
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("POST", "/console/logout"),
    ("GET", "/console/"),
    ("GET", "/console/conversations/{shown_id}"),
    ("GET", "/console/api/queue"),
    ("POST", "/console/api/tickets/{ticket_id}/take"),
    ("POST", "/console/api/tickets/{ticket_id}/transfer"),
    ("GET", "/console/api/conversations/{shown_id}"),
    ("POST", "/console/api/conversations/{shown_id}/reply"),
    ("POST", "/console/api/conversations/{shown_id}/handback"),
    ("POST", "/console/api/conversations/{shown_id}/close"),
    ("GET", "/console/review"),
    ("GET", "/console/api/conversations"),
    ("GET", "/console/api/export.jsonl"),
    ("GET", "/console/api/export.csv"),
    ("GET", "/console/api/conversations/{shown_id}/annotations"),
    ("POST", "/console/api/conversations/{shown_id}/tags"),
    ("POST", "/console/api/conversations/{shown_id}/notes"),
    ("POST", "/console/api/conversations/{shown_id}/reveal"),
    ("POST", "/console/api/corrections"),
    ("GET", "/console/api/corrections.yml"),
    ("GET", "/console/api/metrics"),
    ("GET", "/console/api/metrics.csv"),
    ("GET", "/console/metrics"),
    ("GET", "/console/security"),
    ("GET", "/console/api/security"),
    ("POST", "/console/api/security/unlock"),
    # issue 14: the agent desk's push (server-sent events)
    ("GET", "/console/api/events/queue"),
    ("GET", "/console/api/events/conversations/{shown_id}"),
    ("POST", "/console/api/conversations/{shown_id}/typing"),
    # issue 14: canned replies (supervisors manage them) and the customer panel
    ("GET", "/console/canned"),
    ("GET", "/console/api/canned"),
    ("POST", "/console/api/canned"),
    ("POST", "/console/api/canned/{reply_id}"),
    ("POST", "/console/api/canned/{reply_id}/delete"),
    ("GET", "/console/api/conversations/{shown_id}/canned/{reply_id}"),
    ("GET", "/console/api/conversations/{shown_id}/customer"),
}
OPEN_ROUTES = {("GET", "/console/static/{name}"), ("GET", "/console/login"), ("POST", "/console/login")}
SUPERVISOR_ONLY = [
    ("GET", "/console/security"),
    ("GET", "/console/api/security"),
    ("GET", "/console/api/export.jsonl"),
    ("GET", "/console/api/export.csv"),
    ("POST", "/console/api/security/unlock"),
    ("POST", f"/console/api/conversations/{CONVERSATION}/reveal"),
    ("GET", "/console/canned"),
    ("POST", "/console/api/canned"),
    ("POST", "/console/api/canned/1"),
    ("POST", "/console/api/canned/1/delete"),
]


def concrete(path: str) -> str:
    path = path.replace("{shown_id}", CONVERSATION).replace("{ticket_id}", "1").replace("{reply_id}", "1")
    return path.replace("{name}", "console.js")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Console:
    return make_console(tmp_path_factory.mktemp("console-inprocess"))


# ---------------------------------------------------------------------- routing
def test_every_console_url_is_still_routed(console: Console) -> None:
    routed = {
        (method, route.path)
        for route in console.app.routes
        if getattr(route, "path", "").startswith("/console")
        for method in getattr(route, "methods", None) or ()
    }
    assert routed == ROUTES


@pytest.mark.parametrize("method, path", sorted(ROUTES - OPEN_ROUTES))
def test_anonymous_requests_get_401_or_the_login_page(console: Console, method: str, path: str) -> None:
    client = TestClient(console.app)
    api = client.request(method, concrete(path), json={}, follow_redirects=False)
    assert (api.status_code, api.json()) == (401, {"error": "login required"})
    page = client.request(method, concrete(path), headers={"Accept": "text/html"}, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/console/login")


# ---------------------------------------------------------------------- login and CSRF
def test_the_login_form_needs_its_pre_session_token(console: Console) -> None:
    client = TestClient(console.app)
    missing = client.post("/console/login", data={"username": "giulia", "password": PASSWORD}, follow_redirects=False)
    form_token(client)  # the cookie is set, but a page of another site cannot read it
    forged = client.post(
        "/console/login",
        data={"username": "giulia", "password": PASSWORD, "csrf_token": "x" * 43},
        follow_redirects=False,
    )
    for answer in (missing, forged):
        assert answer.status_code == 403 and "Il modulo di accesso è scaduto" in answer.text
        assert "console_session" not in answer.headers.get("set-cookie", "")


def test_login_sets_a_strict_httponly_cookie_and_logout_needs_the_csrf_token(console: Console) -> None:
    client = TestClient(console.app)
    wrong = client.post(
        "/console/login",
        data={"username": "giulia", "password": "sbagliata!!", "csrf_token": form_token(client)},
        follow_redirects=False,
    )
    assert wrong.status_code == 401 and "Nome utente o password non validi" in wrong.text
    right = client.post(
        "/console/login",
        data={"username": "giulia", "password": PASSWORD, "csrf_token": form_token(client)},
        follow_redirects=False,
    )
    assert (right.status_code, right.headers["location"]) == (303, "/console/")
    cookie = next(c for c in right.headers.get_list("set-cookie") if c.startswith("console_session="))
    assert all(flag in cookie.lower() for flag in ("httponly", "samesite=strict", "path=/console"))

    assert client.post("/console/logout").status_code == 403
    assert client.get("/console/api/queue").status_code == 200
    page = client.get("/console/").text
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    assert client.post("/console/logout", headers={"X-CSRF-Token": token}).json() == {"status": "logged out"}
    assert client.get("/console/api/queue").status_code == 401


@pytest.mark.parametrize("path", sorted(p for m, p in ROUTES - OPEN_ROUTES if m == "POST"))
def test_every_post_needs_the_sessions_csrf_token(console: Console, clients: dict[str, TestClient], path: str) -> None:
    giulia, marta = clients["giulia"], clients["marta"]
    without = TestClient(console.app, cookies={"console_session": giulia.cookies["console_session"]})
    answers = [without.post(concrete(path), json={})] + [
        giulia.post(concrete(path), json={}, headers={"X-CSRF-Token": token})
        for token in ("", "x" * 32, marta.headers["X-CSRF-Token"])  # empty, guessed, another member's
    ]
    for answer in answers:
        assert (answer.status_code, answer.json()) == (403, {"detail": "token CSRF mancante o non valido"}), path


# ---------------------------------------------------------------------- roles
@pytest.mark.parametrize("method, path", SUPERVISOR_ONLY)
def test_supervisor_only_routes_refuse_an_agent(
    console: Console, clients: dict[str, TestClient], method: str, path: str
) -> None:
    before = len(console.audit("export_csv", "export_jsonl", "reveal", "unlock"))
    answer = clients["giulia"].request(method, path, json={"username": "paolo"})
    assert answer.status_code == 403
    assert "supervisor" in answer.json()["detail"]
    assert len(console.audit("export_csv", "export_jsonl", "reveal", "unlock")) == before


def test_the_pages_open_for_their_roles(clients: dict[str, TestClient]) -> None:
    for path in ("/console/", "/console/review", "/console/metrics", f"/console/conversations/{CONVERSATION}"):
        page = clients["giulia"].get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
    security = clients["marta"].get("/console/security")
    assert security.status_code == 200 and "text/html" in security.headers["content-type"]


# ---------------------------------------------------------------------- tickets
def test_an_agent_acts_only_on_the_tickets_assigned_to_them(console: Console, clients: dict[str, TestClient]) -> None:
    giulia, paolo = clients["giulia"], clients["paolo"]
    conversation = "ownership-1"
    ticket = console.open_ticket(conversation)
    queue = giulia.get("/console/api/queue").json()["tickets"]
    assert any(t["id"] == ticket and t["status"] == "waiting" for t in queue)

    assert giulia.post(f"/console/api/tickets/{ticket}/take").json()["taken_by"] == "giulia"
    refused = paolo.post(f"/console/api/tickets/{ticket}/take")  # stays hers: a 409 naming her
    assert refused.status_code == 409 and "giulia" in refused.json()["detail"]
    base = f"/console/api/conversations/{conversation}"
    for path, body in (
        (f"{base}/reply", {"text": "Buongiorno"}),
        (f"{base}/handback", {}),
        (f"{base}/close", {"outcome": "risolto"}),
    ):
        answer = paolo.post(path, json=body)
        assert answer.status_code == 403 and "assegnata a un altro operatore" in answer.json()["detail"], path
    stolen = paolo.post(f"/console/api/tickets/{ticket}/transfer", json={"to": "paolo"})
    assert stolen.status_code == 403

    moved = giulia.post(f"/console/api/tickets/{ticket}/transfer", json={"to": "paolo"})
    assert moved.status_code == 200 and moved.json()["taken_by"] == "paolo"
    assert [e.detail for e in console.audit("transfer")][-1] == f"ticket {ticket} from giulia to paolo"
    # now paolo's: the console gets past the ownership check and calls Rasa, which is down here
    assert paolo.post(f"{base}/reply", json={"text": "Buongiorno"}).status_code == 502
    assert giulia.post(f"{base}/reply", json={"text": "Buongiorno"}).status_code == 403


def test_tickets_that_do_not_exist_get_404_or_409(clients: dict[str, TestClient]) -> None:
    giulia = clients["giulia"]
    assert giulia.post("/console/api/tickets/999999/take").status_code == 404
    assert giulia.post("/console/api/tickets/999999/transfer", json={"to": "paolo"}).status_code == 404
    assert giulia.post("/console/api/conversations/senza-ticket/reply", json={"text": "Salve"}).status_code == 409
    assert giulia.post("/console/api/conversations/senza-ticket/handback").status_code == 409


def test_a_transfer_to_an_unknown_member_is_404(console: Console, clients: dict[str, TestClient]) -> None:
    ticket = console.open_ticket("transfer-unknown")
    clients["giulia"].post(f"/console/api/tickets/{ticket}/take")
    answer = clients["giulia"].post(f"/console/api/tickets/{ticket}/transfer", json={"to": "nessuno"})
    assert (answer.status_code, answer.json()["detail"]) == (404, "operatore inesistente")
    with session_factory(make_engine(console.support_url))() as session:
        assert session.get(Ticket, ticket).taken_by == "giulia"


def test_the_conversation_view_says_rasa_is_unreachable(clients: dict[str, TestClient]) -> None:
    answer = clients["giulia"].get(f"/console/api/conversations/{CONVERSATION}")
    assert (answer.status_code, answer.json()) == (502, {"detail": "Rasa non raggiungibile"})


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", f"/console/api/conversations/{CONVERSATION}/reply", {"text": "   "}),
        ("POST", f"/console/api/conversations/{CONVERSATION}/reply", {"text": "a" * 2001}),
        ("POST", f"/console/api/conversations/{CONVERSATION}/close", {"outcome": "boh"}),
        ("POST", f"/console/api/conversations/{CONVERSATION}/tags", {"tag": "t" * 41}),
        ("POST", f"/console/api/conversations/{CONVERSATION}/notes", {"text": ""}),
        ("POST", f"/console/api/corrections?conversation_id={CONVERSATION}", {"text": "ciao", "intent": "Non Valido"}),
        ("POST", "/console/api/corrections", {"text": "ciao", "intent": "greet"}),  # no conversation_id
        ("POST", "/console/api/tickets/abc/take", None),
        ("POST", "/console/api/tickets/1/transfer", {"to": " "}),
        ("POST", "/console/api/security/unlock", {"username": "u" * 81}),
        ("GET", "/console/api/conversations?since=ieri", None),
        ("GET", "/console/api/conversations?fallback=forse", None),
    ],
)
def test_bad_input_gets_422(
    clients: dict[str, TestClient], method: str, path: str, body: dict[str, Any] | None
) -> None:
    answer = clients["marta"].request(method, path, json=body)
    assert answer.status_code == 422, answer.text


def test_an_oversized_login_is_refused_without_a_session(console: Console) -> None:
    client = TestClient(console.app)
    answer = client.post(
        "/console/login",
        data={"username": "g" * 81, "password": PASSWORD, "csrf_token": form_token(client)},
        follow_redirects=False,
    )
    assert answer.status_code == 422 and "console_session" not in answer.headers.get("set-cookie", "")


# ---------------------------------------------------------------------- review, exports, reveal
def test_the_review_lists_and_filters_the_conversations_masked(clients: dict[str, TestClient]) -> None:
    giulia = clients["giulia"]
    rows = giulia.get("/console/api/conversations").json()["conversations"]
    ids = [row["id"] for row in rows]
    assert CONVERSATION in ids and PHONE not in json.dumps(rows)
    assert any(i.startswith("ref-") for i in ids)  # the phone number's conversation, by reference
    recorded = next(row for row in rows if row["id"] == CONVERSATION)
    assert recorded["verified"] and recorded["handed_off"] and FISCAL_CODE not in json.dumps(recorded)

    def listed(query: str) -> list[str]:
        return [row["id"] for row in giulia.get(f"/console/api/conversations?{query}").json()["conversations"]]

    assert listed("verified=true") == [CONVERSATION]
    assert listed("q=ci siete") == [CONVERSATION]  # a message only the recorded one has
    assert listed("q=nessuno-ha-scritto-questo") == []
    assert listed("channel=whatsapp") == []


def test_a_phone_number_in_the_address_bar_becomes_a_reference(clients: dict[str, TestClient]) -> None:
    giulia = clients["giulia"]
    moved = giulia.get(f"/console/conversations/{PHONE}", follow_redirects=False)
    assert moved.status_code == 303
    ref = moved.headers["location"].rsplit("/", 1)[1]
    assert ref.startswith("ref-") and PHONE not in moved.headers["location"]
    page = giulia.get(moved.headers["location"])
    assert page.status_code == 200 and PHONE not in page.text and ref in page.text


def test_exports_are_masked_and_audited_with_masked_filters(console: Console, clients: dict[str, TestClient]) -> None:
    marta = clients["marta"]
    jsonl = marta.get("/console/api/export.jsonl")
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert {line["id"] for line in lines} >= {CONVERSATION} and PHONE not in jsonl.text
    assert FISCAL_CODE not in jsonl.text and MASKED_FISCAL_CODE in jsonl.text

    exported = marta.get("/console/api/export.csv", params={"q": FISCAL_CODE})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0] == ["conversation", "at", "from", "text", "intent", "confidence"]
    assert {row[0] for row in table[1:]} == {CONVERSATION} and FISCAL_CODE not in exported.text

    entries = console.audit("export_jsonl", "export_csv")
    assert [e.action for e in entries][-2:] == ["export_jsonl", "export_csv"]
    assert all(e.actor == "marta" for e in entries[-2:])
    detail = json.loads(entries[-1].detail)
    assert detail == {"filters": {"q": MASKED_FISCAL_CODE}, "rows": 1}


def test_a_supervisor_reveals_a_transcript_in_clear_and_it_is_audited(
    console: Console, clients: dict[str, TestClient]
) -> None:
    revealed = clients["marta"].post(f"/console/api/conversations/{CONVERSATION}/reveal")
    assert revealed.status_code == 200
    assert any(t.get("text") == FISCAL_CODE for t in revealed.json()["turns"])
    last = console.audit("reveal")[-1]
    assert (last.actor, last.conversation_id) == ("marta", CONVERSATION)


def test_tags_notes_and_corrections_are_stored_masked(clients: dict[str, TestClient]) -> None:
    giulia = clients["giulia"]
    base = f"/console/api/conversations/{CONVERSATION}"
    assert giulia.post(f"{base}/tags", json={"tag": "  bollette "}).json() == {"status": "tagged"}
    assert giulia.post(f"{base}/notes", json={"text": f"cliente {FISCAL_CODE}"}).json() == {"status": "noted"}
    annotations = giulia.get(f"{base}/annotations").json()
    assert "bollette" in annotations["tags"]
    assert annotations["notes"][-1]["text"] == f"cliente {MASKED_FISCAL_CODE}"
    assert annotations["notes"][-1]["author"] == "giulia"
    assert [row["id"] for row in giulia.get("/console/api/conversations?tag=bollette").json()["conversations"]] == [
        CONVERSATION
    ]

    recorded = giulia.post(
        "/console/api/corrections",
        params={"conversation_id": CONVERSATION},
        json={"text": f"sono  {FISCAL_CODE}", "intent": "inform_fiscal_code"},
    )
    assert recorded.json() == {"status": "recorded"}
    data = giulia.get("/console/api/corrections.yml")
    assert data.headers["content-type"].startswith("application/x-yaml")
    assert f"- intent: inform_fiscal_code\n  examples: |\n    - sono {MASKED_FISCAL_CODE}\n" in data.text
    assert data.text.startswith('version: "3.1"\nnlu:\n') and FISCAL_CODE not in data.text


def test_metrics_count_the_conversations(clients: dict[str, TestClient]) -> None:
    metrics = clients["giulia"].get("/console/api/metrics").json()
    assert metrics["conversations"] == 2
    assert metrics["per_day"] and sum(sum(c.values()) for c in metrics["per_day"].values()) == 2
    assert 0 <= metrics["containment"] <= 1 and metrics["handoff_rate"] > 0
    assert "nlu_fallback" not in dict(metrics["top_intents"])


# ---------------------------------------------------------------------- static files, headers
def test_static_files_and_headers(clients: dict[str, TestClient]) -> None:
    anonymous = TestClient(clients["giulia"].app)
    script = anonymous.get("/console/static/console.js")
    assert script.status_code == 200 and script.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in script.headers["content-security-policy"]
    for name in ("nope.js", "..%2Fauth.py", "login.html"):
        assert anonymous.get(f"/console/static/{name}").status_code == 404, name
    api = clients["giulia"].get("/console/api/queue")
    assert api.headers["cache-control"] == "no-store" and api.headers["x-frame-options"] == "DENY"


# ---------------------------------------------------------------------- login throttle, unlock
def test_a_locked_account_is_shown_to_the_supervisor_who_unlocks_it(tmp_path: Path) -> None:
    console = make_console(tmp_path, console_lockout_failures=2, console_login_free_failures=5)
    anonymous = TestClient(console.app)
    for _ in range(2):
        wrong = anonymous.post(
            "/console/login",
            data={"username": "paolo", "password": "sbagliata!!", "csrf_token": form_token(anonymous)},
            follow_redirects=False,
        )
        assert wrong.status_code == 401
    locked = anonymous.post(
        "/console/login",
        data={"username": "paolo", "password": PASSWORD, "csrf_token": form_token(anonymous)},
        follow_redirects=False,
    )
    assert locked.status_code == 429 and "Retry-After" not in locked.headers and "supervisore" in locked.text

    marta = login(console.app, "marta")
    state = marta.get("/console/api/security").json()
    assert [a["username"] for a in state["locked"]] == ["paolo"] and state["failures_last_day"] >= 2
    assert marta.post("/console/api/security/unlock", json={"username": "nessuno"}).status_code == 404
    assert marta.post("/console/api/security/unlock", json={"username": "paolo"}).json() == {"status": "unlocked"}
    assert [(e.actor, e.detail) for e in console.audit("unlock")] == [("marta", "account paolo unlocked")]
    assert marta.get("/console/api/security").json()["locked"] == []
    login(console.app, "paolo")
