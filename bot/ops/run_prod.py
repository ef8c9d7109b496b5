"""`make run-prod`: the production topology on one machine, against PostgreSQL, Redis and RabbitMQ.

    nginx :RASA_PORT ─┬─ Rasa replica :RASA_PORT+1 ─┐   tracker store: PostgreSQL
                      └─ Rasa replica :RASA_PORT+2 ─┤   lock store:    Redis
                                                    │   event broker:  RabbitMQ (pika)
    nginx :ACTION_PORT ── action servers :ACTION_PORT+1, :ACTION_PORT+2
    billing backend :BILLING_PORT (uvicorn, 2 workers, PostgreSQL) · web/console :WEB_PORT

nginx exposes the channels only (/webhooks/, /socket.io/), with bodies up to MAX_REQUEST_BYTES;
Rasa's HTTP API stays on the replicas' loopback ports, where the console reaches it with
RASA_API_TOKEN. The profile refuses to start with a default that is only fit for a laptop
(`insecure_settings`: RabbitMQ's guest, PostgreSQL without a password, missing or known secrets,
cookies without Secure, DEMO_MODE), and it never seeds the demo customers.

REST requests are balanced round-robin (any replica can serve any turn: the conversation is in
PostgreSQL and the Redis lock serialises its turns); socket.io is sticky by client address
(ip_hash), as its sessions live in one replica's memory. Every connection setting comes from
bot/settings.py (environment, then .env: PROD_POSTGRES_URL, REDIS_*, RABBITMQ_*, see the README's
Configuration and docs/deployment.md).

Over 300 lines: the refusal checks, the nginx configuration and the process list of one topology,
read together when the topology changes.
"""

from __future__ import annotations

import shlex
import shutil
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from honcho.manager import Manager
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# creating Rasa's tables imports Rasa, whose libraries' deprecation notices bot.quiet drops
import bot.quiet  # noqa: F401
from bot.action_server import MAX_REQUEST_BYTES as ACTION_REQUEST_MAX_BYTES
from bot.ops.run import READY_TIMEOUT_S, _wait_until_up, launcher_logging
from bot.ops.secrets import GENERATE_HINT, configured_secrets, weak_secrets
from bot.ops.services import (
    action_server_command,
    billing_server_command,
    rasa_server_command,
    service_environment,
    web_server_command,
)
from bot.ops.train import ensure_model
from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.support.broker_consumer import queue_consumers

REPLICAS = 2


