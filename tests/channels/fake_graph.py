"""A fake WhatsApp Cloud API (Graph API) on loopback: it records what it receives, checks it
against the documented request format of POST /{phone-number-id}/messages, and refuses as Meta
does (HTTP status and `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`):
a bad token (401, code 190), throughput limits (400 with 130429, 131056, 80007), a free-form
message outside the 24-hour window (400, 131047). Media: POST /{phone-number-id}/media as
documented (multipart/form-data with messaging_product=whatsapp, type = the file's MIME type, and
the file), answered with the media id a document message must then name (issue 12)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

PHONE_NUMBER_ID = "109876543210"
SECOND_PHONE_NUMBER_ID = "109876543211"
ACCESS_TOKEN = "graph-access-token"  # noqa: S105 - a test value

# Meta's titles for the codes the fake answers with
META_MESSAGES = {
    190: "Error validating access token: Session has expired",
    130429: "(#130429) Rate limit hit",
    131056: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
    80007: "(#80007) Rate limit issues",
    131047: "(#131047) Re-engagement message",
    100: "(#100) Invalid parameter",
}
Failure = int | tuple[int, int] | tuple[int, int, int]  # status, or (status, code[, subcode])
# Document types the Cloud API accepts (its "Supported media types"): the ones a bot would send
DOCUMENT_TYPES = {"application/pdf": ".pdf", "text/plain": ".txt"}
DOCUMENT_MAX_BYTES = 100 * 1024 * 1024
DOCUMENT_KEYS = {"id", "link", "caption", "filename"}


def parse_upload(content_type: str, body: bytes) -> tuple[dict[str, str], dict | None, list[str]]:
    """The fields and the file of a multipart/form-data upload, and what is wrong with it."""
    if not content_type.startswith("multipart/form-data"):
        return {}, None, ["media upload must be multipart/form-data"]
    message = BytesParser(policy=policy.default).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    upload = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name == "file":
            upload = {
                "filename": part.get_filename(),
                "mime_type": part.get_content_type(),
                "content": part.get_payload(decode=True) or b"",
            }
        elif name:
            fields[str(name)] = str(part.get_content()).strip()
    problems = []
    if fields.get("messaging_product") != "whatsapp":
        problems.append("media upload: messaging_product must be 'whatsapp'")
    if upload is None or not upload["content"]:
        problems.append("media upload: the file is missing")
    elif fields.get("type") != upload["mime_type"] or upload["mime_type"] not in DOCUMENT_TYPES:
        problems.append(f"media upload: type {fields.get('type')!r} must be the file's supported MIME type")
    elif len(upload["content"]) > DOCUMENT_MAX_BYTES:
        problems.append("media upload: a document is at most 100 MB")
    return fields, upload, problems


def document_problems(document: dict, media: dict) -> list[str]:
    """A document message's `document` object as the Cloud API documents it."""
    problems = []
    if set(document) - DOCUMENT_KEYS:
        problems.append(f"document: unknown fields {sorted(set(document) - DOCUMENT_KEYS)}")
    if ("id" in document) == ("link" in document):
        problems.append("document: exactly one of id (uploaded media) and link")
    if "id" in document and document["id"] not in media:
        problems.append("document.id: not a media id this number uploaded")
    if "link" in document and not str(document["link"]).startswith("https://"):
        problems.append("document.link must be an https URL")
    if len(document.get("caption", "")) > 1024:
        problems.append("document.caption: at most 1024 characters")
    filename = document.get("filename")
    if filename is not None and (not isinstance(filename, str) or "." not in filename or "/" in filename):
        problems.append("document.filename: a file name with its extension")
    return problems


