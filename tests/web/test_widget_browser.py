"""The website widget in headless Chromium (Debian's package) against the real assistant."""

from __future__ import annotations

import os
import shutil

import pytest

from bot.ops.services import web_server_command
from bot.settings import Settings
from tests.conftest import free_port, start_logged, stop, wait_for
from tests.services import service_missing
from tests.stack import running_stack

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
JWT_SECRET = "customer-area-secret-for-tests"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        service_missing("Chromium (Debian package 'chromium'; `make browser` installs it)", FileNotFoundError("chromium"))
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    with running_stack(tmp, {"CUSTOMER_AREA_JWT_SECRET": JWT_SECRET}) as stack:
        settings = Settings(_env_file=None, web_port=free_port())
        env = dict(stack.env, PUBLIC_RASA_URL=stack.rasa_url, CUSTOMER_AREA_JWT_SECRET=JWT_SECRET)
        web = start_logged(web_server_command(settings), env, tmp / "web.log")
        try:
            wait_for(f"http://127.0.0.1:{settings.web_port}/health", web, tmp / "web.log")
            yield f"http://127.0.0.1:{settings.web_port}"
        finally:
            stop(web)


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


def bot_texts(page):
    return page.locator(".aw-bot .aw-text").all_inner_texts()


def test_chat_send_quick_reply_and_history_after_reload(site, browser):
    page = browser.new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Assistenza").click()
    page.wait_for_selector(".aw-bot .aw-text")
    assert "assistente virtuale" in bot_texts(page)[0]
    assert page.get_by_role("dialog").is_visible()

    page.get_by_label("Scriva un messaggio").fill("come funziona il bonus sociale?")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('.aw-bot').length >= 2")
    assert "ISEE" in bot_texts(page)[-1]

    page.get_by_role("button", name="Trovare uno sportello").click()
    page.wait_for_function("document.querySelectorAll('.aw-bot').length >= 3")
    assert "comune" in bot_texts(page)[-1]
    shown = page.locator(".aw-msg").count()

    page.reload()
    page.wait_for_selector(".aw-msg")
    assert page.locator(".aw-msg").count() == shown  # the conversation survived the reload
    assert page.locator(".aw-user .aw-text").all_inner_texts()[-1] == "Trovare uno sportello"
    page.close()


def test_keyboard_only_and_phone_width(site, browser):
    page = browser.new_page(viewport={"width": 375, "height": 700})
    page.goto(site + "/")
    page.get_by_role("button", name="Assistenza").focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog")
    panel.wait_for()
    box = panel.bounding_box()
    assert box["width"] == 375  # full screen on a phone
    page.wait_for_selector(".aw-bot .aw-text")
    page.keyboard.type("grazie")  # the input has the focus after opening
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('.aw-bot').length >= 2")
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    page.close()


def test_a_logged_in_customer_is_not_asked_for_codes(site, browser):
    page = browser.new_page()
    page.goto(site + "/?login=100001")
    page.get_by_role("button", name="Assistenza").click()
    page.wait_for_selector(".aw-bot .aw-text")
    page.get_by_label("Scriva un messaggio").fill("quali bollette devo ancora pagare?")
    page.keyboard.press("Enter")
    page.wait_for_function("[...document.querySelectorAll('.aw-bot .aw-text')].some(e => e.textContent.includes('182,40'))")
    answers = " ".join(bot_texts(page))
    assert "Area Clienti" in answers and "codice fiscale" not in answers
    page.close()


def test_a_network_drop_loses_and_duplicates_nothing(site, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Assistenza").click()
    page.wait_for_selector(".aw-bot .aw-text")
    context.set_offline(True)
    page.wait_for_function("document.querySelector('.aw-status').textContent.length > 0")  # it noticed
    page.get_by_label("Scriva un messaggio").fill("come funziona il bonus sociale?")
    page.keyboard.press("Enter")
    context.set_offline(False)
    page.wait_for_function("document.querySelectorAll('.aw-bot').length >= 2", timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.locator(".aw-user").count() == 1  # sent once
    assert page.locator(".aw-bot").count() == 2  # answered once
    assert "ISEE" in bot_texts(page)[-1]
    context.close()
