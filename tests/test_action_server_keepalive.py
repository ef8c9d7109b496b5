"""The action server waits for a slow caller (issue 15): a connection that sends its first request
after 6 seconds of silence is served. With Sanic's default (KEEP_ALIVE_TIMEOUT 5 s, applied to a
new connection before its first request) it was closed, and under `make load` a saturated Rasa
server, which can take that long between connecting and writing an action call, left the
customer's turn without a reply."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from bot.ops.services import action_server_command, service_environment
from bot.settings import Settings
from tests.harness.processes import free_port, start_logged, stop, wait_for

SILENCE_S = 6


def test_a_connection_silent_for_six_seconds_is_still_served(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, action_port=free_port())  # type: ignore[call-arg]
    env = service_environment(settings)
    env.update(ACTION_SERVER_TOKEN="action-token-for-this-test", ACTION_PORT=str(settings.action_port))  # noqa: S106
    log = tmp_path / "actions.log"
    process = start_logged(action_server_command(settings), env, log)
    try:
        wait_for(f"http://127.0.0.1:{settings.action_port}/health", process, log)
        with socket.create_connection(("127.0.0.1", settings.action_port), timeout=30) as connection:
            time.sleep(SILENCE_S)
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = connection.recv(1024)
        assert answer.startswith(b"HTTP/1.1 200"), answer
    finally:
        stop(process)