def meta_error(status: int, code: int, subcode: int | None = None) -> dict:
    """An error body as the Graph API sends it."""
    error: dict = {
        "message": META_MESSAGES.get(code, "simulated"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": "simulated by the fake"},
        "fbtrace_id": f"AbCdEf{code}",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def template_parameter_problems(template: dict) -> list[str]:
    problems = []
    for component in template.get("components") or []:
        for parameter in component.get("parameters") or []:
            text = parameter.get("text", "")
            if parameter.get("type") != "text" or not text:
                problems.append("template parameter must be non-empty text")
            elif re.search(r"[\n\t]| {5}", text) or len(text) > 1024:
                problems.append("template parameter: no new lines, tabs or more than 4 spaces, at most 1024")
    return problems


def format_problems(message: dict, media: dict | None = None) -> list[str]:
    """What in a message body the Cloud API would reject (the documented limits)."""
    problems = []
    if message.get("messaging_product") != "whatsapp":
        problems.append("messaging_product must be 'whatsapp'")
    if message.get("status") == "read":
        if not str(message.get("message_id", "")).startswith("wamid."):
            problems.append("read receipt needs the customer's message_id")
        typing = message.get("typing_indicator")
        if typing is not None and typing != {"type": "text"}:
            problems.append("typing_indicator must be {'type': 'text'}")
        return problems
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
                if (
                    button.get("type") != "reply"
                    or not 0 < len(button["reply"]["title"]) <= 20
                    or not 0 < len(button["reply"]["id"]) <= 256
                ):
                    problems.append(f"bad reply button {button}")
        elif interactive["type"] == "list":
            action = interactive["action"]
            rows = [row for section in action["sections"] for row in section["rows"]]
            if not 0 < len(action["button"]) <= 20 or not 1 <= len(rows) <= 10:
                problems.append("list: button 1-20 characters, 1-10 rows")
            for row in rows:
                if (
                    not 0 < len(row["title"]) <= 24
                    or not 0 < len(row["id"]) <= 200
                    or len(row.get("description", "")) > 72
                ):
                    problems.append(f"bad list row {row}")
        else:
            problems.append(f"unknown interactive type {interactive['type']}")
    elif kind == "document":
        problems.extend(document_problems(message.get("document") or {}, media or {}))
    elif kind == "template":
        template = message.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            problems.append("template needs name and language.code")
        problems.extend(template_parameter_problems(template))
    else:
        problems.append(f"unexpected type {kind}")
    return problems


class FakeGraph:
    def __init__(self) -> None:
        self.received: list[dict] = []  # messages accepted (not read receipts)
        self.reads: list[dict] = []  # read receipts accepted
        self.senders: list[tuple[str, str]] = []  # (phone number id, recipient) of each accepted message
        self.problems: list[str] = []
        self.failures_to_simulate: list[Failure] = []  # answered, in order, before succeeding
        self.closed_windows: set[str] = set()  # customers Meta refuses free-form messages to (131047)
        self.media: dict[str, dict] = {}  # media id -> the uploaded file (filename, mime_type, content)
        self.bad_token = False
        self.numbers = {PHONE_NUMBER_ID, SECOND_PHONE_NUMBER_ID}
        self.attempts = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                number = self.path.strip("/").split("/")[0]
                if self.path == f"/{number}/media":
                    self._upload(number, raw)
                    return
                body = json.loads(raw)
                with fake._lock:
                    fake.attempts += 1
                    if self.path != f"/{number}/messages" or number not in fake.numbers:
                        fake.problems.append(f"wrong path {self.path}")
                    if fake.bad_token or self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                        self._answer(401, meta_error(401, 190, 463))
                        return
                    if fake.failures_to_simulate:
                        failure = fake.failures_to_simulate.pop(0)
                        status, code, subcode = (
                            (failure, failure, None) if isinstance(failure, int) else ((*failure, None))[:3]
                        )
                        self._answer(status, meta_error(status, code, subcode))
                        return
                    if body.get("to") in fake.closed_windows and body.get("type") != "template":
                        self._answer(400, meta_error(400, 131047, 2494010))
                        return
                    fake.problems.extend(format_problems(body, fake.media))
                    if body.get("status") == "read":
                        fake.reads.append(body)
                        self._answer(200, {"success": True})
                        return
                    fake.received.append(body)
                    fake.senders.append((number, str(body.get("to"))))
                    count = len(fake.received)
                self._answer(
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": f"wamid.out{count}"}],
                    },
                )

            def _upload(self, number: str, raw: bytes) -> None:
                with fake._lock:
                    fake.attempts += 1
                    if number not in fake.numbers:
                        fake.problems.append(f"wrong path {self.path}")
                    if fake.bad_token or self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                        self._answer(401, meta_error(401, 190, 463))
                        return
                    _, upload, problems = parse_upload(self.headers.get("Content-Type", ""), raw)
                    if problems or upload is None:
                        fake.problems.extend(problems)
                        self._answer(400, meta_error(400, 100))  # Meta: (#100) Invalid parameter
                        return
                    media_id = str(1013859600285441 + len(fake.media))
                    fake.media[media_id] = upload
                self._answer(200, {"id": media_id})

            def _answer(self, status: int, payload: dict) -> None:
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

    def messages_to(self, wa_id: str) -> list[dict]:
        with self._lock:
            return [m for m in self.received if m.get("to") == wa_id]

    def reads_of(self, message_id: str) -> list[dict]:
        with self._lock:
            return [r for r in self.reads if r.get("message_id") == message_id]

    def wait_for(self, wa_id: str, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages_to(wa_id)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        return self.messages_to(wa_id)

    def close(self) -> None:
        self.server.shutdown()


# ---------------------------------------------------------------------- Meta's side of the channel
def channel_env(graph: FakeGraph, app_secret: str, verify_token: str = "verify", **extra: str) -> dict[str, str]:  # noqa: S107
    """The environment that points a stack's WhatsApp channel at this fake: the four credentials
    and the API URL; `extra` adds variables or replaces these."""
    return {
        "WHATSAPP_VERIFY_TOKEN": verify_token,
        "WHATSAPP_APP_SECRET": app_secret,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_API_URL": graph.url,
        **extra,
    }


def post_webhook(
    rasa_url: str, payload: Any, app_secret: str, signature: str | None = None, timeout: float = 10
) -> requests.Response:
    """POST a webhook notification to the Rasa server's WhatsApp channel as Meta does: the JSON
    body (or these bytes) signed in X-Hub-Signature-256 with the app secret. `signature` replaces
    the right one ("" sends none)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if signature is None:
        signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    return requests.post(f"{rasa_url}/webhooks/whatsapp/webhook", data=body, headers=headers, timeout=timeout)


def webhook_payload(
    *messages: dict,
    statuses: list[dict] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    errors: list[dict] | None = None,
) -> dict:
    """A Cloud API webhook notification with these messages (the documented envelope)."""
    value: dict = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390000000000", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Cliente"}, "wa_id": messages[0]["from"]}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    if errors:
        value["errors"] = errors
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA_ID", "changes": [{"value": value, "field": "messages"}]}],
    }


def text_message(wa_id: str, message_id: str, body: str, timestamp: float | None = None) -> dict:
    return {
        "from": wa_id,
        "id": message_id,
        "timestamp": str(int(time.time() if timestamp is None else timestamp)),
        "type": "text",
        "text": {"body": body},
    }


def failed_status(wamid: str, wa_id: str, code: int, title: str) -> dict:
    """A `statuses` entry for a message Meta could not deliver."""
    return {
        "id": wamid,
        "status": "failed",
        "timestamp": str(int(time.time())),
        "recipient_id": wa_id,
        "errors": [
            {"code": code, "title": title, "message": title, "error_data": {"details": "simulated by the fake"}}
        ],
    }