def nginx_binary() -> str:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of a URL if it does not exist."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = create_engine(parsed.set(database="postgres"), future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def nginx_config(settings: Settings, var: Path) -> Path:
    rasa = "\n".join(
        f"        server 127.0.0.1:{settings.rasa_port + i} max_fails=1 fail_timeout=5s;"
        for i in range(1, REPLICAS + 1)
    )
    whatsapp = "\n".join(
        f"        server 127.0.0.1:{settings.rasa_port + i} max_fails=1 fail_timeout=5s"
        + (";" if i == 1 else " backup;")
        for i in range(1, REPLICAS + 1)
    )
    actions = "\n".join(
        f"        server 127.0.0.1:{settings.action_port + i} max_fails=1 fail_timeout=5s;"
        for i in range(1, REPLICAS + 1)
    )
    config = f"""
worker_processes 1;
pid {var}/nginx.pid;
error_log {var}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    # Keep bodies in memory: nginx's workers run as an unprivileged user that may not reach
    # temporary files under the project folder (a clone in a private /tmp directory, say).
    # A larger body is refused with 413 before it reaches a replica (MAX_REQUEST_BYTES).
    client_body_buffer_size {settings.max_request_bytes};
    client_max_body_size {settings.max_request_bytes};
    server_tokens off;
    proxy_buffers 16 64k;
    proxy_max_temp_file_size 0;
    client_body_temp_path {var}/body; proxy_temp_path {var}/proxy; fastcgi_temp_path {var}/fastcgi;
    uwsgi_temp_path {var}/uwsgi; scgi_temp_path {var}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream rasa {{
{rasa}
    }}
    upstream rasa_sticky {{
        ip_hash;
{rasa}
    }}
    # WhatsApp: one replica, the other as a backup. The channel orders each customer's messages
    # by their timestamp inside one process (docs/whatsapp.md); webhooks spread over two
    # replicas could be processed out of order.
    upstream rasa_whatsapp {{
{whatsapp}
    }}
    upstream actions {{
{actions}
    }}
    server {{
        listen {settings.bind_host}:{settings.rasa_port};
        proxy_next_upstream error timeout http_502 http_503;
        proxy_read_timeout 120s;
        location /socket.io/ {{
            # the raw URI too: nginx matches the normalised one but forwards the raw one, and
            # "/socket.io/..%2F.." must not reach another route of Rasa's
            if ($request_uri !~ "^/socket[.]io/") {{ return 404; }}
            proxy_pass http://rasa_sticky;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
        }}
        # The channels only. Rasa's HTTP API (/model, /conversations, /status, ...) stays on the
        # replicas' loopback ports, for the console.
        location /webhooks/ {{
            if ($request_uri !~ "^/webhooks/") {{ return 404; }}
            proxy_pass http://rasa;
            proxy_set_header Host $host;
        }}
        location /webhooks/whatsapp/ {{
            if ($request_uri !~ "^/webhooks/whatsapp/") {{ return 404; }}
            proxy_pass http://rasa_whatsapp;
            proxy_set_header Host $host;
        }}
        location / {{ return 404; }}
    }}
    server {{
        listen 127.0.0.1:{settings.action_port};
        # Rasa's action calls carry the whole tracker and the domain: far over the customers'
        # MAX_REQUEST_BYTES, within the action server's own cap (bot/action_server.py)
        client_max_body_size {ACTION_REQUEST_MAX_BYTES};
        client_body_buffer_size {ACTION_REQUEST_MAX_BYTES};
        # An action call cut by a dying action server is sent to the other one even though it is
        # a POST: the actions' side effects carry idempotency keys (a plan is created once).
        proxy_next_upstream error timeout http_502 http_503 non_idempotent;
        location / {{ proxy_pass http://actions; }}
    }}
}}
"""
    path = var / "nginx.conf"
    path.write_text(config)
    return path


def production_environment(settings: Settings) -> dict[str, str]:
    """The environment of the profile's services, from the settings (the caller's environment,
    then .env, then bot/settings.py). A database URL that is not PostgreSQL (the embedded SQLite
    default) is replaced by a database on PROD_POSTGRES_URL."""
    env = service_environment(settings)
    databases = {
        "TRACKER_STORE_URL": (settings.tracker_store_url, "assistente_tracker"),
        "BILLING_DATABASE_URL": (settings.billing_database_url, "assistente_billing"),
        "SUPPORT_DATABASE_URL": (settings.support_database_url, "assistente_support"),
    }
    for key, (url, name) in databases.items():
        env[key] = url if url.startswith("postgresql") else f"{settings.prod_postgres_url}/{name}"
    env.update(
        {
            "REDIS_HOST": settings.redis_host,
            "REDIS_PORT": str(settings.redis_port),
            "REDIS_DB": str(settings.redis_db),
            "REDIS_KEY_PREFIX": settings.redis_key_prefix,
            "TICKET_LOCK_LIFETIME": str(settings.ticket_lock_lifetime),
            "RABBITMQ_HOST": settings.rabbitmq_host,
            "RABBITMQ_USER": settings.rabbitmq_user,
            "RABBITMQ_PASSWORD": settings.rabbitmq_password,
            "RABBITMQ_QUEUE": settings.rabbitmq_queue,
            "BROKER_FEEDS_SUMMARIES": "true",  # the console's summaries come from the broker consumer
            # the console reaches Rasa's HTTP API on a replica directly (loopback, RASA_API_TOKEN):
            # nginx does not expose it
            "RASA_URL": settings.rasa_url or f"http://127.0.0.1:{settings.rasa_port + 1}",
        }
    )
    # the configured secrets only: this profile generates none and refuses to start without them
    env.update({name: value for name, value in configured_secrets(settings).items() if value})
    return env


def _database_variable(settings: Settings, key: str) -> str:
    own = {
        "TRACKER_STORE_URL": settings.tracker_store_url,
        "BILLING_DATABASE_URL": settings.billing_database_url,
        "SUPPORT_DATABASE_URL": settings.support_database_url,
    }[key]
    return key if own.startswith("postgresql") else "PROD_POSTGRES_URL"


