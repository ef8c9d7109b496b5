"""Processes for the tests: free loopback ports, starting a command or a launcher with its log in a
file, waiting until it answers, and stopping it with everything it started.

tests/harness/markers.py recognises a test that uses `start_logged`, `launch` or `launch_profile`
(or a helper that does) as one that starts services.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import requests

from bot.settings import PROJECT_ROOT

# Rasa loads TensorFlow and its model: minutes on 2 busy cores.
STARTUP_TIMEOUT_S = 420


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def profile_ports() -> tuple[int, int, int, int]:
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


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc (children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the command name may contain spaces; the fields after its ')' are fixed
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found.update(children)
        frontier.extend(children)
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def service_pid(root: int, words: Sequence[bytes], port: int) -> int:
    """The PID of the service below process `root` whose command line has `words` and `port`
    (the service itself, not its respawn wrapper)."""
    for pid in descendants(root):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            all(w in cmdline for w in words)
            and b"--port" in cmdline
            and str(port).encode() in cmdline
            and not any(b"respawn" in part for part in cmdline)
        ):
            return pid
    raise LookupError(f"no process {list(words)} on port {port}")


def tail(log_path: Path, chars: int = 5000) -> str:
    return log_path.read_text(errors="replace")[-chars:] if log_path.exists() else ""


def wait_for(url: str, process: subprocess.Popen, log_path: Path, timeout: float = STARTUP_TIMEOUT_S) -> None:
    """Wait until `url` answers 200; fail with the process log if it dies or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{tail(log_path)}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not up after {timeout} s:\n{tail(log_path)}")
        time.sleep(0.5)


def start_logged(command: Sequence[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    """Start `command` in the project folder, standard output and error into `log_path`."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(  # noqa: S603 - the project's own commands
            list(command), cwd=PROJECT_ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 30 s: for a single service started with `start_logged`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def stop_tree(process: subprocess.Popen, children: Collection[int] = frozenset()) -> None:
    """Ctrl-C to a launcher, as a user at the terminal would; whatever it (or `children`, known
    from earlier) leaves behind is killed."""
    remaining = set(children) | descendants(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    for pid in remaining | descendants(process.pid):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def wait_for_line(process: subprocess.Popen, log_path: Path, marker: str, timeout: float = STARTUP_TIMEOUT_S) -> None:
    """Wait until `marker` is in the process's log; fail with the log if it dies or takes too long."""
    deadline = time.monotonic() + timeout
    while marker not in log_path.read_text(errors="replace"):
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{tail(log_path)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {marker!r} after {timeout} s:\n{tail(log_path)}")
        time.sleep(1)


def launch(
    module: str, env: Mapping[str, str], log_path: Path, ready_marker: str, timeout: float = STARTUP_TIMEOUT_S
) -> subprocess.Popen:
    """Start a launcher (`python -m module`) and wait for the line that says it is ready."""
    process = start_logged([sys.executable, "-m", module], env, log_path)
    try:
        wait_for_line(process, log_path, ready_marker, timeout)
    except RuntimeError:
        stop_tree(process)
        raise
    return process
