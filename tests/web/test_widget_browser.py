"""The website widget in headless Chromium (Debian's package) against the real assistant."""

from __future__ import annotations

import json

from bot.web.app import STATIC
from tests.web.browser import AGENT_PASSWORD, bot_texts, open_chat, say, wait_for_answer_containing


def test_chat_send_quick_reply_and_history_after_reload(site, browser):
    page = browser.new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Assistenza").click()
    page.wait_for_selector(".aw-bot .aw-text")
    assert "assistente virtuale" in bot_texts(page)[0]
    assert page.get_by_role("dialog").is_visible()

    page.get_by_role("button", name="Trovare uno sportello").click()  # a quick reply of the greeting
    page.wait_for_function("document.querySelectorAll('.aw-bot').length >= 2")
    assert "comune" in bot_texts(page)[-1]

    page.get_by_label("Scriva un messaggio").fill("come funziona il bonus sociale?")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('.aw-bot').length >= 3")
    assert "ISEE" in bot_texts(page)[-1]
    shown = page.locator(".aw-msg").count()

    page.reload()
    page.wait_for_selector(".aw-msg")
    assert page.locator(".aw-msg").count() == shown  # the conversation survived the reload
    assert page.locator(".aw-user .aw-text").all_inner_texts()[-2:] == [
        "Trovare uno sportello",
        "come funziona il bonus sociale?",
    ]
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
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    open_chat(page, site + "/?login=100001")
    say(page, "quali bollette devo ancora pagare?")
    wait_for_answer_containing(page, "182,40")
    answers = " ".join(bot_texts(page))
    assert "Area Clienti" in answers and "codice fiscale" not in answers
    token = page.evaluate("window.AssistenteConfig.token")
    # the token travels once, in the socket.io CONNECT packet's auth, never with a message
    assert [frame[:2] for frame in sent if token in frame] == ["40"]
    page.close()


def test_the_widget_never_makes_up_session_ids():
    assert "Math.random" not in (STATIC / "widget.js").read_text()


def stored_conversation(page):
    return page.evaluate(
        "JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('assistente:'))) || 'null')"
    )


def test_a_stored_conversation_is_discarded_after_a_day(site, browser):
    page = browser.new_page()
    open_chat(page, site + "/")
    say(page, "grazie")
    page.wait_for_function("document.querySelectorAll('.aw-bot').length >= 2")
    stored = stored_conversation(page)
    assert stored["sessionId"].startswith("web:") and stored["history"]
    page.evaluate("""() => {
        const key = Object.keys(localStorage).find(k => k.startsWith('assistente:'));
        const state = JSON.parse(localStorage.getItem(key));
        state.savedAt = Date.now() - 25 * 3600 * 1000;
        localStorage.setItem(key, JSON.stringify(state));
    }""")
    page.reload()
    assert page.locator(".aw-msg").count() == 0  # nothing of the old conversation
    page.get_by_role("button", name="Assistenza").click()
    page.wait_for_selector(".aw-bot .aw-text")  # a new conversation greets again
    assert page.locator(".aw-user").count() == 0
    assert stored_conversation(page)["sessionId"] != stored["sessionId"]
    page.close()


def test_another_login_or_a_logout_never_shows_the_previous_customers_conversation(site, browser):
    page = browser.new_page()
    open_chat(page, site + "/?login=100001")
    say(page, "quali bollette devo ancora pagare?")
    wait_for_answer_containing(page, "182,40")
    mario = stored_conversation(page)["sessionId"]

    open_chat(page, site + "/?login=100002")  # another customer logs in on the same browser
    assert "182,40" not in page.locator(".aw-log").inner_text()
    assert stored_conversation(page)["sessionId"] != mario

    page.evaluate("window.Assistente.logout()")  # what the customer area calls at logout
    assert stored_conversation(page) is None
    assert page.locator(".aw-msg").count() == 0 and not page.get_by_role("dialog").is_visible()
    open_chat(page, site + "/")
    assert page.locator(".aw-user").count() == 0
    page.close()


