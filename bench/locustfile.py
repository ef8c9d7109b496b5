"""Customers on the REST channel, for `make load` (run by bench/load.py, headless).

Each simulated customer runs one realistic multi-turn script and records what it sent, in order,
to LOAD_LOG (JSON lines), so the integrity check can compare with the tracker store. Turns follow
each other without a pause (a stress: real customers take seconds to type); conversations are
0.5-1.5 s apart.
Turn names in the statistics: "chat" (no backend call), "identify" and "bills" (backend calls).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid

from locust import HttpUser, between, task
from locust.exception import RescheduleTask

LOG = os.environ.get("LOAD_LOG", "load-sent.jsonl")
# The REST channel is server-to-server: every request carries its token (bench/load.py passes it).
HEADERS = {"Authorization": f"Bearer {os.environ['REST_CHANNEL_TOKEN']}"}
_lock = threading.Lock()

CUSTOMERS = [("100001", "RSSMRA80A01H501U"), ("100003", "VRDGPP70C15G702S"), ("100007", "RCCLCU82B10L219I")]


RESENDS = 5  # attempts per message; a resend carries the same message_id (bot/channels/rest.py)


class Customer(HttpUser):
    wait_time = between(0.5, 1.5)

    def _say(self, sender: str, text: str, name: str) -> None:
        """Send one message until it is answered, as a chat client does after losing a reply
        (a Rasa replica killed mid-turn gives 502); logged to LOAD_LOG for the integrity check."""
        body = {"sender": sender, "message": text, "message_id": uuid.uuid4().hex}
        answered = False
        attempts: list[str] = []  # per attempt: the status code, "+empty" when 200 had no message
        for _ in range(RESENDS):
            with self.client.post(
                "/webhooks/rest/webhook", json=body, headers=HEADERS, name=name, catch_response=True
            ) as response:
                answered = response.status_code == 200 and bool(response.json())
                attempts.append(f"{response.status_code}{'' if answered or response.status_code != 200 else '+empty'}")
                if not answered:
                    response.failure(f"no answer ({response.status_code}), sent again")
            if answered:
                break
            time.sleep(1)
        with _lock, open(LOG, "a") as log:
            log.write(
                json.dumps(
                    {
                        "sender": sender,
                        "text": text,
                        "message_id": body["message_id"],
                        "answered": answered,
                        "attempts": attempts,
                    }
                )
                + "\n"
            )
        if not answered:
            raise RescheduleTask()  # this customer gives up; the next task is a new conversation

    @task(3)
    def small_talk_and_stores(self) -> None:
        sender = f"load-{uuid.uuid4().hex[:12]}"
        self._say(sender, "Buongiorno", "chat")
        self._say(
            sender,
            random.choice(
                ["dov'è lo sportello di Prato?", "orari dello sportello di Siena", "c'è un ufficio ad Arezzo?"]
            ),
            "bills",
        )
        self._say(sender, "grazie mille", "chat")

    @task(2)
    def bills_after_identification(self) -> None:
        sender = f"load-{uuid.uuid4().hex[:12]}"
        code, fiscal = random.choice(CUSTOMERS)
        self._say(sender, "salve, vorrei sapere se ho bollette da pagare", "chat")
        self._say(sender, code, "chat")
        self._say(sender, fiscal, "identify")
        self._say(sender, "ok grazie", "chat")

    @task(1)
    def installments_then_cancel(self) -> None:
        sender = f"load-{uuid.uuid4().hex[:12]}"
        self._say(sender, "vorrei pagare a rate", "chat")
        self._say(sender, "100001", "chat")
        self._say(sender, "RSSMRA80A01H501U", "identify")
        self._say(sender, "no, lascia stare", "chat")
