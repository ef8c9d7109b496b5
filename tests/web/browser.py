"""Helpers of the browser tests (Playwright on Debian's Chromium): finding the browser, the
demo page's chat, the console's login."""

from __future__ import annotations

import os
import shutil
from typing import Any

from tests.harness.services import service_missing

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
JWT_SECRET = "customer-area-secret-for-tests"  # noqa: S105 - a test key
AGENT_PASSWORD = "password-di-giulia"  # noqa: S105 - a test account
SUPERVISOR_PASSWORD = "password-di-marta"  # noqa: S105 - a test account


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        service_missing(
            "Chromium (Debian package 'chromium'; `make system-deps` installs it)", FileNotFoundError("chromium")
        )
    return str(path)


def bot_texts(page: Any) -> list[str]:
    return list(page.locator(".aw-bot .aw-text").all_inner_texts())


def open_chat(page: Any, url: str) -> None:
    """Open the demo page and the chat; wait for the greeting."""
    page.goto(url)
    page.get_by_role("button", name="Assistenza").click()
    page.wait_for_selector(".aw-bot .aw-text")


def say(page: Any, text: str) -> None:
    page.get_by_label("Scriva un messaggio").fill(text)
    page.keyboard.press("Enter")


def wait_for_answer_containing(page: Any, fragment: str) -> None:
    page.wait_for_function(
        f"[...document.querySelectorAll('.aw-bot .aw-text')].some(e => e.textContent.includes({fragment!r}))"
    )


def console_login(page: Any, site: str, username: str = "giulia", password: str = AGENT_PASSWORD) -> None:
    page.goto(site + "/console/login")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Entra").click()
    page.wait_for_url("**/console/")
