"""The contact-mix evaluation (issue 13), part of `make eval`.

Each message of tests/contact_mix.yml is sent as the first message of a new conversation to the
running assistant (billing backend, action server and Rasa server started on loopback as the
tests start them: tests/harness/stack.py), on the REST channel. The first answer is on topic when
the server understood the message as expected: the expected intent, or for an information
question the `faq` intent with the expected answer (faq/<topic>) picked by the response selector,
read from the conversation's tracker; and the assistant answered. The share on topic is reported
overall and by contact reason. An expected intent the domain does not have yet (issue 12's flows
while they are being built) counts as "not yet available", outside the shares.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from bot.domain import domain_intents
from bot.settings import PROJECT_ROOT

MIX = PROJECT_ROOT / "tests" / "contact_mix.yml"
TARGET_OVERALL = 0.90
TARGET_PER_REASON = 0.80
RETRIEVAL_INTENT = "faq"


@dataclass(frozen=True)
class Contact:
    text: str
    expect: str
    reason: str
    # other outcomes that engage with the request just as well (e.g. "ho pagato ieri ma
    # risulta non pagata": the FAQ on registration times, or the "I already paid" flow, which
    # explains the same delay on the customer's own bills)
    also: tuple[str, ...] = ()

    @property
    def outcomes(self) -> tuple[str, ...]:
        return (self.expect, *self.also)


def load(path: Path = MIX) -> list[Contact]:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        Contact(str(c["text"]), str(c["expect"]), str(c["reason"]), tuple(str(a) for a in c.get("also") or ()))
        for c in document.get("contacts") or []
    ]


def understood(parse_data: dict[str, Any]) -> tuple[str | None, str | None]:
    """(intent, faq/<topic> or None) as the server understood a message."""
    intent = (parse_data.get("intent") or {}).get("name")
    selector = (parse_data.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    topic = (selector.get("response") or {}).get("intent_response_key")
    return intent, topic if intent == RETRIEVAL_INTENT else None


def judge(contact: Contact, parse_data: dict[str, Any], answered: bool, known: set[str]) -> str:
    """ "on_topic", "off_topic" or "not_yet_available"."""
    base = contact.expect.split("/", 1)[0]
    if base != RETRIEVAL_INTENT and base not in known:
        return "not_yet_available"
    intent, topic = understood(parse_data)
    hit = any(
        topic == outcome if outcome.split("/", 1)[0] == RETRIEVAL_INTENT else intent == outcome
        for outcome in contact.outcomes
    )
    return "on_topic" if hit and answered else "off_topic"


Conversation = Callable[[list[str]], tuple[list[list[dict[str, Any]]], dict[str, Any]]]


@contextlib.contextmanager
def conversations(prefix: str = "mix") -> Iterator[Conversation]:
    """A freshly started stack (billing backend, action server, Rasa on loopback) and a function
    that holds one new conversation of the given messages there: (replies to each message, the
    conversation's tracker at the end). Also used by the context evaluation (bot/ops/context_eval.py)."""
    from tests.harness.stack import running_stack  # the test harness starts the real services

    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp)) as stack:
        token = stack.env["RASA_API_TOKEN"]

        def converse(messages: list[str]) -> tuple[list[list[dict[str, Any]]], dict[str, Any]]:
            sender = f"{prefix}-{uuid.uuid4().hex[:12]}"
            replies = [stack.say(sender, message) for message in messages]
            tracker = requests.get(
                f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": token}, timeout=30
            ).json()
            return replies, tracker

        yield converse


def run(contacts: list[Contact]) -> list[tuple[Contact, str, str]]:
    """Send every contact through a freshly started stack: (contact, verdict, what was understood)."""
    known = set(domain_intents())
    results: list[tuple[Contact, str, str]] = []
    with conversations() as converse:
        for contact in contacts:
            replies, tracker = converse([contact.text])
            parse_data = tracker.get("latest_message") or {}
            intent, topic = understood(parse_data)
            verdict = judge(contact, parse_data, bool(replies[0]), known)
            results.append((contact, verdict, topic or intent or "?"))
    return results


def format_report(results: list[tuple[Contact, str, str]]) -> str:
    by_reason: dict[str, Counter[str]] = defaultdict(Counter)
    for contact, verdict, _ in results:
        by_reason[contact.reason][verdict] += 1
    lines = [f"{'contact reason':<34}{'on topic':>10}{'n':>6}{'not yet':>9}"]
    total: Counter[str] = Counter()
    for reason, counts in sorted(by_reason.items()):
        total.update(counts)
        judged = counts["on_topic"] + counts["off_topic"]
        share = f"{counts['on_topic'] / judged:.1%}" if judged else "-"
        flag = "  < target" if judged and counts["on_topic"] / judged < TARGET_PER_REASON else ""
        lines.append(f"{reason:<34}{share:>10}{judged:>6}{counts['not_yet_available']:>9}{flag}")
    judged = total["on_topic"] + total["off_topic"]
    overall = total["on_topic"] / judged if judged else 0.0
    lines += [
        "",
        f"answered on topic at the first answer: {overall:.1%} of {judged} "
        f"(target {TARGET_OVERALL:.0%}, no reason under {TARGET_PER_REASON:.0%}); "
        f"{total['not_yet_available']} not yet available",
        "",
        "off topic:",
    ]
    lines += [f"  {c.text!r}: expected {c.expect}, got {got}" for c, v, got in results if v == "off_topic"]
    return "\n".join(lines)


if __name__ == "__main__":  # one command line for every evaluation: bot/ops/evaluate.py
    from bot.ops.evaluate import main

    raise SystemExit(main(["--only", "contact-mix"]))