def _without_password(url: str) -> bool:
    parsed = make_url(url)
    socket_dir = parsed.host is None or str(parsed.query.get("host", "")).startswith("/")
    # a Unix-socket connection may rely on the server's peer authentication instead
    return not parsed.password and not socket_dir


def insecure_settings(settings: Settings, env: dict[str, str]) -> list[str]:
    """Why this configuration must not serve customers, one line per problem (empty: none).
    Each is a default that is fine on a laptop and an open door on a server."""
    problems = []
    if settings.rabbitmq_user == "guest" or settings.rabbitmq_password in ("", "guest"):
        problems.append(
            "RabbitMQ uses the guest account or its password (RABBITMQ_USER / RABBITMQ_PASSWORD): "
            "create a user with its own password (rabbitmqctl add_user)"
        )
    amqp = urlsplit(settings.rabbitmq_host) if "://" in settings.rabbitmq_host else None
    if amqp is not None and (amqp.username == "guest" or amqp.password == "guest"):  # noqa: S105 - refused
        problems.append("RABBITMQ_HOST carries the guest account")
    reported = set()
    for key in ("TRACKER_STORE_URL", "BILLING_DATABASE_URL", "SUPPORT_DATABASE_URL"):
        variable = _database_variable(settings, key)
        if _without_password(env[key]) and variable not in reported:
            reported.add(variable)
            problems.append(f"{variable} has no password: PostgreSQL must require one")
    problems += weak_secrets(configured_secrets(settings))
    if not settings.console_secure_cookies:
        problems.append(
            "CONSOLE_SECURE_COOKIES is false: the console's session cookie would travel "
            "without HTTPS (serve the console over HTTPS and set it to true)"
        )
    if settings.demo_mode:
        problems.append("DEMO_MODE is true: the demo site would sign a customer-area login for any code")
    return problems


def check_services(env: dict[str, str]) -> list[str]:
    problems = []
    if not _reachable(env["TRACKER_STORE_URL"].replace("postgresql", "tcp", 1), 5432):
        problems.append("PostgreSQL is not reachable (PROD_POSTGRES_URL / *_DATABASE_URL)")
    if not _reachable(f"{env['REDIS_HOST']}:{env['REDIS_PORT']}", 6379):
        problems.append("Redis is not reachable (REDIS_HOST, REDIS_PORT)")
    if not _reachable(env["RABBITMQ_HOST"], 5672):
        problems.append("RabbitMQ is not reachable (RABBITMQ_HOST)")
    if not nginx_binary():
        problems.append("nginx is missing (Debian: apt-get install nginx-light)")
    return problems


def prepare_databases(env: dict[str, str]) -> None:
    """Create the databases and their schemas once, before any service starts: two Rasa replicas
    creating the tracker tables at once on a fresh database race (one fails on a PostgreSQL
    UniqueViolation), and so would the billing backend's two workers. No data is written: the
    production profile never seeds the demo customers (`make run` does, `make seed` on demand)."""
    from bot.billing.db import upgrade_schema as upgrade_billing
    from bot.support.db import upgrade_schema as upgrade_support

    for key in ("TRACKER_STORE_URL", "BILLING_DATABASE_URL", "SUPPORT_DATABASE_URL"):
        ensure_database(env[key])
    upgrade_billing(env["BILLING_DATABASE_URL"])
    upgrade_support(env["SUPPORT_DATABASE_URL"])
    from bot.rasa_stores import UrlSQLTrackerStore

    UrlSQLTrackerStore(url=env["TRACKER_STORE_URL"]).engine.dispose()  # creates Rasa's tables


