"""Issue 14 on WhatsApp: the rating question after a close goes as an interactive list (five
options: more than WhatsApp's three reply buttons) whose rows carry the rating payloads, and the
customer's choice comes back as that payload (Rasa's intent syntax: the NLU never reads it)."""

from __future__ import annotations

import asyncio

from bot.channels.whatsapp import DeliveryStore, GraphClient, WhatsAppOutput
from bot.channels.whatsapp.inbound import _content
from bot.csat import payload
from tests.channels.test_whatsapp_delivery import _old_contact, config_for
from tests.console.test_closing import csat_question


def test_the_rating_question_is_a_list_and_the_choice_is_its_payload(tmp_path, graph):
    store = DeliveryStore(f"sqlite:///{tmp_path / 'support.db'}")
    output = WhatsAppOutput(config_for(graph), GraphClient(config_for(graph), backoff=0.01), store)
    user, conversation = _old_contact(store, 1)  # within the 24-hour window
    question = csat_question()
    asyncio.run(output.send_text_with_buttons(conversation, question["text"], question["buttons"]))
    interactive = graph.messages_to(user)[-1]["interactive"]
    assert interactive["type"] == "list" and "Come valuta l'assistenza" in interactive["body"]["text"]
    rows = interactive["action"]["sections"][0]["rows"]
    assert [(r["title"], r["id"]) for r in rows] == [
        (b["title"], payload(n)) for b, n in zip(question["buttons"], (5, 4, 3, 2, 1), strict=True)
    ]
    chosen = {
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": rows[1]["id"], "title": rows[1]["title"]}},
    }
    assert _content(chosen)["text"] == '/rate_service{"csat_rating":"4"}'
