"""Support console attacks (issue 10: console login, console headers, phone numbers in the
console), each against the real web service on loopback with a real SQLite support database;
the ticket and export attacks also against the real Rasa server, action server and billing
backend (tests/stack.py)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest
import requests
from sqlalchemy import select

from bot.console.auth import create_user
from bot.db import session_factory
from bot.ops.services import service_environment, web_server_command
from bot.settings import Settings
from bot.support.db import make_engine, upgrade_schema
from bot.support.handoff import TicketDesk
from bot.support.models import AuditEntry
from tests.harness.processes import free_port, start_logged, stop, wait_for
from tests.harness.rest import texts
from tests.harness.stack import running_stack

PASSWORD = "una-password-lunga"
LOCKOUT = 5
PHONE = "393331234567"


def start_web(tmp: Path, env_base: Dict[str, str], **extra: str) -> Tuple[object, str]:
    settings = Settings(_env_file=None, web_port=free_port())
    env = dict(env_base, WEB_PORT=str(settings.web_port), CONSOLE_LOCKOUT_FAILURES=str(LOCKOUT),
               CONSOLE_LOGIN_FREE_FAILURES="2", CONSOLE_LOGIN_BACKOFF_SECONDS="3",
               CONSOLE_CLIENT_FREE_FAILURES="1000")
    env.update(extra)
    log = tmp / f"web-{settings.web_port}.log"
    process = start_logged(web_server_command(settings), env, log)
    base = f"http://127.0.0.1:{settings.web_port}"
    wait_for(base + "/health", process, log, timeout=60)
    return process, base


@pytest.fixture(scope="module")
def console(tmp_path_factory) -> Iterator[Tuple[str, str]]:
    """The web service alone (login, headers): its support database URL and its URL."""
    tmp = tmp_path_factory.mktemp("console-login")
    url = f"sqlite:///{tmp / 'support.db'}"
    upgrade_schema(url)
    sessions = session_factory(make_engine(url))
    for name, role in (("giulia", "agent"), ("paolo", "agent"), ("anna", "agent"), ("marta", "supervisor")):
        create_user(sessions, name, PASSWORD, role)
    env = service_environment(SUPPORT_DATABASE_URL=url, TRACKER_STORE_URL=f"sqlite:///{tmp / 'tracker.db'}",
                              RASA_API_TOKEN="x")
    process, base = start_web(tmp, env)
    try:
        yield url, base
    finally:
        stop(process)


def login(base: str, username: str, password: str = PASSWORD,
          session: Optional[requests.Session] = None) -> Tuple[requests.Session, requests.Response]:
    session = session or requests.Session()
    form = session.get(base + "/console/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = session.post(base + "/console/login", allow_redirects=False, timeout=30,
                          data={"username": username, "password": password, "csrf_token": token})
    if answer.status_code == 303:
        page = session.get(base + "/console/", timeout=10).text
        session.headers["X-CSRF-Token"] = page.split('name="csrf-token" content="')[1].split('"')[0]
    return session, answer


def audit(url: str, *actions: str) -> List[AuditEntry]:
    with session_factory(make_engine(url))() as session:
        return list(session.execute(select(AuditEntry).where(AuditEntry.action.in_(actions))
                                    .order_by(AuditEntry.id)).scalars())


def fail_until_locked(base: str, username: str) -> List[int]:
    """Wrong passwords, waiting out each refusal window (Retry-After), until the account locks."""
    statuses = []
    for _ in range(40):
        _, answer = login(base, username, "password-sbagliata")
        statuses.append(answer.status_code)
        if answer.status_code == 429 and "Retry-After" not in answer.headers:
            return statuses  # locked: only a supervisor lifts it
        if answer.status_code == 429:
            time.sleep(int(answer.headers["Retry-After"]))
    raise AssertionError(f"never locked: {statuses}")


# ---------------------------------------------------------------------- login
def test_brute_force_on_one_account_is_throttled_locked_audited_and_shown_to_the_supervisor(console):
    url, base = console
    first = [login(base, "giulia", "password-sbagliata")[1] for _ in range(4)]
    assert [a.status_code for a in first[:3]] == [401, 401, 401]
    assert first[3].status_code == 429 and int(first[3].headers["Retry-After"]) >= 1  # backoff after the free ones
    assert "Troppi tentativi" in first[3].text and "console_session" not in first[3].headers.get("set-cookie", "")
    statuses = fail_until_locked(base, "giulia")
    assert len([s for s in [a.status_code for a in first] + statuses if s == 401]) == LOCKOUT

    # the right password during the lockout is refused as well
    _, right = login(base, "giulia")
    assert right.status_code == 429 and "supervisore" in right.text
    assert "console_session" not in right.headers.get("set-cookie", "")

    failed = [e for e in audit(url, "login_failed") if e.actor == "giulia"]
    assert len(failed) == LOCKOUT and all("127.0.0.1" in e.detail for e in failed)
    assert [e.actor for e in audit(url, "account_locked")].count("giulia") == 1
    assert any(e.actor == "giulia" for e in audit(url, "login_refused"))

    supervisor, answer = login(base, "marta")
    assert answer.status_code == 303
    notice = supervisor.get(base + "/console/api/security", timeout=10).json()
    assert "giulia" in [a["username"] for a in notice["locked"]] and notice["failures_last_day"] >= LOCKOUT
    assert 'id="security-notice"' in supervisor.get(base + "/console/", timeout=10).text  # filled from that API
    assert "Account bloccati" in supervisor.get(base + "/console/security", timeout=10).text
    agent, _ = login(base, "anna")
    assert agent.get(base + "/console/api/security", timeout=10).status_code == 403
    assert 'id="security-notice"' not in agent.get(base + "/console/", timeout=10).text

    unlocked = supervisor.post(base + "/console/api/security/unlock", json={"username": "giulia"}, timeout=10)
    assert unlocked.status_code == 200
    assert [(e.actor, e.detail) for e in audit(url, "unlock")] == [("marta", "account giulia unlocked")]
    assert login(base, "giulia")[1].status_code == 303


def test_parallel_guesses_get_no_more_evaluations_than_the_lockout(console):
    """64 guesses at once: the count is taken before the password is checked, in one transaction."""
    url, base = console
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: login(base, "paolo", "password-sbagliata")[1].status_code, range(64)))
    evaluated = [e for e in audit(url, "login_failed") if e.actor == "paolo"]
    assert statuses.count(401) == len(evaluated) and 1 <= len(evaluated) <= LOCKOUT
    assert statuses.count(429) == 64 - len(evaluated)


def test_a_failure_does_not_tell_whether_the_account_exists(console):
    _, base = console
    _, existing = login(base, "anna", "password-sbagliata")
    _, unknown = login(base, "nessuno-con-questo-nome", "password-sbagliata")
    assert existing.status_code == unknown.status_code == 401
    message = re.compile(r'role="alert"[^>]*>([^<]+)<')
    assert message.search(existing.text).group(1) == message.search(unknown.text).group(1)
    assert login(base, "anna")[1].status_code == 303


def test_one_client_trying_many_accounts_is_throttled(tmp_path):
    url = f"sqlite:///{tmp_path / 'support.db'}"
    upgrade_schema(url)
    create_user(session_factory(make_engine(url)), "giulia", PASSWORD, "agent")
    env = service_environment(SUPPORT_DATABASE_URL=url, TRACKER_STORE_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
                              RASA_API_TOKEN="x")
    # a client that claims another address is not believed (no trusted proxy configured)
    process, base = start_web(tmp_path, env, CONSOLE_CLIENT_FREE_FAILURES="3", CONSOLE_LOGIN_BACKOFF_SECONDS="30")
    try:
        statuses = []
        for i in range(6):
            session = requests.Session()
            session.headers["X-Forwarded-For"] = f"10.0.0.{i}"
            statuses.append(login(base, f"utente{i}", "password-sbagliata", session)[1].status_code)
        assert statuses[:4] == [401] * 4 and statuses[4:] == [429, 429]
        _, right = login(base, "giulia")  # a real account with its right password, from the same client
        assert right.status_code == 429
        refused = audit(url, "login_refused")
        assert refused and all("client 127.0.0.1" in e.detail for e in refused)
    finally:
        stop(process)


def test_login_without_the_csrf_token_is_refused(console):
    url, base = console
    bare = requests.post(base + "/console/login", data={"username": "anna", "password": PASSWORD},
                         allow_redirects=False, timeout=10)
    assert bare.status_code == 403 and "console_session" not in bare.headers.get("set-cookie", "")
    # a forged page can post a token of its own, but cannot set or read the form's cookie
    session = requests.Session()
    session.get(base + "/console/login", timeout=10)
    forged = session.post(base + "/console/login", allow_redirects=False, timeout=10,
                          data={"username": "anna", "password": PASSWORD, "csrf_token": "x" * 43})
    assert forged.status_code == 403 and "console_session" not in forged.headers.get("set-cookie", "")
    assert login(base, "anna")[1].status_code == 303


def test_csrf_header_of_any_shape_is_a_403(console):
    _, base = console
    agent, _ = login(base, "anna")
    for token in ("é" * 32, "", "x" * 5000):
        answer = agent.post(base + "/console/api/tickets/1/take", headers={"X-CSRF-Token": token}, timeout=10)
        assert answer.status_code == 403


# ---------------------------------------------------------------------- headers
def test_console_pages_carry_csp_frame_and_sniffing_headers(console):
    _, base = console
    supervisor, _ = login(base, "marta")
    anonymous = requests.Session()
    answers = [anonymous.get(base + "/console/login", timeout=10),
               anonymous.get(base + "/console/api/queue", timeout=10)]
    answers += [supervisor.get(base + path, timeout=10) for path in
                ("/console/", "/console/review", "/console/metrics", "/console/security",
                 "/console/conversations/c-1", "/console/api/queue", "/console/static/console.js")]
    for answer in answers:
        csp = answer.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, answer.url
        assert answer.headers.get("X-Frame-Options") == "DENY", answer.url
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", answer.url
        assert answer.headers.get("Referrer-Policy") == "no-referrer", answer.url
        if "/static/" not in answer.url:
            assert answer.headers.get("Cache-Control") == "no-store", answer.url
        if answer.headers.get("content-type", "").startswith("text/html"):
            # nothing the CSP would block: no inline script, no inline handler, no inline style
            assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), answer.url
            assert not re.search(r"\son[a-z]+\s*=|<style|\sstyle=", answer.text), answer.url
    site = requests.get(base + "/", timeout=10)
    assert site.status_code == 200 and site.headers.get("X-Frame-Options") == "DENY"
    assert site.headers.get("X-Content-Type-Options") == "nosniff"


# ---------------------------------------------------------------------- tickets and exports
@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console-desk")
    with running_stack(tmp, {"SUPPORT_HOURS": "mon-sun 00:00-23:59"}) as stack:
        url = stack.env["SUPPORT_DATABASE_URL"]
        upgrade_schema(url)
        sessions = session_factory(make_engine(url))
        for name, role in (("aldo", "agent"), ("bruna", "agent"), ("sara", "supervisor")):
            create_user(sessions, name, PASSWORD, role)
        process, base = start_web(tmp, dict(stack.env, RASA_URL=stack.rasa_url))
        try:
            yield stack, base, url
        finally:
            stop(process)


def handed_off(stack, sender: str) -> None:
    answers = stack.say(sender, "voglio parlare con un operatore")
    assert "coda" in texts(answers)


def test_an_agent_cannot_answer_close_or_hand_back_another_agents_ticket_until_transferred(desk):
    stack, base, url = desk
    sender = f"t-{time.time_ns()}"
    handed_off(stack, sender)
    aldo, bruna, sara = (login(base, name)[0] for name in ("aldo", "bruna", "sara"))
    ticket = next(t for t in aldo.get(base + "/console/api/queue", timeout=10).json()["tickets"]
                  if t["conversation_id"] == sender)
    assert aldo.post(base + f"/console/api/tickets/{ticket['id']}/take", timeout=10).json()["taken_by"] == "aldo"
    second = bruna.post(base + f"/console/api/tickets/{ticket['id']}/take", timeout=10)
    assert second.status_code == 409 and "aldo" in second.json()["detail"]  # one winner, named

    api = base + f"/console/api/conversations/{sender}"
    for path, body in (("/reply", {"text": "Buongiorno, sono Bruna"}), ("/close", {"outcome": "risolto"}),
                       ("/handback", {})):
        refused = bruna.post(api + path, json=body, timeout=10)
        assert refused.status_code == 403 and "assegnata a un altro operatore" in refused.json()["detail"], path
    assert bruna.post(base + f"/console/api/tickets/{ticket['id']}/transfer", json={"to": "bruna"},
                      timeout=10).status_code == 403
    assert aldo.post(base + f"/console/api/tickets/{ticket['id']}/transfer", json={"to": "nessuno"},
                     timeout=10).status_code == 404

    moved = aldo.post(base + f"/console/api/tickets/{ticket['id']}/transfer", json={"to": "bruna"}, timeout=10)
    assert moved.status_code == 200 and moved.json()["taken_by"] == "bruna"
    assert [(e.actor, e.detail) for e in audit(url, "transfer")][-1] == (
        "aldo", f"ticket {ticket['id']} from aldo to bruna")
    assert aldo.post(api + "/reply", json={"text": "sono ancora Aldo"}, timeout=10).status_code == 403
    assert bruna.post(api + "/reply", json={"text": "Buongiorno, sono Bruna"}, timeout=10).status_code == 200
    # a supervisor may act on any ticket
    assert sara.post(api + "/close", json={"outcome": "risolto"}, timeout=30).status_code == 200


def test_only_supervisors_export_and_every_export_is_audited(desk):
    stack, base, url = desk
    handed_off(stack, f"e-{time.time_ns()}")
    agent, supervisor = login(base, "aldo")[0], login(base, "sara")[0]
    for export in ("export.csv", "export.jsonl"):
        assert agent.get(base + f"/console/api/{export}", timeout=10).status_code == 403
    assert not audit(url, "export_csv", "export_jsonl")
    assert "export.csv" not in agent.get(base + "/console/review", timeout=10).text
    rows = supervisor.get(base + "/console/api/export.jsonl", params={"handed_off": "true"}, timeout=30).text
    supervisor.get(base + "/console/api/export.csv", params={"channel": "rest"}, timeout=30).raise_for_status()
    jsonl, csv_ = audit(url, "export_jsonl")[-1], audit(url, "export_csv")[-1]
    assert jsonl.actor == csv_.actor == "sara"
    assert json.loads(jsonl.detail) == {"filters": {"handed_off": True}, "rows": len(rows.strip().splitlines())}
    assert json.loads(csv_.detail)["filters"] == {"channel": "rest"} and json.loads(csv_.detail)["rows"] >= 1


def test_a_phone_number_conversation_id_never_appears_in_the_console(desk):
    """A WhatsApp conversation from before opaque ids: its id is the phone number."""
    stack, base, url = desk
    events = [{"event": "action", "name": "action_listen"},
              {"event": "user", "text": f"sono il {PHONE}, voglio un operatore", "input_channel": "whatsapp",
               "parse_data": {"intent": {"name": "request_human", "confidence": 0.99}}}]
    requests.post(f"{stack.rasa_url}/conversations/{PHONE}/tracker/events", params={"token": "token"},
                  json=events, timeout=30).raise_for_status()
    TicketDesk(url).open_ticket(PHONE, "whatsapp", "request_human",
                                {"channel": "whatsapp", "customer": {"verified": False, "code": None},
                                 "wanted": ["request_human"], "reason": "il cliente ha chiesto un operatore",
                                 "last_messages": []})
    supervisor = login(base, "sara")[0]
    seen: List[str] = []

    def get(path: str, **params: str) -> requests.Response:
        answer = supervisor.get(base + path, params=params, timeout=30, allow_redirects=False)
        seen.extend([answer.url, answer.headers.get("location", ""), answer.text])
        return answer

    queued = get("/console/api/queue").json()["tickets"]
    shown = next(t["conversation_id"] for t in queued if t["channel"] == "whatsapp")
    assert shown.startswith("ref-")
    page = get(f"/console/conversations/{shown}")
    assert page.status_code == 200
    view = get(f"/console/api/conversations/{shown}").json()
    assert view["conversation_id"] == shown and any(t["from"] == "cliente" for t in view["turns"])
    typed = supervisor.get(base + f"/console/conversations/{PHONE}", allow_redirects=False, timeout=10)
    assert typed.headers["location"] == f"/console/conversations/{shown}"  # the number leaves the address bar
    listed = get("/console/api/conversations", channel="whatsapp").json()["conversations"]
    assert shown in [c["id"] for c in listed]
    exported = get("/console/api/export.csv", channel="whatsapp").text
    assert shown in [row[0] for row in csv.reader(io.StringIO(exported))]
    get("/console/api/export.jsonl", channel="whatsapp")
    bruna = login(base, "bruna")[0]
    took = bruna.post(base + f"/console/api/tickets/{next(t['id'] for t in queued if t['conversation_id'] == shown)}/take",
                      timeout=10)
    seen.append(took.text)
    assert supervisor.post(base + f"/console/api/conversations/{shown}/notes", json={"text": "richiamare"},
                           timeout=10).status_code == 200
    assert get(f"/console/api/conversations/{shown}/annotations").json()["notes"][0]["text"] == "richiamare"
    everything = "\n".join(seen)
    assert PHONE not in everything and PHONE[2:] not in everything
