"""What a test or the load runner needs to start the production profile (`make run-prod`) the
way an operator must: a RabbitMQ account of its own, a PostgreSQL URL with a password, every secret set to a random
value, Secure console cookies. The profile refuses anything less (bot/ops/run_prod.py).

The machine's PostgreSQL trusts local connections, so the password in the URL is not checked
there; the profile only requires that one is configured (as a server requiring it would)."""

from __future__ import annotations

import atexit
import functools
import secrets
import shutil
import subprocess
import sys
import uuid

from sqlalchemy.engine import make_url

from bot.ops.secrets import SECRET_NAMES
from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT
from tests.harness.assistant import BUSINESS_DATE


def rabbitmqctl() -> str:
    return shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"


def _rabbitmqctl(*args: str, password: str = "") -> None:
    # the password goes through standard input: on a command line `ps` would show it
    subprocess.run([rabbitmqctl(), *args], input=password, text=True, check=True, capture_output=True)


@functools.lru_cache(maxsize=1)
def rabbitmq_account() -> tuple[str, str]:
    """A RabbitMQ user with a random password for this test process (deleted when it exits):
    the production profile refuses guest/guest."""
    user, password = f"assistente_test_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(24)
    _rabbitmqctl("add_user", user, password=password)
    atexit.register(lambda: subprocess.run([rabbitmqctl(), "delete_user", user], capture_output=True))
    _rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
    return user, password


def with_password(database: str) -> str:
    return make_url(database).set(password="not-checked-by-trust-auth").render_as_string(hide_password=False)


def production_settings(database: str, **extra: str) -> tuple[str, dict[str, str]]:
    """The database URL (with a password) and the variables for tests.harness.assistant.launch_profile:
    everything the production profile demands, fresh secrets, `extra` on top."""
    user, password = rabbitmq_account()
    env = {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}
    env.update(RABBITMQ_USER=user, RABBITMQ_PASSWORD=password, CONSOLE_SECURE_COOKIES="true", DEMO_MODE="false",
               PROD_POSTGRES_URL=with_password("postgresql://postgres@127.0.0.1:5432"), **extra)
    return with_password(database), env


def seed_demo_customers(database: str) -> None:
    """The demo customers, seeded as an operator would on purpose (`make seed`): the production
    profile itself never seeds. Same business day as the launched profile."""
    env = service_environment(BILLING_DATABASE_URL=database, BUSINESS_DATE=BUSINESS_DATE)
    subprocess.run([sys.executable, "-m", "bot.billing.seed"], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True)