def main() -> int:
    launcher_logging()
    settings = get_settings()
    env = production_environment(settings)
    insecure = insecure_settings(settings, env)
    if insecure:
        print(
            "Refusing to start the production profile with insecure settings:\n  - "
            + "\n  - ".join(insecure)
            + f"\nSet them in the environment or in .env (a random secret: {GENERATE_HINT}).",
            file=sys.stderr,
        )
        return 2
    problems = check_services(env)
    if problems:
        print("Cannot start the production profile:\n  - " + "\n  - ".join(problems), file=sys.stderr)
        return 1
    model = ensure_model()
    prepare_databases(env)
    var = PROJECT_ROOT / "var" / f"nginx-{settings.rasa_port}"
    var.mkdir(parents=True, exist_ok=True)
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{settings.action_port}/webhook"

    manager = Manager()
    cwd = str(PROJECT_ROOT)
    manager.add_process(
        "nginx",
        shlex.join([nginx_binary(), "-c", str(nginx_config(settings, var)), "-p", str(var), "-g", "daemon off;"]),
        env=env,
        cwd=cwd,
    )
    # every service is started again if it dies (as systemd's Restart=always would); nginx
    # meanwhile sends the traffic to the other replica or action server
    respawn = [sys.executable, "-m", "bot.ops.respawn", "--"]
    manager.add_process("billing", shlex.join(respawn + billing_server_command(settings, workers=2)), env=env, cwd=cwd)
    manager.add_process("web", shlex.join(respawn + web_server_command(settings)), env=env, cwd=cwd)
    for i in range(1, REPLICAS + 1):
        manager.add_process(
            f"actions{i}",
            shlex.join(respawn + action_server_command(settings, settings.action_port + i)),
            env=env,
            cwd=cwd,
        )
        manager.add_process(
            f"rasa{i}",
            shlex.join(
                respawn
                + rasa_server_command(settings, model, settings.rasa_port + i, "endpoints-prod.yml", "127.0.0.1")
            ),
            env=env,
            cwd=cwd,
        )
    manager.add_process(
        "summaries", shlex.join([*respawn, sys.executable, "-m", "bot.support.broker_consumer"]), env=env, cwd=cwd
    )
    broker = Settings(  # type: ignore[call-arg]  # pydantic's _env_file: mypy runs without its plugin
        _env_file=None,
        rabbitmq_host=env["RABBITMQ_HOST"],
        rabbitmq_user=env["RABBITMQ_USER"],
        rabbitmq_password=env["RABBITMQ_PASSWORD"],
        rabbitmq_queue=env["RABBITMQ_QUEUE"],
    )

    def announce() -> None:
        # ready means every service answers, the action servers, the backend and the broker
        # consumer included; each gets READY_TIMEOUT_S (Rasa loads its model first)
        checks = {
            f"Rasa replica :{settings.rasa_port + i}": f"http://127.0.0.1:{settings.rasa_port + i}/"
            for i in range(1, REPLICAS + 1)
        }
        for i in range(1, REPLICAS + 1):
            checks[f"action server :{settings.action_port + i}"] = f"http://127.0.0.1:{settings.action_port + i}/health"
        checks["billing backend"] = f"http://127.0.0.1:{settings.billing_port}/health"
        checks["web service"] = f"http://127.0.0.1:{settings.web_port}/health"
        states = []
        for name, url in checks.items():
            if not _wait_until_up(url, time.monotonic() + READY_TIMEOUT_S):
                print(f"!! {name} did not answer at {url} within {READY_TIMEOUT_S} s", flush=True)
                return
            states.append(f"{name} up")
        deadline = time.monotonic() + READY_TIMEOUT_S
        while queue_consumers(broker) == 0 and time.monotonic() < deadline:
            time.sleep(1)
        if not queue_consumers(broker):
            print(f"!! the summaries consumer is not reading RabbitMQ queue {broker.rabbitmq_queue}", flush=True)
            return
        states.append("summaries consumer reading")
        host = "127.0.0.1" if settings.bind_host in ("0.0.0.0", "::") else settings.bind_host  # noqa: S104
        public = f"http://{host}:{settings.rasa_port}"
        print(
            f"\n== production profile ready: REST through nginx at http://127.0.0.1:{settings.rasa_port}"
            f"/webhooks/rest/webhook ({REPLICAS} Rasa replicas, {REPLICAS} action servers) ==\n"
            f"  services     : {', '.join(states)}\n"
            f"  channels     : {public}/webhooks/rest/webhook (Authorization: Bearer REST_CHANNEL_TOKEN), "
            f"{public}/socket.io/ (the widget), {public}/webhooks/whatsapp/webhook\n"
            f"  website      : http://{host}:{settings.web_port}/  console: http://{host}:{settings.web_port}/console/\n"
            f"  Rasa HTTP API: http://127.0.0.1:{settings.rasa_port + 1} and the next ports (each replica, loopback "
            "only; RASA_API_TOKEN)\n"
            f"  billing API  : http://127.0.0.1:{settings.billing_port} (BILLING_API_TOKEN)\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )

    threading.Thread(target=announce, daemon=True).start()
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
