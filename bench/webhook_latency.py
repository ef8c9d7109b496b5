"""Benchmark: how fast the WhatsApp webhook answers Meta (target: median well under 250 ms).

Starts the real stack (backend, actions, Rasa with the WhatsApp channel) and a fake Graph API,
posts signed messages one after the other and then in bursts, and reports the time to the
HTTP answer (processing continues in the background) and whether every message got its reply.
The sequential messages start the customer form, whose processing calls the billing backend
(the WhatsApp number lookup): the answer to Meta never waits for that.

    python -m bench.webhook_latency [messages]
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from tests.channels.fake_graph import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeGraph, text_message, webhook_payload
from tests.harness.stack import running_stack

SECRET = "bench-secret"


def post(url: str, payload: dict) -> float:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    started = time.perf_counter()
    answer = requests.post(url, data=body, headers={"X-Hub-Signature-256": signature,
                                                    "Content-Type": "application/json"}, timeout=10)
    elapsed = (time.perf_counter() - started) * 1000
    assert answer.status_code == 200, answer.text
    return elapsed


def report(name: str, values) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"{name}: n={len(values)} p50={statistics.median(values):.1f} ms p95={p95:.1f} ms max={max(values):.1f} ms"


def main(count: int) -> None:
    graph = FakeGraph()
    env = {"WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
           "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_API_URL": graph.url}
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp), env) as stack:
        url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
        users = []
        sequential = []
        for _ in range(count):
            user = "39" + str(uuid.uuid4().int)[:10]
            users.append(user)
            # "vorrei pagare a rate" starts the customer form: the reply needs the action server
            sequential.append(post(url, webhook_payload(text_message(user, f"wamid.{uuid.uuid4().hex}",
                                                                      "vorrei pagare a rate"))))
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            burst_users = ["39" + str(uuid.uuid4().int)[:10] for _ in range(count)]
            users += burst_users
            burst = list(pool.map(lambda u: post(url, webhook_payload(text_message(u, f"wamid.{uuid.uuid4().hex}",
                                                                                   "Buongiorno"))), burst_users))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(not graph.messages_to(u) for u in users):
            time.sleep(0.5)
        answered = sum(1 for u in users if graph.messages_to(u))
        print(report("sequential, time to HTTP 200", sequential))
        print(report("16 concurrent senders, time to HTTP 200", burst))
        print(f"replies delivered: {answered}/{len(users)}; format problems: {len(graph.problems)}")
    graph.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
