"""`make run`: train if needed, start every service, print the URLs; Ctrl-C stops them all.

Processes are supervised by honcho's manager: if one dies, the others are stopped too, so a
half-running system never pretends to work.
"""

from __future__ import annotations

import logging
import secrets
import shlex
import sys
import threading
import time
import urllib.request
from typing import Dict

from honcho.manager import Manager

from bot.billing.seed import seed
from bot.ops.services import (
    action_server_command,
    billing_server_command,
    rasa_server_command,
    service_environment,
    web_server_command,
)
from bot.ops.train import ensure_model
from bot.settings import PROJECT_ROOT, Settings, get_settings

READY_TIMEOUT_S = 300


def _wait_until_up(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return True
        except OSError:
            time.sleep(1)
    return False


def _announce_when_ready(settings: Settings, api_token: str, token_generated: bool, billing_token: str) -> None:
    """Print the URLs once the services answer (Rasa takes a while to load its model)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    host = "127.0.0.1" if settings.bind_host in ("0.0.0.0", "::") else settings.bind_host
    rasa_url = f"http://{host}:{settings.rasa_port}"
    checks: Dict[str, str] = {
        "billing backend": f"http://127.0.0.1:{settings.billing_port}/health",
        "web service": f"http://127.0.0.1:{settings.web_port}/health",
        "action server": f"http://127.0.0.1:{settings.action_port}/health",
        "Rasa server": f"{rasa_url}/",
    }
    for name, url in checks.items():
        if not _wait_until_up(url, deadline):
            print(f"!! {name} did not answer at {url} within {READY_TIMEOUT_S} s", flush=True)
            return
    token_note = " (generated for this run; set RASA_API_TOKEN to choose it)" if token_generated else ""
    curl = (
        f"curl -s {rasa_url}/webhooks/rest/webhook -H 'Content-Type: application/json' "
        "-d '{\"sender\": \"prova\", \"message\": \"Buongiorno\"}'"
    )
    print(
        "\n"
        "==================================================================\n"
        " The assistant is ready.\n"
        f"  website      : http://{host}:{settings.web_port}/  (chat widget; /?login=100001 as a logged-in customer)\n"
        f"  console      : http://{host}:{settings.web_port}/console/  (accounts: python -m bot.console.users add NAME --role supervisor)\n"
        f"  REST channel : {rasa_url}/webhooks/rest/webhook\n"
        f"  try it       : {curl}\n"
        f"  Rasa HTTP API: {rasa_url}  (token: {api_token}{token_note})\n"
        f"  action server: http://127.0.0.1:{settings.action_port}\n"
        f"  billing API  : http://{host}:{settings.billing_port}/docs  (token: {billing_token})\n"
        "  Ctrl-C stops everything.\n"
        "==================================================================\n",
        flush=True,
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = get_settings()
    model = ensure_model()

    api_token = settings.rasa_api_token or secrets.token_urlsafe(24)
    env = service_environment(settings)
    # Secrets shared by the backend and the action server for this run, unless configured.
    env.setdefault("BILLING_API_TOKEN", settings.billing_api_token or secrets.token_urlsafe(24))
    env.setdefault("BILLING_TOKEN_SECRET", settings.billing_token_secret or secrets.token_urlsafe(32))
    env["RASA_API_TOKEN"] = api_token  # the console talks to Rasa's HTTP API
    env.setdefault("CUSTOMER_AREA_JWT_SECRET", settings.customer_area_jwt_secret or secrets.token_urlsafe(32))
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    logging.info(seed())

    manager = Manager()
    manager.add_process("billing", shlex.join(billing_server_command(settings)), env=env, cwd=str(PROJECT_ROOT))
    manager.add_process("web", shlex.join(web_server_command(settings)), env=env, cwd=str(PROJECT_ROOT))
    manager.add_process("actions", shlex.join(action_server_command(settings)), env=env, cwd=str(PROJECT_ROOT))
    manager.add_process("rasa", shlex.join(rasa_server_command(settings, model, api_token)), env=env, cwd=str(PROJECT_ROOT))

    threading.Thread(
        target=_announce_when_ready,
        args=(settings, api_token, not settings.rasa_api_token, env["BILLING_API_TOKEN"]),
        daemon=True,
    ).start()
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
