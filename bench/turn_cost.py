"""Benchmark: does a turn cost more as the conversation grows? (issue 15, goal 1)

Starts the embedded stack (billing backend, action server, Rasa with the project's tracker store
on SQLite, as `make run`), drives ONE REST conversation of `--turns` messages (small talk and
store questions, each with a `message_id` as the widget and WhatsApp send), and prints the median
latency of each block of 20 turns, the ratio of the last block to the first, and the Rasa
process's resident memory before and after.

    python -m bench.turn_cost [--turns 400] [--block 20] [--py-spy rasa-profile.txt]

`--py-spy FILE` records the Rasa server with py-spy (`pip install py-spy`, not a project
dependency) during the run, in py-spy's raw (collapsed stacks) format.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import requests

from tests.harness.rest import WEBHOOK
from tests.harness.stack import running_stack

# Small talk and store questions: no identification, so the conversation never ends in a form.
MESSAGES = [
    "Buongiorno",
    "dov'è lo sportello di Prato?",
    "grazie mille",
    "orari dello sportello di Siena",
    "c'è un ufficio ad Arezzo?",
    "ok grazie",
]


def rasa_process() -> psutil.Process:
    for child in psutil.Process().children(recursive=True):
        try:
            if "bot.rasa_main" in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue
    raise RuntimeError("the Rasa server process was not found")


def blocks(latencies: list[float], size: int) -> list[tuple[int, float]]:
    return [(start, statistics.median(latencies[start : start + size])) for start in range(0, len(latencies), size)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--block", type=int, default=20)
    parser.add_argument("--py-spy", dest="py_spy", type=Path, help="record the Rasa server to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp)) as stack:
        rasa = rasa_process()
        session = requests.Session()  # keep-alive, as a server-to-server client
        session.headers["Authorization"] = f"Bearer {stack.env['REST_CHANNEL_TOKEN']}"
        sender = f"bench-{uuid.uuid4().hex[:12]}"
        # one turn first: Rasa loads lazily (first prediction), that is not the conversation's cost
        session.post(stack.rasa_url + WEBHOOK, json={"sender": "warm-up", "message": "Buongiorno"}, timeout=60)
        rss_start = rasa.memory_info().rss
        spy = None
        if args.py_spy:
            binary = shutil.which("py-spy") or str(Path(__file__).resolve().parents[1] / ".venv/bin/py-spy")
            spy = subprocess.Popen(  # noqa: S603 - py-spy with our own arguments
                [binary, "record", "-p", str(rasa.pid), "-f", "raw", "-r", "50", "-o", str(args.py_spy)],
                stdout=subprocess.DEVNULL,
            )
            time.sleep(1)
        latencies: list[float] = []
        unanswered = 0
        for text in itertools.islice(itertools.cycle(MESSAGES), args.turns):
            body = {"sender": sender, "message": text, "message_id": uuid.uuid4().hex}
            started = time.perf_counter()
            answer = session.post(stack.rasa_url + WEBHOOK, json=body, timeout=60)
            latencies.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            unanswered += not answer.json()
        rss_end = rasa.memory_info().rss
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            spy.wait(timeout=60)

    print(f"one REST conversation of {args.turns} turns; median latency per block of {args.block} turns")
    print("| turns | median (ms) |\n|---|---|")
    medians = blocks(latencies, args.block)
    for start, median in medians:
        print(f"| {start}–{start + args.block} | {median:.1f} |")
    print(f"last block / first block: {medians[-1][1] / medians[0][1]:.2f}; turns without a reply: {unanswered}")
    print(
        f"Rasa RSS: {rss_start / 2**20:.0f} MiB before, {rss_end / 2**20:.0f} MiB after; "
        f"load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
