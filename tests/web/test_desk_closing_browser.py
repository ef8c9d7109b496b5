"""Issue 14 in headless Chromium, with the project's widget and console against the real stack:
the close's rating reaches the metrics page; the widget's unread badge and title; the agent's
typing indicator."""

from __future__ import annotations

import json
from typing import Any

from tests.web.browser import console_login, open_chat, say, wait_for_answer_containing


def conversation_of(page: Any) -> str:
    """The widget's conversation id (as the console shows it)."""
    signed = page.evaluate("Object.entries(localStorage).find(([k]) => k.startsWith('assistente:'))[1]")
    return json.loads(signed)["sessionId"].rpartition(".")[0]


def waiting_for_a_person(site: str, browser: Any) -> tuple[Any, str]:
    """A customer's widget page whose conversation waits for a person, and its id."""
    customer = browser.new_page()
    open_chat(customer, site + "/")
    say(customer, "vorrei parlare con una persona")
    wait_for_answer_containing(customer, "coda")
    return customer, conversation_of(customer)


def agent_api(site: str) -> Any:
    from tests.console.test_handoff import logged_in
    from tests.web.browser import AGENT_PASSWORD

    return logged_in(site, "giulia", AGENT_PASSWORD)


def test_a_closed_conversations_rating_reaches_the_metrics_page(site: str, browser: Any) -> None:
    customer, conversation = waiting_for_a_person(site, browser)

    agent = browser.new_page()
    console_login(agent, site)
    agent.goto(site + "/console/conversations/" + conversation)
    agent.get_by_role("button", name="Prendi in carico").click()
    agent.wait_for_selector("#summary:has-text('Assegnata a: giulia')")  # the console's CSP: no eval
    assert agent.get_by_role("button", name="Prendi in carico").is_disabled()  # taken: nothing to take
    assert not agent.get_by_label("Risposta al cliente").is_disabled()
    agent.get_by_label("Risposta al cliente").fill("Buonasera, sono Giulia: ho risolto.")
    agent.keyboard.press("Enter")
    customer.wait_for_selector(".aw-agent")
    agent.get_by_label("Chiudi con esito").select_option(label="Risolto")
    agent.get_by_role("button", name="Chiudi", exact=True).click()
    # the controls follow the closed ticket, with the reason said in the page
    agent.wait_for_selector("#text:disabled")
    assert "chiusa" in agent.locator("#action-status").inner_text()
    for name in ("Invia", "Restituisci all'assistente", "Prendi in carico", "Trasferisci"):
        assert agent.get_by_role("button", name=name, exact=True).is_disabled(), name

    wait_for_answer_containing(customer, "Come valuta l'assistenza")
    customer.get_by_role("button", name="4 - Buona").click()
    wait_for_answer_containing(customer, "Grazie per la Sua valutazione")

    agent.goto(site + "/console/metrics")
    agent.wait_for_selector("#csat:has-text('%')")
    assert "Soddisfazione dei clienti (CSAT)" in agent.locator("#csat").inner_text()
    legend = agent.locator("#reasons-legend").inner_text()
    assert "il cliente ha chiesto un operatore" in legend and "CSAT" in legend
    assert "mediana" in agent.locator("#numbers").inner_text()
    agent.close()
    customer.close()


def test_a_message_with_the_panel_closed_shows_the_badge_and_the_title(site: str, browser: Any) -> None:
    customer, conversation = waiting_for_a_person(site, browser)
    title = customer.title()
    customer.keyboard.press("Escape")  # the panel closes; the page stays
    badge = customer.locator(".aw-badge")
    assert badge.is_hidden()

    agent = agent_api(site)
    agent.post(
        site + f"/console/api/conversations/{conversation}/reply", json={"text": "Eccomi, sono Giulia."}, timeout=10
    ).raise_for_status()
    customer.wait_for_function("document.title.startsWith('(1) Nuovo messaggio')")
    assert badge.inner_text() == "1" and customer.title() == f"(1) Nuovo messaggio · {title}"
    assert "1 nuovo messaggio" in customer.get_by_role("button", name="Assistenza, 1 nuovo messaggio").get_attribute(
        "aria-label"
    )
    customer.get_by_role("button", name="Assistenza, 1 nuovo messaggio").click()  # read: badge and title go
    customer.wait_for_function(f"document.title === {title!r}")
    assert badge.is_hidden()
    customer.close()


def test_an_agent_typing_shows_l_operatore_sta_scrivendo(site: str, browser: Any) -> None:
    customer, conversation = waiting_for_a_person(site, browser)
    typing = customer.locator(".aw-typing")
    customer.wait_for_function("document.querySelector('.aw-typing').textContent === ''")

    agent = agent_api(site)
    ticket = next(
        t
        for t in agent.get(site + "/console/api/queue", timeout=10).json()["tickets"]
        if t["conversation_id"] == conversation
    )
    agent.post(site + f"/console/api/tickets/{ticket['id']}/take", timeout=10).raise_for_status()
    sent = agent.post(site + f"/console/api/conversations/{conversation}/typing", json={"typing": True}, timeout=10)
    assert sent.json() == {"status": "sent"}
    customer.wait_for_function("document.querySelector('.aw-typing').textContent.includes('operatore')")
    assert typing.inner_text() == "L'operatore sta scrivendo…"
    agent.post(site + f"/console/api/conversations/{conversation}/typing", json={"typing": False}, timeout=10)
    customer.wait_for_function("document.querySelector('.aw-typing').textContent === ''")
    customer.close()
