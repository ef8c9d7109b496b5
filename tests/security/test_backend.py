"""Issue 10 findings 4, 6 and 7, the identity lockout and the backend's 500s: each attack
replayed against the real processes (action server, billing backend on loopback); finding 4
also by the shape of the patterns the handoff masks with."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List

import jwt
import psutil
import pytest
import requests
from sqlalchemy import create_engine, func, select, text, update

from bot.billing.models import Bill, Customer, IdempotencyRecord, Supply
from bot.ops.services import action_server_command, service_environment
from bot.settings import PROJECT_ROOT, Settings
from tests.backtracking import function_patterns, problems
from tests.billing.conftest import BUSINESS_DATE, Backend, start_backend
from tests.harness.processes import free_port, start_logged, stop, wait_for
from tests.harness.services import temporary_postgres_database

ACTION_TOKEN = "action-server-token-for-security-tests"
VERIFY = "/v1/identity/verify"
WRONG_FISCAL_CODE = "XXXXXX00X00X000X"


def verify(backend: Backend, code: str, fiscal_code: str, client: str = "") -> requests.Response:
    headers = backend.headers(**({"X-Client-Id": client} if client else {}))
    return requests.post(backend.url + VERIFY, json={"customer_code": code, "fiscal_code": fiscal_code},
                         headers=headers, timeout=30)


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    running = start_backend(tmp_path)
    try:
        yield running
    finally:
        running.stop()


# --------------------------------------------------------------------------- action server
@pytest.fixture
def action_server(tmp_path: Path, backend: Backend) -> Iterator[Dict[str, Any]]:
    """The action server as `make run` starts it, asked to listen everywhere (BIND_HOST=0.0.0.0)."""
    settings = Settings(_env_file=None, action_port=free_port())
    env = service_environment(settings, backend.env)
    env.update(ACTION_SERVER_TOKEN=ACTION_TOKEN, BIND_HOST="0.0.0.0", BILLING_URL=backend.url,
               ACTION_PORT=str(settings.action_port), SUPPORT_DATABASE_URL=f"sqlite:///{tmp_path / 'support.db'}")
    log = tmp_path / "actions.log"
    process = start_logged(action_server_command(settings), env, log)
    url = f"http://127.0.0.1:{settings.action_port}"
    try:
        wait_for(url + "/health", process, log)
        yield {"url": url, "process": process, "port": settings.action_port, "support_db": tmp_path / "support.db"}
    finally:
        stop(process)


def action_call(action: str, sender: str, events: List[Dict[str, Any]], slots: Dict[str, Any],
                channel: str = "rest") -> Dict[str, Any]:
    """What Rasa POSTs to the action server's /webhook, forged."""
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return {
        "next_action": action, "sender_id": sender, "version": "3.6.2",
        "tracker": {"sender_id": sender, "slots": slots, "latest_message": latest, "events": events,
                    "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen", "latest_input_channel": channel},
        "domain": {"slots": {}},
    }


