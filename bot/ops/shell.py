"""`make shell`: talk to the assistant in the terminal.

Starts the action server in the background (custom actions: outage numbers, fallback, human)
and `rasa shell` on the current model; leaving the shell stops the action server.
"""

from __future__ import annotations

import logging
import subprocess
import sys

from bot.ops.services import BIN, action_server_command, service_environment
from bot.ops.train import ensure_model
from bot.settings import PROJECT_ROOT, get_settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = get_settings()
    model = ensure_model()
    env = service_environment(settings)
    actions = subprocess.Popen(action_server_command(settings), cwd=PROJECT_ROOT, env=env)
    try:
        return subprocess.call(
            [str(BIN / "rasa"), "shell", "--model", str(model), "--endpoints", str(PROJECT_ROOT / "endpoints.yml")],
            cwd=PROJECT_ROOT, env=env,
        )
    finally:
        actions.terminate()
        actions.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