def test_a_network_drop_loses_and_duplicates_nothing(site, browser):
    context = browser.new_context()
    page = context.new_page()
    open_chat(page, site + "/")
    context.set_offline(True)
    page.wait_for_function("document.querySelector('.aw-status').textContent.length > 0")  # it noticed
    say(page, "come funziona il bonus sociale?")
    context.set_offline(False)
    page.wait_for_function("document.querySelectorAll('.aw-bot').length >= 2", timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.locator(".aw-user").count() == 1  # sent once
    assert page.locator(".aw-bot").count() == 2  # answered once
    assert "ISEE" in bot_texts(page)[-1]
    context.close()


def test_an_agent_answers_from_the_console_and_the_customer_sees_it(site, browser):
    customer = browser.new_page()
    open_chat(customer, site + "/")
    say(customer, "vorrei parlare con una persona")
    wait_for_answer_containing(customer, "coda")

    agent = browser.new_page()
    agent.goto(site + "/console/")
    assert agent.url.endswith("/console/login")  # not logged in yet
    agent.get_by_label("Nome utente").fill("giulia")
    agent.get_by_label("Password").fill(AGENT_PASSWORD)
    agent.get_by_role("button", name="Entra").click()
    agent.get_by_role("button", name="Prendi").last.click()  # the newest: this test's customer
    agent.wait_for_url("**/console/conversations/**")
    agent.wait_for_selector(".turn.cliente")
    assert "vorrei parlare con una persona" in agent.locator("#turns").inner_text()
    agent.get_by_label("Risposta al cliente").fill("Buongiorno, sono Giulia. Come posso aiutarLa?")
    agent.get_by_role("button", name="Invia").click()

    customer.wait_for_selector(".aw-agent")
    assert "Giulia" in customer.locator(".aw-agent").inner_text()
    assert "Operatore" in customer.locator(".aw-agent .aw-who").inner_text()

    agent.get_by_role("button", name="Restituisci all'assistente").click()
    wait_for_answer_containing(customer, "di nuovo")
    agent.close()
    customer.close()


XSS = '<img src=x onerror="document.title=\'XSS\'"><script>document.title="XSS"</script>'


def test_markup_typed_by_a_customer_or_an_agent_is_shown_as_text_everywhere(site, browser):
    """Stored XSS: a customer's and an agent's markup reaches the widget and the console as text."""
    customer = browser.new_page()
    open_chat(customer, site + "/")
    say(customer, "vorrei parlare con una persona " + XSS)
    wait_for_answer_containing(customer, "coda")

    agent = browser.new_page()
    agent.goto(site + "/console/login")
    agent.get_by_label("Nome utente").fill("giulia")
    agent.get_by_label("Password").fill(AGENT_PASSWORD)
    agent.get_by_role("button", name="Entra").click()
    agent.wait_for_url("**/console/**")
    agent.get_by_role("button", name="Prendi").last.click()  # the newest: this test's customer
    agent.wait_for_url("**/console/conversations/**")
    agent.wait_for_selector(".turn.cliente")
    assert "<script>" in agent.locator("#turns").inner_text()  # shown literally, not parsed
    agent.get_by_label("Risposta al cliente").fill("Risposta " + XSS)
    agent.get_by_role("button", name="Invia").click()

    customer.wait_for_selector(".aw-agent")
    assert "<img src=x" in customer.locator(".aw-agent").inner_text()
    for page in (customer, agent):
        page.wait_for_timeout(500)  # give a parsed onerror the time to run
        assert page.title() != "XSS"
        assert page.locator("img[src='x']").count() == 0
    agent.goto(site + "/console/review")
    agent.wait_for_load_state("networkidle")
    assert agent.title() != "XSS" and agent.locator("img[src='x']").count() == 0
    agent.close()
    customer.close()


def test_a_reply_written_while_the_customer_is_away_is_shown_when_they_return(site, browser):
    """Issue 14: the page is closed when the agent answers; the same browser comes back and sees it."""
    from tests.console.test_handoff import logged_in

    context = browser.new_context()
    page = context.new_page()
    open_chat(page, site + "/")
    say(page, "vorrei parlare con una persona")
    wait_for_answer_containing(page, "coda")
    signed = page.evaluate("Object.entries(localStorage).find(([k]) => k.startsWith('assistente:'))[1]")
    conversation = json.loads(signed)["sessionId"].rpartition(".")[0]
    page.close()  # the customer goes away

    agent = logged_in(site, "giulia", AGENT_PASSWORD)
    tickets = agent.get(site + "/console/api/queue", timeout=10).json()["tickets"]
    ticket = next(t for t in tickets if t["conversation_id"] == conversation)
    agent.post(site + f"/console/api/tickets/{ticket['id']}/take", timeout=10).raise_for_status()
    reply = "Buonasera, sono Giulia: ho controllato, la bolletta risulta pagata."
    agent.post(site + f"/console/api/conversations/{conversation}/reply", json={"text": reply},
               timeout=10).raise_for_status()

    back = context.new_page()
    back.goto(site + "/")  # the panel was left open: it opens and reconnects by itself
    back.wait_for_selector(".aw-agent")
    assert reply in back.locator(".aw-agent .aw-text").inner_text()
    back.wait_for_timeout(1000)
    assert back.locator(".aw-agent").count() == 1  # once
    context.close()
