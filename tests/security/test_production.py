"""Issue 10, finding 7 and "Production defaults": the launchers against the real services.

- `make run-prod` refuses each default that is only fit for a laptop, naming it (in-process
  for every case, and one real start that exits non-zero);
- no token on any command line of `make run` (`ps` shows them to every local user), nor in what
  it prints;
- the production profile's nginx serves the channels only (Rasa's HTTP API gets 404 there),
  refuses oversized bodies with 413, and the profile does not seed the demo customers.
"""

from __future__ import annotations

import http.client
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Dict

import pytest
import requests
from sqlalchemy import create_engine, inspect, text

from bot.ops.run_prod import check_services, insecure_settings, production_environment
from bot.ops.secrets import SECRET_NAMES, embedded_secrets, secrets_path
from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT, Settings
from tests.harness.assistant import launch_profile
from tests.harness.processes import descendants, launch, profile_ports, stop_tree
from tests.harness.production import production_settings, rabbitmqctl
from tests.harness.rest import say
from tests.harness.services import service_missing, temporary_postgres_database

STRONG = {name.lower(): f"{name.lower()}-{uuid.uuid4().hex}" for name in SECRET_NAMES}
SAFE = dict(STRONG, rabbitmq_user="assistente", rabbitmq_password="a-long-broker-password",
            prod_postgres_url="postgresql://assistente:a-db-password@db.internal:5432",
            console_secure_cookies=True, demo_mode=False)


def _refusals(**override) -> str:
    settings = Settings(_env_file=None, **{**SAFE, **override})
    return "\n".join(insecure_settings(settings, production_environment(settings)))


def test_a_safe_configuration_is_accepted() -> None:
    assert _refusals() == ""


@pytest.mark.parametrize("override, named", [
    ({"rabbitmq_user": "guest", "rabbitmq_password": "guest"}, "RABBITMQ_USER"),
    ({"rabbitmq_password": "guest"}, "RABBITMQ_PASSWORD"),
    ({"rabbitmq_host": "amqp://guest:guest@mq.internal:5672"}, "RABBITMQ_HOST"),
    ({"prod_postgres_url": "postgresql://postgres@127.0.0.1:5432"}, "PROD_POSTGRES_URL has no password"),
    ({"tracker_store_url": "postgresql://rasa@pg.internal/conversations"}, "TRACKER_STORE_URL has no password"),
    ({"console_secure_cookies": False}, "CONSOLE_SECURE_COOKIES"),
    ({"demo_mode": True}, "DEMO_MODE"),
    ({"rest_channel_token": STRONG["rasa_api_token"]}, "REST_CHANNEL_TOKEN has the same value as RASA_API_TOKEN"),
    *[({name.lower(): ""}, f"{name} is not set") for name in SECRET_NAMES],
    *[({name.lower(): "change-me"}, f"{name} is a known default") for name in SECRET_NAMES],
    ({"billing_token_secret": "short"}, "BILLING_TOKEN_SECRET is shorter"),
])
def test_each_insecure_default_is_refused_by_name(override: Dict[str, object], named: str) -> None:
    assert named in _refusals(**override)


