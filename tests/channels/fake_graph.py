"""A fake WhatsApp Cloud API (Graph API) on loopback: it records what it receives and checks
it against the documented request format of POST /{phone-number-id}/messages."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional

PHONE_NUMBER_ID = "109876543210"
ACCESS_TOKEN = "graph-access-token"


def format_problems(message: Dict) -> List[str]:
    """What in a message body the Cloud API would reject (the documented limits)."""
    problems = []
    if message.get("messaging_product") != "whatsapp":
        problems.append("messaging_product must be 'whatsapp'")
    if not str(message.get("to", "")).isdigit():
        problems.append("'to' must be the user's number (digits)")
    kind = message.get("type")
    if kind == "text":
        body = (message.get("text") or {}).get("body", "")
        if not body or len(body) > 4096:
            problems.append("text.body must be 1-4096 characters")
    elif kind == "interactive":
        interactive = message["interactive"]
        if not 0 < len(interactive.get("body", {}).get("text", "")) <= 1024:
            problems.append("interactive.body.text must be 1-1024 characters")
        if interactive["type"] == "button":
            buttons = interactive["action"]["buttons"]
            if not 1 <= len(buttons) <= 3:
                problems.append("1 to 3 reply buttons")
            for button in buttons:
                if button.get("type") != "reply" or not 0 < len(button["reply"]["title"]) <= 20 \
                        or not 0 < len(button["reply"]["id"]) <= 256:
                    problems.append(f"bad reply button {button}")
        elif interactive["type"] == "list":
            action = interactive["action"]
            rows = [row for section in action["sections"] for row in section["rows"]]
            if not 0 < len(action["button"]) <= 20 or not 1 <= len(rows) <= 10:
                problems.append("list: button 1-20 characters, 1-10 rows")
            for row in rows:
                if not 0 < len(row["title"]) <= 24 or not 0 < len(row["id"]) <= 200:
                    problems.append(f"bad list row {row}")
        else:
            problems.append(f"unknown interactive type {interactive['type']}")
    elif kind == "template":
        template = message.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            problems.append("template needs name and language.code")
    else:
        problems.append(f"unexpected type {kind}")
    return problems


class FakeGraph:
    def __init__(self) -> None:
        self.received: List[Dict] = []
        self.problems: List[str] = []
        self.failures_to_simulate: List[int] = []  # status codes answered before succeeding
        self.attempts = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with fake._lock:
                    fake.attempts += 1
                    if self.path != f"/{PHONE_NUMBER_ID}/messages":
                        fake.problems.append(f"wrong path {self.path}")
                    if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                        fake.problems.append("missing or wrong bearer token")
                    if fake.failures_to_simulate:
                        status = fake.failures_to_simulate.pop(0)
                        self._answer(status, {"error": {"message": "simulated", "code": status}})
                        return
                    fake.problems.extend(format_problems(body))
                    fake.received.append(body)
                    count = len(fake.received)
                self._answer(200, {"messaging_product": "whatsapp", "contacts": [{"wa_id": body.get("to")}],
                                   "messages": [{"id": f"wamid.out{count}"}]})

            def _answer(self, status: int, payload: Dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages_to(self, wa_id: str) -> List[Dict]:
        with self._lock:
            return [m for m in self.received if m.get("to") == wa_id]

    def wait_for(self, wa_id: str, count: int, timeout: float = 30) -> List[Dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages_to(wa_id)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        return self.messages_to(wa_id)

    def close(self) -> None:
        self.server.shutdown()


def webhook_payload(*messages: Dict, statuses: Optional[List[Dict]] = None) -> Dict:
    """A Cloud API webhook notification with these messages (the documented envelope)."""
    value: Dict = {"messaging_product": "whatsapp",
                   "metadata": {"display_phone_number": "390000000000", "phone_number_id": PHONE_NUMBER_ID}}
    if messages:
        value["contacts"] = [{"profile": {"name": "Cliente"}, "wa_id": messages[0]["from"]}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "WABA_ID", "changes": [{"value": value, "field": "messages"}]}]}


def text_message(wa_id: str, message_id: str, body: str) -> Dict:
    return {"from": wa_id, "id": message_id, "timestamp": str(int(time.time())), "type": "text", "text": {"body": body}}
