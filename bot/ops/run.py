"""`make run`: train if needed, start every service, print the URLs; Ctrl-C stops them all.

Processes are supervised by honcho's manager: if one dies, the others are stopped too, so a
half-running system never pretends to work.
"""

from __future__ import annotations

import logging
import shlex
import sys
import threading
import time
import urllib.request
from pathlib import Path

from honcho.manager import Manager

from bot.billing.seed import seed
from bot.ops.secrets import embedded_secrets, secrets_path
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


def launcher_logging() -> None:
    """The launcher's own lines, plainly. Alembic's are not among them: at INFO it names every
    plugin it loads and its dialect ("Context impl SQLiteImpl.") on each start; it still reports
    anything at WARNING and above."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic.runtime").setLevel(logging.WARNING)


def _wait_until_up(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http:// URLs
                if response.status < 500:
                    return True
        except OSError:
            time.sleep(1)
    return False


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _announce_when_ready(settings: Settings, secrets_file: Path) -> None:
    """Print each service's state and the URLs once they answer (Rasa takes a while to load its
    model). Never a token: the terminal's scrollback and CI logs are not secret stores."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    host = "127.0.0.1" if settings.bind_host in ("0.0.0.0", "::") else settings.bind_host  # noqa: S104 - a comparison
    rasa_url = f"http://{host}:{settings.rasa_port}"
    checks: dict[str, str] = {
        "billing backend": f"http://127.0.0.1:{settings.billing_port}/health",
        "web service": f"http://127.0.0.1:{settings.web_port}/health",
        "action server": f"http://127.0.0.1:{settings.action_port}/health",
        "Rasa server": f"http://127.0.0.1:{settings.rasa_port}/",
    }
    states = []
    for name, url in checks.items():
        if not _wait_until_up(url, deadline):
            print(f"!! {name} did not answer at {url} within {READY_TIMEOUT_S} s", flush=True)
            return
        states.append(f"{name} up")
    shown = _shown(secrets_file)
    if settings.rest_channel_token:  # the caller's own, from the environment or .env
        token = "$REST_CHANNEL_TOKEN"  # noqa: S105 - the variable's name, shown in the curl example
        where = "the tokens you set (environment or .env); the others are generated in " + shown
    else:
        token = f"$(sed -n 's/^REST_CHANNEL_TOKEN=//p' {shown})"
        where = f"{shown} (generated once, mode 0600; a variable you set wins)"
    curl = (
        f'curl -s {rasa_url}/webhooks/rest/webhook -H "Authorization: Bearer {token}" '
        '-H \'Content-Type: application/json\' -d \'{"sender": "prova", "message": "Buongiorno"}\''
    )
    demo = (
        "/?login=100001 as a logged-in customer (DEMO_MODE)"
        if settings.demo_mode
        else "DEMO_MODE=true make run adds the demo login /?login=100001"
    )
    print(
        "\n"
        "==================================================================\n"
        " The assistant is ready.\n"
        f"  services     : {', '.join(states)}\n"
        f"  website      : http://{host}:{settings.web_port}/  (chat widget; {demo})\n"
        f"  console      : http://{host}:{settings.web_port}/console/"
        "  (accounts: python -m bot.console.users add NAME --role supervisor)\n"
        f"  REST channel : {rasa_url}/webhooks/rest/webhook"
        "  (server-to-server: Authorization: Bearer REST_CHANNEL_TOKEN)\n"
        f"  try it       : {curl}\n"
        f"  Rasa HTTP API: {rasa_url}  (RASA_API_TOKEN)\n"
        f"  action server: http://127.0.0.1:{settings.action_port}  (Rasa only: ACTION_SERVER_TOKEN)\n"
        f"  billing API  : http://{host}:{settings.billing_port}/docs  (BILLING_API_TOKEN)\n"
        f"  tokens       : {where}\n"
        "  Ctrl-C stops everything.\n"
        "==================================================================\n",
        flush=True,
    )


def main() -> int:
    launcher_logging()
    settings = get_settings()
    model = ensure_model()

    env = service_environment(settings)
    # Every process of the run shares these (the caller's, else var/secrets.env's); they travel
    # in the environment, never on a command line (`ps` shows those to every local user).
    env.update(embedded_secrets(settings))
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    logging.info(seed())  # the demo customers: only this embedded profile seeds

    manager = Manager()
    manager.add_process("billing", shlex.join(billing_server_command(settings)), env=env, cwd=str(PROJECT_ROOT))
    manager.add_process("web", shlex.join(web_server_command(settings)), env=env, cwd=str(PROJECT_ROOT))
    manager.add_process("actions", shlex.join(action_server_command(settings)), env=env, cwd=str(PROJECT_ROOT))
    manager.add_process(
        "rasa",
        shlex.join(rasa_server_command(settings, model, stock_api_token=env["RASA_API_TOKEN"])),
        env=env,
        cwd=str(PROJECT_ROOT),
    )

    threading.Thread(target=_announce_when_ready, args=(settings, secrets_path(settings)), daemon=True).start()
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
