"""The conversation-context evaluation (issue 16), part of `make eval`.

Each conversation of tests/context_holdout.yml (a follow-up, a correction or two requests in one
message, at its end) is held with the running assistant on the REST channel, through the contact
mix's machinery (bot/ops/contact_mix.py: the stack the tests start, one new conversation each).
It is handled when, after its last message, the assistant ran every action it `expect`s, its
replies contain every fragment it `says` (case and accents ignored), and no message of the
assistant was sent three times in a row in the whole conversation (the same question three
times is a dead end). The share handled is reported overall and by pattern.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.folding import fold
from bot.settings import PROJECT_ROOT

HOLDOUT = PROJECT_ROOT / "tests" / "context_holdout.yml"
TARGET = 0.80
SKIPPED_ACTIONS = {"action_listen", "action_extract_slots", "action_session_start"}


@dataclass(frozen=True)
class Case:
    pattern: str
    turns: tuple[str, ...]
    expect: tuple[str, ...]
    says: tuple[str, ...] = ()


def load(path: Path = HOLDOUT) -> list[Case]:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        Case(
            str(c["pattern"]),
            tuple(str(t) for t in c["turns"]),
            tuple(str(a) for a in c["expect"]),
            tuple(str(s) for s in c.get("says") or ()),
        )
        for c in document.get("conversations") or []
    ]


def actions_after_last_message(tracker: dict[str, Any]) -> list[str]:
    """The actions the assistant ran after the customer's last message, in order."""
    events = tracker.get("events") or []
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    return [
        str(e.get("name"))
        for e in events[last_user + 1 :]
        if e.get("event") == "action" and e.get("name") not in SKIPPED_ACTIONS
    ]


def repeated_three_times(tracker: dict[str, Any]) -> str | None:
    """A message the assistant sent as its only or last answer three turns in a row, if any."""
    answers: list[str] = []
    current: list[str] = []
    for event in tracker.get("events") or []:
        if event.get("event") == "user":
            if current:
                answers.append(current[-1])
            current = []
        elif event.get("event") == "bot" and event.get("text"):
            current.append(fold(str(event["text"])))
    if current:
        answers.append(current[-1])
    for first, second, third in zip(answers, answers[1:], answers[2:], strict=False):
        if first == second == third:
            return first
    return None


def judge(case: Case, last_replies: list[dict[str, Any]], tracker: dict[str, Any]) -> tuple[bool, str]:
    """(handled, why not)."""
    ran = actions_after_last_message(tracker)
    missing = [a for a in case.expect if a not in ran]
    if missing:
        return False, f"ran {ran}, not {missing}"
    said = fold(" ".join(str(r.get("text") or "") for r in last_replies))
    absent = [s for s in case.says if fold(s) not in said]
    if absent:
        return False, f"answer without {absent}: {said[:160]!r}"
    again = repeated_three_times(tracker)
    if again:
        return False, f"said three times in a row: {again[:80]!r}"
    return True, ""


def run(cases: list[Case]) -> list[tuple[Case, bool, str]]:
    from bot.ops.contact_mix import conversations

    results: list[tuple[Case, bool, str]] = []
    with conversations(prefix="ctx") as converse:
        for case in cases:
            replies, tracker = converse(list(case.turns))
            handled, why = judge(case, replies[-1], tracker)
            results.append((case, handled, why))
    return results


def format_report(results: list[tuple[Case, bool, str]]) -> str:
    by_pattern: dict[str, Counter[bool]] = defaultdict(Counter)
    for case, handled, _ in results:
        by_pattern[case.pattern][handled] += 1
    lines = [f"{'context pattern':<24}{'handled':>10}{'n':>6}"]
    for pattern, counts in sorted(by_pattern.items()):
        total = counts[True] + counts[False]
        lines.append(f"{pattern:<24}{counts[True] / total:>10.1%}{total:>6}")
    count = sum(1 for _, ok, _ in results if ok)
    share = count / len(results) if results else 0.0
    lines += ["", f"conversation context handled: {share:.1%} of {len(results)} (target {TARGET:.0%})", ""]
    lines += [f"  {' / '.join(c.turns)!r}: {why}" for c, ok, why in results if not ok]
    return "\n".join(lines)


if __name__ == "__main__":  # one command line for every evaluation: bot/ops/evaluate.py
    from bot.ops.evaluate import main

    raise SystemExit(main(["--only", "context"]))
