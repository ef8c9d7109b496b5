"""The whole assistant for conversation tests: billing backend (seeded, business day fixed),
action server and Rasa server, each a real process on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.ops.services import action_server_command, rasa_server_command, service_environment
from bot.ops.train import ensure_model
from bot.settings import Settings
from tests.billing.conftest import Backend, start_backend
from tests.harness.processes import free_port, start_logged, stop, wait_for
from tests.harness.rest import TEST_SECRETS, say


@dataclass
class Stack:
    backend: Backend
    rasa_url: str
    env: dict[str, str]
    tmp: Path

    def say(self, sender: str, message: str, **options: Any) -> list[dict[str, Any]]:
        """tests.harness.rest.say with this stack's URL and REST token."""
        return say(self.rasa_url, sender, message, token=self.env["REST_CHANNEL_TOKEN"], **options)

    def conversation(self, sender: str, *messages: str) -> list[list[dict[str, Any]]]:
        return [self.say(sender, m) for m in messages]

    def rasa_log(self) -> str:
        return (self.tmp / "rasa.log").read_text(errors="replace")


@contextmanager
def running_stack(tmp: Path, extra_env: Mapping[str, str] | None = None) -> Iterator[Stack]:
    extra = dict(extra_env or {})
    backend = start_backend(tmp, **extra)
    settings = Settings(_env_file=None, rasa_port=free_port(), action_port=free_port())  # type: ignore[call-arg]
    env: dict[str, str] = service_environment(settings, backend.env)
    env.update(
        BILLING_URL=backend.url,
        ACTION_SERVER_URL=settings.action_server_url,
        TRACKER_STORE_URL=f"sqlite:///{tmp / 'tracker.db'}",
        SUPPORT_DATABASE_URL=f"sqlite:///{tmp / 'support.db'}",
        **TEST_SECRETS,
    )
    env.update(extra)
    # Rasa sends it, the action server requires it
    env.setdefault("ACTION_SERVER_TOKEN", "action-server-token-for-tests")
    actions = start_logged(action_server_command(settings), env, tmp / "actions.log")
    # bot.rasa_main reads the API token from the environment (never from the command line)
    env["RASA_API_TOKEN"] = extra.get("RASA_API_TOKEN", "token")
    rasa = start_logged(rasa_server_command(settings, ensure_model()), env, tmp / "rasa.log")
    try:
        wait_for(f"http://127.0.0.1:{settings.action_port}/health", actions, tmp / "actions.log")
        wait_for(f"http://127.0.0.1:{settings.rasa_port}/", rasa, tmp / "rasa.log")
        yield Stack(backend=backend, rasa_url=f"http://127.0.0.1:{settings.rasa_port}", env=env, tmp=tmp)
    finally:
        for process in (rasa, actions):
            stop(process)
        backend.stop()
