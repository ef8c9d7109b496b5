"""`make shell`: talk to the assistant in the terminal.

Seeds and starts the billing backend and the action server in the background, then `rasa
shell` on the current model; leaving the shell stops both.
"""

from __future__ import annotations

import logging
import subprocess
import sys

from bot.billing.seed import seed
from bot.ops.secrets import embedded_secrets
from bot.ops.services import BIN, action_server_command, billing_server_command, service_environment
from bot.ops.train import ensure_model
from bot.settings import PROJECT_ROOT, get_settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = get_settings()
    model = ensure_model()
    env = service_environment(settings)
    env.update(embedded_secrets(settings))  # the same as `make run`'s (var/secrets.env)
    logging.info(seed())
    billing = subprocess.Popen(billing_server_command(settings), cwd=PROJECT_ROOT, env=env)
    actions = subprocess.Popen(action_server_command(settings), cwd=PROJECT_ROOT, env=env)
    try:
        return subprocess.call(
            [str(BIN / "rasa"), "shell", "--model", str(model), "--endpoints", str(PROJECT_ROOT / "endpoints.yml")],
            cwd=PROJECT_ROOT,
            env=env,
        )
    finally:
        for process in (actions, billing):
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