def test_run_prod_with_the_defaults_exits_non_zero_naming_each_problem(tmp_path) -> None:
    """A real `make run-prod` (its launcher) with the shipped defaults: it exits before starting
    anything, with a message naming every problem."""
    env = service_environment(
        unset=("TRACKER_STORE_URL", "BILLING_DATABASE_URL", "SUPPORT_DATABASE_URL", "RABBITMQ_HOST"),
        RABBITMQ_USER="guest", RABBITMQ_PASSWORD="guest", PROD_POSTGRES_URL="postgresql://postgres@127.0.0.1:5432",
        CONSOLE_SECURE_COOKIES="false", DEMO_MODE="true", RASA_API_TOKEN="change-me",
        **{name: "" for name in SECRET_NAMES[1:]})
    result = subprocess.run([sys.executable, "-m", "bot.ops.run_prod"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    for named in ("RabbitMQ uses the guest account", "PROD_POSTGRES_URL has no password",
                  "RASA_API_TOKEN is a known default", "CONSOLE_SECURE_COOKIES", "DEMO_MODE",
                  *[f"{name} is not set" for name in SECRET_NAMES[1:]]):
        assert named in result.stderr, named
    assert "production profile ready" not in result.stdout


def test_make_run_keeps_its_generated_secrets_private_and_stable(tmp_path) -> None:
    settings = Settings(_env_file=None, var_dir=tmp_path, **{name.lower(): "" for name in SECRET_NAMES})
    first = embedded_secrets(settings)
    path = secrets_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(first) == set(SECRET_NAMES) and len(set(first.values())) == len(SECRET_NAMES)
    assert embedded_secrets(settings) == first  # the next run: same keys (same WhatsApp conversation ids)
    chosen = Settings(_env_file=None, var_dir=tmp_path, rasa_api_token="the-callers-own-token-123")
    assert embedded_secrets(chosen)["RASA_API_TOKEN"] == "the-callers-own-token-123"
    assert "the-callers-own-token-123" not in path.read_text()  # the caller's secret is not copied to disk


# ------------------------------------------------------------------------------------ make run

def test_no_token_on_any_command_line_of_make_run(tmp_path) -> None:
    """Every process `make run` starts, read from /proc like `ps` does: no secret on a command
    line, none in what the launcher prints; and Rasa's API still requires the token it got from
    the environment."""
    caller_token = f"caller-{uuid.uuid4().hex}"
    var = tmp_path / "var"
    ports = profile_ports()
    env = service_environment(
        unset=("ACTION_SERVER_URL", "BILLING_URL"),  # the launcher derives them from the ports
        RASA_PORT=str(ports[0]), ACTION_PORT=str(ports[1]), BILLING_PORT=str(ports[2]),
        WEB_PORT=str(ports[3]), VAR_DIR=str(var), RASA_API_TOKEN=caller_token,
        **{f"{name}_URL": f"sqlite:///{tmp_path / name.lower()}.db"
           for name in ("TRACKER_STORE", "BILLING_DATABASE", "SUPPORT_DATABASE")},
        **{name: "" for name in SECRET_NAMES[1:]})  # the launcher generates these
    process = launch("bot.ops.run", env, tmp_path / "run.log", "The assistant is ready")
    try:
        generated = dict(line.split("=", 1) for line in (var / "secrets.env").read_text().splitlines()
                         if line and not line.startswith("#"))
        values = {caller_token, *generated.values()}
        assert len(values) == len(SECRET_NAMES) + 1
        children = descendants(process.pid)
        commands = {}
        for pid in children | {process.pid}:
            try:
                commands[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
        # the services are there (Rasa, action server, billing, web), so the check means something
        assert any("bot.rasa_main" in c for c in commands.values())
        assert any("bot.billing.api" in c for c in commands.values())
        for pid, command in commands.items():
            for value in values:
                assert value not in command, f"a secret on the command line of pid {pid}: {command[:80]}"
        printed = (tmp_path / "run.log").read_text(errors="replace")
        assert not [value for value in values if value in printed]
        assert "secrets.env" in printed  # it says where the tokens are instead
        rasa = f"http://127.0.0.1:{ports[0]}"
        assert requests.get(f"{rasa}/status", timeout=10).status_code == 401
        assert requests.get(f"{rasa}/status", params={"token": caller_token}, timeout=10).status_code == 200
    finally:
        stop_tree(process)


def test_rasa_allows_cross_origin_calls_only_from_the_configured_origins(tmp_path, monkeypatch) -> None:
    """Rasa used to run with `--cors "*"`: any web page could drive it from a visitor's browser."""
    from tests.harness.stack import running_stack

    monkeypatch.setenv("CORS_ORIGINS", "https://www.example.it")  # read where Rasa's command line is built
    with running_stack(tmp_path) as stack:
        def allowed(origin: str) -> str:
            answer = requests.options(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=30, headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type"})
            return answer.headers.get("Access-Control-Allow-Origin", "")

        assert allowed("https://www.example.it") == "https://www.example.it"
        assert allowed("https://evil.example") == ""


# ------------------------------------------------------------------------- production profile

@pytest.fixture(scope="module")
def fresh_prod(tmp_path_factory):
    """The production profile on a fresh database, nothing seeded by the test."""
    problems = check_services(production_environment(Settings(_env_file=None)))
    if problems:
        service_missing("; ".join(problems), RuntimeError("production services"))
    if shutil.which(rabbitmqctl()) is None:
        service_missing("rabbitmqctl (a RabbitMQ account for the test)", RuntimeError("rabbitmqctl"))
    tmp = tmp_path_factory.mktemp("fresh-prod")
    queue = f"assistente_sec_{uuid.uuid4().hex[:8]}"
    with temporary_postgres_database() as fresh:
        database, env = production_settings(fresh, REDIS_DB="6", REDIS_KEY_PREFIX=queue.replace("_", ""),
                                            RABBITMQ_QUEUE=queue, MAX_REQUEST_BYTES="65536")
        process, ports = launch_profile("bot.ops.run_prod", tmp / "prod.log", "production profile ready",
                                        database, **env)
        try:
            yield {"url": f"http://127.0.0.1:{ports[0]}", "rasa_port": ports[0], "database": database,
                   "env": env, "log": tmp / "prod.log", "process": process}
        finally:
            stop_tree(process)
            _delete_queue(queue)


def _delete_queue(queue: str) -> None:
    import asyncio

    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1/")
        async with connection:
            await (await connection.channel()).queue_delete(queue)

    asyncio.run(delete())


def test_the_production_profile_does_not_seed_demo_customers(fresh_prod) -> None:
    engine = create_engine(fresh_prod["database"], future=True)
    try:
        assert "customers" in inspect(engine).get_table_names()  # the schema is there, ready
        with engine.connect() as connection:
            demo = connection.execute(text("SELECT count(*) FROM customers WHERE code = '100001'")).scalar_one()
            customers = connection.execute(text("SELECT count(*) FROM customers")).scalar_one()
    finally:
        engine.dispose()
    assert (demo, customers) == (0, 0)


@pytest.mark.parametrize("method, path", [
    ("POST", "/model/parse"), ("GET", "/conversations/x/tracker"), ("GET", "/status"), ("GET", "/"),
    ("GET", "/version"), ("POST", "/conversations/x/trigger_intent"), ("PUT", "/model"),
    # nginx matches the normalised path but forwards the raw one: no way round through /webhooks/
    ("GET", "/webhooks/..%2Fstatus"), ("GET", "/webhooks/%2e%2e/status"), ("GET", "/socket.io/../status"),
])
def test_nginx_does_not_expose_rasas_http_api(fresh_prod, method: str, path: str) -> None:
    token = fresh_prod["env"]["RASA_API_TOKEN"]  # even with the right token
    connection = http.client.HTTPConnection("127.0.0.1", fresh_prod["rasa_port"], timeout=30)
    try:
        connection.request(method, f"{path}{'&' if '?' in path else '?'}token={token}", body=b"{}",
                           headers={"Content-Type": "application/json"})
        assert connection.getresponse().status == 404
    finally:
        connection.close()


def test_nginx_refuses_an_oversized_body_with_413(fresh_prod) -> None:
    body = b'{"sender": "x", "message": "' + b"a" * 70_000 + b'"}'  # over MAX_REQUEST_BYTES (64 KiB)
    answer = requests.post(f"{fresh_prod['url']}/webhooks/rest/webhook", data=body, timeout=30,
                           headers={"Content-Type": "application/json",
                                    "Authorization": f"Bearer {fresh_prod['env']['REST_CHANNEL_TOKEN']}"})
    assert answer.status_code == 413
    assert "<center>nginx</center>" in answer.text  # refused by nginx, before any replica reads it


def test_the_channels_are_reachable_through_nginx(fresh_prod) -> None:
    assert say(fresh_prod["url"], f"sec-{uuid.uuid4().hex[:8]}", "buongiorno",
               token=fresh_prod["env"]["REST_CHANNEL_TOKEN"])
    handshake = requests.get(f"{fresh_prod['url']}/socket.io/", params={"EIO": "4", "transport": "polling"},
                             timeout=30)
    assert handshake.status_code == 200 and '"sid"' in handshake.text
    # the console still reaches Rasa's API, on a replica's loopback port, with the token
    replica = f"http://127.0.0.1:{fresh_prod['rasa_port'] + 1}/status"
    assert requests.get(replica, params={"token": fresh_prod["env"]["RASA_API_TOKEN"]}, timeout=30).status_code == 200
    assert requests.get(replica, timeout=30).status_code == 401


def test_no_secret_on_a_command_line_of_the_production_profile(fresh_prod) -> None:
    """nginx, the replicas, the action servers, the backend, the broker consumer and their
    respawn wrappers: no secret, broker password or database password on any command line."""
    from sqlalchemy.engine import make_url

    values = [fresh_prod["env"][name] for name in SECRET_NAMES]
    values += [fresh_prod["env"]["RABBITMQ_PASSWORD"], make_url(fresh_prod["database"]).password]
    commands = []
    for pid in descendants(fresh_prod["process"].pid):
        try:
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    assert sum("bot.rasa_main" in c for c in commands) >= 2 and any("nginx" in c for c in commands)
    assert not [c[:80] for c in commands if any(v in c for v in values)]
    printed = fresh_prod["log"].read_text(errors="replace")
    assert not [name for name, v in zip(SECRET_NAMES, values) if v in printed]
