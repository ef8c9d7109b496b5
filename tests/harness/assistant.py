"""The launchers as a user starts them: `python -m bot.ops.run` (`make run`) on free loopback ports,
and either profile's launcher on a block of ports for the production and load tests."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bot.ops.services import service_environment
from tests.harness.processes import (
    descendants,
    free_port,
    launch,
    profile_ports,
    start_logged,
    stop_tree,
    wait_for,
    wait_for_line,
)
from tests.harness.rest import REST_TOKEN, TEST_SECRETS, say

# The day the launched profiles' billing backend takes as today (BUSINESS_DATE).
BUSINESS_DATE = "2026-11-26"
RASA_API_TOKEN = "test-token-123"
READY_MARKERS = {"bot.ops.run": "assistant is ready", "bot.ops.run_prod": "production profile ready"}


@dataclass
class RunningAssistant:
    """`python -m bot.ops.run` (what `make run` starts) on free loopback ports."""

    process: subprocess.Popen
    rasa_url: str
    action_url: str
    billing_url: str
    token: str
    env: dict[str, str]
    tracker_db: Path
    log_path: Path
    children: set[int] = field(default_factory=set)

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        return say(self.rasa_url, sender, message, token=self.env.get("REST_CHANNEL_TOKEN", REST_TOKEN))

    def parse(self, text: str) -> dict[str, Any]:
        response = requests.post(
            f"{self.rasa_url}/model/parse", params={"token": self.token}, json={"text": text}, timeout=60
        )
        response.raise_for_status()
        parsed: dict[str, Any] = response.json()
        return parsed

    def log(self) -> str:
        """Everything the launcher and its services printed so far."""
        return self.log_path.read_text(errors="replace")

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a user at the terminal would: SIGINT to the launcher."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


@contextmanager
def running_assistant(tmp: Path) -> Iterator[RunningAssistant]:
    """`make run` in `tmp` (its databases and log there); stopped with Ctrl-C afterwards, and
    whatever it left behind killed."""
    rasa_port, action_port, billing_port, web_port = free_port(), free_port(), free_port(), free_port()
    tracker_db = tmp / "tracker.db"
    # no settings: the launcher derives the URLs from the ports and generates the billing secrets
    env = service_environment(
        settings=None,
        base=None,
        unset=("ACTION_SERVER_URL", "BILLING_URL", "BILLING_API_TOKEN", "BILLING_TOKEN_SECRET"),
        RASA_PORT=str(rasa_port),
        ACTION_PORT=str(action_port),
        BILLING_PORT=str(billing_port),
        WEB_PORT=str(web_port),
        BILLING_DATABASE_URL=f"sqlite:///{tmp / 'billing.db'}",
        SUPPORT_DATABASE_URL=f"sqlite:///{tmp / 'support.db'}",
        RASA_API_TOKEN=RASA_API_TOKEN,
        TRACKER_STORE_URL=f"sqlite:///{tracker_db}",
        EMERGENCY_NUMBER_GAS="800 555 010",
        EMERGENCY_NUMBER_ELECTRICITY="800 555 011",
        CALL_CENTRE_NUMBER="800 555 020",
        **TEST_SECRETS,
    )
    log_path = tmp / "launcher.log"
    process = start_logged([sys.executable, "-m", "bot.ops.run"], env, log_path)
    running = RunningAssistant(
        process=process,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        billing_url=f"http://127.0.0.1:{billing_port}",
        token=RASA_API_TOKEN,
        env=env,
        tracker_db=tracker_db,
        log_path=log_path,
    )
    try:
        # one wait each: the launcher may first train a model, then Rasa loads it
        for url in (f"{running.billing_url}/health", f"{running.action_url}/health", f"{running.rasa_url}/"):
            wait_for(url, process, log_path)
        wait_for_line(process, log_path, READY_MARKERS["bot.ops.run"], timeout=60)  # the web service too
        running.children = descendants(process.pid)
        yield running
    finally:
        stop_tree(process, running.children)


def launch_profile(
    module: str, log_path: Path, ready_marker: str, database: str, **extra: str
) -> tuple[subprocess.Popen, tuple[int, int, int, int]]:
    """Start a profile's launcher (`bot.ops.run` or `bot.ops.run_prod`) on a block of free ports,
    every database at `database`, the business day fixed, `extra` variables on top; it and its
    ports (Rasa, action server, billing backend, web service)."""
    ports = profile_ports()
    variables = dict(
        TEST_SECRETS,
        RASA_PORT=str(ports[0]),
        ACTION_PORT=str(ports[1]),
        BILLING_PORT=str(ports[2]),
        WEB_PORT=str(ports[3]),
        TRACKER_STORE_URL=database,
        BILLING_DATABASE_URL=database,
        SUPPORT_DATABASE_URL=database,
        BUSINESS_DATE=BUSINESS_DATE,
    )
    variables.update(extra)
    # the launcher derives the URLs from the ports
    env = service_environment(settings=None, base=None, unset=("ACTION_SERVER_URL", "BILLING_URL"), **variables)
    return launch(module, env, log_path, ready_marker), ports
