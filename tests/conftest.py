"""Shared fixtures: the real assistant, started the way `make run` starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest
import requests

from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT

STARTUP_TIMEOUT_S = 420
# Secrets every started service gets explicitly (the launchers would generate others).
REST_TOKEN = "test-rest-channel-token"
CONVERSATION_ID_SECRET = "test-conversation-id-secret"
TEST_SECRETS = {"REST_CHANNEL_TOKEN": REST_TOKEN, "CONVERSATION_ID_SECRET": CONVERSATION_ID_SECRET}


def rest_headers(token: str = REST_TOKEN) -> Dict[str, str]:
    """What a REST channel client sends (a server-to-server channel, bot/channels/rest.py)."""
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def profile_ports() -> Tuple[int, int, int, int]:
    """Ports for a profile, all free and all distinct: Rasa (and the two replicas after it),
    the action server (and its two), the billing backend, the web service."""
    for _ in range(100):
        base = free_port()
        try:
            for offset in range(8):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base, base + 3, base + 6, base + 7
    raise RuntimeError("no block of 8 free ports")


def descendants(pid: int) -> Set[int]:
    """Every process below `pid`, read from /proc (children of children included)."""
    parents: Dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the command name may contain spaces; the fields after its ')' are fixed
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: Set[int] = set()
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found.update(children)
        frontier.extend(children)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class RunningAssistant:
    """`python -m bot.ops.run` (what `make run` starts) on free loopback ports."""

    process: subprocess.Popen
    rasa_url: str
    action_url: str
    billing_url: str
    token: str
    env: Dict[str, str]
    tracker_db: Path
    log_path: Path
    children: Set[int] = field(default_factory=set)

    def say(self, sender: str, message: str) -> List[dict]:
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers=rest_headers(self.env.get("REST_CHANNEL_TOKEN", REST_TOKEN)),
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> dict:
        response = requests.post(
            f"{self.rasa_url}/model/parse", params={"token": self.token}, json={"text": text}, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a user at the terminal would: SIGINT to the launcher."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


def wait_for(url: str, process: subprocess.Popen, log_path: Path, timeout: float = STARTUP_TIMEOUT_S) -> None:
    """Wait until `url` answers 200; fail with the process log if it dies or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log_path.read_text(errors='replace')[-5000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not up after {timeout} s:\n{log_path.read_text(errors='replace')[-5000:]}")
        time.sleep(0.5)


def start_logged(command: List[str], env: Dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def launch(module: str, env: Dict[str, str], log_path: Path, ready_marker: str,
           timeout: float = STARTUP_TIMEOUT_S) -> subprocess.Popen:
    """Start a launcher (`python -m module`) and wait for the line that says it is ready."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", module], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while ready_marker not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_tree(process)
            raise RuntimeError(log_path.read_text(errors="replace")[-5000:])
        time.sleep(1)
    return process


def launch_profile(module: str, log_path: Path, ready_marker: str, database: str,
                   **extra: str) -> Tuple[subprocess.Popen, Tuple[int, int, int, int]]:
    """Start a profile's launcher (`bot.ops.run` or `bot.ops.run_prod`) on a block of free ports,
    every database at `database`, the business day fixed, `extra` variables on top; its ports."""
    ports = profile_ports()
    variables = dict(TEST_SECRETS, RASA_PORT=str(ports[0]), ACTION_PORT=str(ports[1]), BILLING_PORT=str(ports[2]),
                     WEB_PORT=str(ports[3]), TRACKER_STORE_URL=database, BILLING_DATABASE_URL=database,
                     SUPPORT_DATABASE_URL=database, BUSINESS_DATE="2026-11-26", **extra)
    # the launcher derives the URLs from the ports
    env = service_environment(unset=("ACTION_SERVER_URL", "BILLING_URL"), **variables)
    return launch(module, env, log_path, ready_marker), ports


def service_pid(root: int, words: List[bytes], port: int) -> int:
    """The PID of the service below process `root` whose command line has `words` and `port`
    (the service itself, not its respawn wrapper)."""
    for pid in descendants(root):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if all(w in cmdline for w in words) and b"--port" in cmdline and str(port).encode() in cmdline \
                and not any(b"respawn" in part for part in cmdline):
            return pid
    raise LookupError(f"no process {words} on port {port}")


def stop_tree(process: subprocess.Popen, children: Set[int] = frozenset()) -> None:
    """Ctrl-C to a launcher; whatever it leaves behind is killed."""
    children = set(children) | descendants(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    for pid in children:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def _wait_ready(assistant: RunningAssistant) -> None:
    for url in (f"{assistant.billing_url}/health", f"{assistant.action_url}/health", f"{assistant.rasa_url}/"):
        wait_for(url, assistant.process, assistant.log_path)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> RunningAssistant:
    tmp = tmp_path_factory.mktemp("assistant")
    rasa_port, action_port, billing_port = free_port(), free_port(), free_port()
    tracker_db = tmp / "tracker.db"
    # the launcher derives the URLs from the ports and generates the billing secrets
    env = service_environment(
        unset=("ACTION_SERVER_URL", "BILLING_URL", "BILLING_API_TOKEN", "BILLING_TOKEN_SECRET"),
        RASA_PORT=str(rasa_port),
        ACTION_PORT=str(action_port),
        BILLING_PORT=str(billing_port),
        BILLING_DATABASE_URL=f"sqlite:///{tmp / 'billing.db'}",
        SUPPORT_DATABASE_URL=f"sqlite:///{tmp / 'support.db'}",
        RASA_API_TOKEN="test-token-123",
        TRACKER_STORE_URL=f"sqlite:///{tracker_db}",
        EMERGENCY_NUMBER_GAS="800 555 010",
        EMERGENCY_NUMBER_ELECTRICITY="800 555 011",
        CALL_CENTRE_NUMBER="800 555 020",
        **TEST_SECRETS,
    )
    log_path = tmp / "launcher.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.ops.run"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    running = RunningAssistant(
        process=process,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        billing_url=f"http://127.0.0.1:{billing_port}",
        token="test-token-123",
        env=env,
        tracker_db=tracker_db,
        log_path=log_path,
    )
    try:
        _wait_ready(running)
        running.children = descendants(process.pid)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        for pid in descendants(process.pid) | running.children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