def user(text_: str, intent: str = "request_human", channel: str = "rest") -> Dict[str, Any]:
    return {"event": "user", "text": text_, "timestamp": time.time(), "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "text": text_}}


def tickets(support_db: Path) -> int:
    if not support_db.exists():
        return 0
    with create_engine(f"sqlite:///{support_db}").connect() as connection:
        exists = connection.execute(text("SELECT name FROM sqlite_master WHERE name='tickets'")).first()
        return connection.execute(text("SELECT count(*) FROM tickets")).scalar_one() if exists else 0


def test_forged_action_server_call_without_the_token_opens_no_ticket(action_server):
    forged = action_call("action_request_human", "forged-sender", [user("voglio un operatore")],
                         {"customer_verified": True, "customer_code": "100001"})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": ACTION_TOKEN}):
        refused = requests.post(action_server["url"] + "/webhook", json=forged, headers=headers, timeout=30)
        assert refused.status_code == 401 and "events" not in refused.json()
    assert requests.get(action_server["url"] + "/actions", timeout=10).status_code == 401
    assert tickets(action_server["support_db"]) == 0
    # Rasa, which has the token, is served
    served = requests.post(action_server["url"] + "/webhook", json=forged,
                           headers={"Authorization": f"Bearer {ACTION_TOKEN}"}, timeout=30)
    assert served.status_code == 200 and any(e["event"] == "pause" for e in served.json()["events"])
    assert tickets(action_server["support_db"]) == 1


def test_forged_customer_form_with_a_made_up_phone_gets_no_lookup(action_server):
    forged = action_call("validate_customer_form", "393339999999", [user("le mie bollette", "check_bills",
                                                                         "whatsapp")],
                         {"requested_slot": "customer_code"}, channel="whatsapp")
    refused = requests.post(action_server["url"] + "/webhook", json=forged, timeout=30)
    assert refused.status_code == 401 and refused.json() == {"error": "unauthorized"}


def test_action_server_listens_on_loopback_only(action_server):
    """Asked for 0.0.0.0 (BIND_HOST), it still binds 127.0.0.1 only."""
    listening = [c.laddr for c in psutil.Process(action_server["process"].pid).connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and all(address.ip == "127.0.0.1" for address in listening), listening
    assert {address.port for address in listening} == {action_server["port"]}


def ticket_summary(support_db: Path, conversation_id: str) -> Dict[str, Any]:
    with create_engine(f"sqlite:///{support_db}").connect() as connection:
        summary = connection.execute(text("SELECT summary FROM tickets WHERE conversation_id = :id"),
                                     {"id": conversation_id}).scalar_one()
    return json.loads(summary) if isinstance(summary, str) else summary


# Mario as the handoff finds him once verified, and a message with each kind of personal data
MARIO_SLOTS = {"customer_verified": True, "customer_code": "100001", "customer_name": "Mario Rossi"}
PERSONAL = ("Sono Mario Rossi, codice cliente 100001, CF RSSMRA80A01H501U, tel. +39 333 123 4567, "
            "mail mario.rossi@example.it ")
# what bot/masking.py leaves of them (names and code from the slots, as in the summary's fields)
PERSONAL_MASKED = ("Sono M*** R***, codice cliente ****01, CF RSS*********501U, tel. **********67, "
                   "mail m***@example.it ")
IN_CLEAR = ("Mario", "Rossi", "100001", "RSSMRA80A01H501U", "3331234567", "333 123 4567", "mario.rossi")


def test_every_pattern_the_handoff_masks_with_is_linear_by_its_shape(monkeypatch):
    """Finding 4: a 60 KB message stalled the action server (quadratic masking at handoff).
    Linearity is read from the shape of the patterns (tests/backtracking.py), not timed: the
    masker the handoff summary builds for a verified customer (masking's rules and the patterns
    it compiles for his name and code) applies only bounded repetitions that split a text one way."""
    from bot import masking
    from bot.support import handoff

    built: List[Any] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        built.append(masking.names_masker(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(handoff, "names_masker", recording)
    summary = handoff.conversation_summary([user(PERSONAL)], MARIO_SLOTS, "rest", "request_human")
    assert summary["last_messages"] == [{"from": "cliente", "text": PERSONAL_MASKED}]
    [masker] = built
    applied = {found.pattern: found for found in function_patterns(masker)}
    # the reading reaches every rule of mask_text and the two patterns made for Mario
    assert {rule.pattern for rule, _, _ in masking._RULES} < set(applied)
    assert any("100001" in pattern for pattern in applied) and any("Mario" in pattern for pattern in applied)
    assert {p: problems(p, f.flags, bounded=True) for p, f in applied.items()} == {p: [] for p in applied}


def test_the_action_server_hands_off_a_1_mb_message_masked_and_cut(action_server):
    """Finding 4 against the running action server: a message of 8 KB is masked to its end, one
    of 1 MB (the old e-mail pattern's trap, "a" * n) is cut before masking and masked in what is
    kept; either way the ticket opens, the conversation pauses and nothing personal is stored."""
    from bot.masking import MAX_MASKED_CHARS, TRUNCATION_MARKER

    def hand_off(message: str) -> Dict[str, Any]:
        sender = f"redos-{len(message)}-{uuid.uuid4().hex[:6]}"
        call = action_call("action_request_human", sender, [user(message)], MARIO_SLOTS)
        answer = requests.post(action_server["url"] + "/webhook", json=call,
                               headers={"Authorization": f"Bearer {ACTION_TOKEN}"}, timeout=120)
        assert answer.status_code == 200 and any(e["event"] == "pause" for e in answer.json()["events"])
        summary = ticket_summary(action_server["support_db"], sender)
        stored = json.dumps(summary, ensure_ascii=False)
        assert [value for value in IN_CLEAR if value in stored] == []
        [kept] = summary["last_messages"]
        return kept

    short = hand_off(PERSONAL + "a" * 8_000 + " RSSMRA80A01H501U fine")
    assert short == {"from": "cliente", "text": PERSONAL_MASKED + "a" * 8_000 + " RSS*********501U fine"}

    huge = hand_off(PERSONAL + "a" * 1_000_000 + " RSSMRA80A01H501U")
    kept = huge["text"]
    assert kept.startswith(PERSONAL_MASKED) and kept.endswith(TRUNCATION_MARKER), kept[-100:]
    assert set(kept[len(PERSONAL_MASKED):-len(TRUNCATION_MARKER)]) == {"a"}
    assert len(kept) <= MAX_MASKED_CHARS + len(TRUNCATION_MARKER)
    assert tickets(action_server["support_db"]) == 2


# --------------------------------------------------------------------------- identity lockout
def _race(backend: Backend, code: str, guesses: int, client_for: Any) -> List[int]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=guesses) as pool:
        return list(pool.map(lambda i: verify(backend, code, WRONG_FISCAL_CODE, client_for(i)).status_code,
                             range(guesses)))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_64_parallel_wrong_guesses_evaluate_at_most_the_limit(tmp_path, database):
    def run(backend: Backend) -> None:
        limit = Settings(_env_file=None).verify_max_failures
        # every guess from its own conversation: only the per-customer limit applies
        statuses = _race(backend, "100003", 64, lambda i: f"client-{i}")
        assert statuses.count(401) <= limit and statuses.count(401) + statuses.count(429) == 64, statuses
        assert verify(backend, "100003", "VRDGPP70C15G702S", "late-client").status_code == 429

    if database == "sqlite":
        backend = start_backend(tmp_path)
        try:
            run(backend)
        finally:
            backend.stop()
    else:
        with temporary_postgres_database() as url:
            backend = start_backend(tmp_path, BILLING_DATABASE_URL=url)
            try:
                run(backend)
            finally:
                backend.stop()


def test_one_client_cannot_walk_through_customer_codes_or_lock_them_out(backend):
    """Policy: a conversation gets VERIFY_CLIENT_MAX_FAILURES (3) checks in the window across all
    codes, fewer than a customer code's VERIFY_MAX_FAILURES (5): alone it locks nobody out."""
    codes = ["100001", "100002", "100003", "100004", "100005", "100006", "100007"]
    statuses = [verify(backend, code, WRONG_FISCAL_CODE, "attacker").status_code for code in codes]
    assert statuses == [401, 401, 401, 429, 429, 429, 429]
    # in parallel too: nothing more is evaluated for this client
    assert set(_race(backend, "100007", 16, lambda i: "attacker")) == {429}
    # the real customers, from their own conversations, are not locked out
    assert verify(backend, "100001", "RSSMRA80A01H501U", "mario").status_code == 200
    assert verify(backend, "100007", "RCCLCU82B10L219I", "luca").status_code == 200


def test_a_client_cannot_refill_its_guesses_by_verifying_its_own_account(backend):
    for _ in range(5):
        assert verify(backend, "100001", "RSSMRA80A01H501U", "mario-attacker").status_code == 200
    statuses = [verify(backend, "100002", WRONG_FISCAL_CODE, "mario-attacker").status_code for _ in range(2)]
    assert verify(backend, "100001", "RSSMRA80A01H501U", "mario-attacker").status_code == 200
    statuses += [verify(backend, "100003", WRONG_FISCAL_CODE, "mario-attacker").status_code for _ in range(3)]
    assert statuses == [401, 401, 401, 429, 429]


# --------------------------------------------------------------------------- 500s found
def test_bad_identity_input_and_malformed_customer_tokens_get_4xx(backend):
    assert verify(backend, "100001", "RSSMRA80A01H501Ü").status_code == 422
    assert verify(backend, "100001", "ŔSSMRA80A01H501U").status_code == 422
    assert verify(backend, "10000١", "RSSMRA80A01H501U").status_code == 422
    secret = backend.env["BILLING_TOKEN_SECRET"]
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    forged = {
        "without sub": jwt.encode({"exp": later}, secret, algorithm="HS256"),
        "without exp": jwt.encode({"sub": "100001"}, secret, algorithm="HS256"),
        "numeric sub": jwt.encode({"sub": 100001, "exp": later}, secret, algorithm="HS256"),
    }
    for what, token in forged.items():
        answer = backend.get("/v1/customers/100001/bills", token)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "customer_token_invalid", what


# --------------------------------------------------------------------------- idempotency records
def _add_customer_with_an_open_bill(url: str) -> None:
    """A customer the demo reseed does not own."""
    from sqlalchemy.orm import Session

    today = date.fromisoformat(BUSINESS_DATE)
    with Session(create_engine(url, future=True)) as session, session.begin():
        session.add(Customer(code="200001", name="Carla Neri", fiscal_code="NRECRL70A41H501X", good_payer=True))
        supply = Supply(customer_code="200001", kind="luce", point_id="IT009E00000001")
        session.add(supply)
        session.flush()
        due = today + timedelta(days=5)
        session.add(Bill(id="F200001-01", customer_code="200001", supply_id=supply.id,
                         issue_date=due - timedelta(days=20), due_date=due, original_due_date=due,
                         amount_cents=18_240, status="open"))


def test_idempotency_records_expire_by_age_and_survive_a_reseed(backend):
    url = backend.env["BILLING_DATABASE_URL"]
    _add_customer_with_an_open_bill(url)
    carla = backend.verify("200001", "NRECRL70A41H501X")
    mario = backend.verify()
    body = {"new_due_date": (date.fromisoformat(BUSINESS_DATE) + timedelta(days=20)).isoformat()}
    assert backend.post("/v1/bills/F200001-01/deferrals", body, carla, key="carla-1").status_code == 201
    assert backend.post("/v1/bills/F100001-01/deferrals", body, mario, key="mario-1").status_code == 201

    # the next day's reseed: the demo bills' answers go with the demo bills, Carla's stay
    subprocess.run([sys.executable, "-m", "bot.billing.seed", "--force"], cwd=PROJECT_ROOT,
                   env=backend.env, check=True, capture_output=True)
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        keys = set(connection.execute(select(IdempotencyRecord.key)).scalars())
    assert keys == {"carla-1"}
    replay = backend.post("/v1/bills/F200001-01/deferrals", body, carla, key="carla-1")
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replay") == "true"

    # older than the retention: purged at the next keyed request, and the key is new again
    retention = Settings(_env_file=None).idempotency_retention_hours
    with engine.begin() as connection:
        connection.execute(update(IdempotencyRecord).values(
            created_at=datetime.utcnow() - timedelta(hours=retention, minutes=1)))
    mario = backend.verify()
    fresh = backend.post("/v1/bills/F100001-01/deferrals", body, mario, key="mario-2")
    assert fresh.status_code == 201 and "Idempotent-Replay" not in fresh.headers
    with engine.connect() as connection:
        assert set(connection.execute(select(IdempotencyRecord.key)).scalars()) == {"mario-2"}
        assert connection.execute(select(func.count()).select_from(IdempotencyRecord)).scalar_one() == 1
    again = backend.post("/v1/bills/F200001-01/deferrals", body, carla, key="carla-1")
    assert again.status_code == 409 and "Idempotent-Replay" not in again.headers  # evaluated: already deferred
