"""Fixtures of the browser tests of the widget and the console: the real stack (billing backend,
action server, Rasa) with the web service in demo mode, and headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.console.auth import create_user
from bot.db import session_factory
from bot.ops.services import web_server_command
from bot.settings import Settings
from bot.support.db import make_engine
from tests.harness.processes import free_port, start_logged, stop, wait_for
from tests.harness.stack import running_stack
from tests.web.browser import AGENT_PASSWORD, CHROMIUM_FLAGS, JWT_SECRET, SUPERVISOR_PASSWORD, chromium_path


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The web service's base URL, with the whole assistant behind it (one per test session:
    the widget's and the accessibility tests share it)."""
    tmp = tmp_path_factory.mktemp("web")
    settings = Settings(_env_file=None, web_port=free_port())
    # WEB_PORT: the Rasa server lets the web service's origin connect to socket.io (CORS_ORIGINS' default)
    with running_stack(
        tmp,
        {
            "CUSTOMER_AREA_JWT_SECRET": JWT_SECRET,
            "SUPPORT_HOURS": "mon-sun 00:00-23:59",
            "WEB_PORT": str(settings.web_port),
        },
    ) as stack:
        # demo mode: /?login=NNNNNN stands for a customer-area login
        env = dict(
            stack.env,
            PUBLIC_RASA_URL=stack.rasa_url,
            CUSTOMER_AREA_JWT_SECRET=JWT_SECRET,
            RASA_URL=stack.rasa_url,
            DEMO_MODE="true",
        )
        web = start_logged(web_server_command(settings), env, tmp / "web.log")
        try:
            wait_for(f"http://127.0.0.1:{settings.web_port}/health", web, tmp / "web.log")
            sessions = session_factory(make_engine(env["SUPPORT_DATABASE_URL"]))
            create_user(sessions, "giulia", AGENT_PASSWORD, "agent")
            create_user(sessions, "marta", SUPERVISOR_PASSWORD, "supervisor")
            yield f"http://127.0.0.1:{settings.web_port}"
        finally:
            stop(web)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()
