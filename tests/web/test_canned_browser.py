"""Canned replies and the customer panel in headless Chromium (issue 14): a supervisor writes a
canned reply on "Risposte pronte"; an agent, on a verified customer's conversation, sees the
customer panel, inserts the seeded "Bolletta aperta" filled with the customer's bill, sends it
with Enter, and the customer reads it in the widget."""

from __future__ import annotations

import re

from tests.web.browser import SUPERVISOR_PASSWORD, console_login, open_chat, say, wait_for_answer_containing
from tests.web.test_accessibility import axe_violations


def test_a_supervisor_writes_a_canned_reply_and_an_agent_inserts_one_filled_and_sends_it(site, browser):
    from playwright.sync_api import expect  # as tests/web/conftest.py: only where a browser runs

    supervisor = browser.new_page()
    console_login(supervisor, site, "marta", SUPERVISOR_PASSWORD)
    supervisor.get_by_role("link", name="Risposte pronte").click()
    supervisor.wait_for_selector("#replies tr")
    supervisor.get_by_label("Titolo").fill("Firma")
    supervisor.get_by_label("Testo").fill("Resto a disposizione. {operatore}, servizio clienti")
    supervisor.get_by_role("button", name="Salva").click()
    supervisor.get_by_role("cell", name="Firma", exact=True).wait_for()
    supervisor.close()

    customer = browser.new_page()
    open_chat(customer, site + "/?login=100001")  # Mario, logged in to the customer area: verified
    say(customer, "quali bollette devo ancora pagare?")
    wait_for_answer_containing(customer, "182,40")
    say(customer, "vorrei parlare con una persona")
    wait_for_answer_containing(customer, "coda")

    agent = browser.new_page()
    console_login(agent, site)
    agent.get_by_role("button", name="Prendi").last.click()  # the newest: this test's customer
    agent.wait_for_url("**/console/conversations/**")
    panel = agent.locator("#customer")
    panel.get_by_text("182,40", exact=False).first.wait_for()
    assert "M*** R*** · codice ****01 · verificato" in panel.inner_text()
    assert "Sito web" in panel.get_by_role("link").first.inner_text()  # this conversation, in the timeline
    assert "Mario" not in panel.inner_text()
    assert axe_violations(agent) == []  # the page with the panel filled (WCAG 2.1 AA, as the others)

    picker = agent.get_by_label("Risposta pronta")
    assert "Firma" in picker.inner_text()  # the supervisor's new reply is offered
    picker.select_option(label="Bolletta aperta")
    agent.get_by_role("button", name="Inserisci").click()
    box = agent.get_by_label("Risposta al cliente")
    expect(box).to_have_value(re.compile("182,40"))  # (the console's CSP forbids wait_for_function's eval)
    written = box.input_value()
    assert written.startswith("Risulta aperta la bolletta luce di 182,40") and "{" not in written
    assert agent.locator("#canned-note").inner_text() == ""
    box.press("Enter")  # Enter sends

    customer.wait_for_selector(".aw-agent")
    shown = customer.locator(".aw-agent .aw-text").inner_text()
    assert shown.startswith("Risulta aperta la bolletta luce di 182,40")
    expect(box).to_have_value("")  # sent: the box is emptied
    agent.close()
    customer.close()
