"""Benchmark: does a turn cost more as the conversation grows? (issue 15, goal 1)

Starts the embedded stack (billing backend, action server, Rasa with the project's tracker store
on SQLite, as `make run`), drives ONE REST conversation of `--turns` messages (small talk and
store questions, each with a `message_id` as the widget and WhatsApp send), and prints, for each
block of 20 turns, the median latency and the median CPU time the Rasa server and the action
server spent on a turn (CPU time is what to compare when other work shares the machine: latency
then moves by tens of per cent from block to block), the ratios of turns 300–320 and of the last
block to the first, and the Rasa process's resident memory before and after.

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


def service_process(module: str) -> psutil.Process:
    """The stack's process running `python -m <module>`."""
    for child in psutil.Process().children(recursive=True):
        try:
            if module in child.cmdline():
                return child
        except psutil.Error:
            continue
    raise RuntimeError(f"the {module} process was not found")


def rasa_process() -> psutil.Process:
    return service_process("bot.rasa_main")


def cpu_seconds(process: psutil.Process) -> float:
    """The process's CPU time: Linux's scheduler statistics of all its threads, in nanoseconds,
    else psutil's user + system time (in clock ticks of 10 ms: too coarse for one turn)."""
    try:
        tasks = Path(f"/proc/{process.pid}/task").iterdir()
        return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks) / 1e9
    except (OSError, ValueError, IndexError):
        times = process.cpu_times()
        return float(times.user + times.system)


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
        actions = service_process("bot.action_server")
        latencies: list[float] = []
        rasa_cpu: list[float] = []  # ms of CPU the Rasa server spent on each turn
        action_cpu: list[float] = []  # and the action server
        unanswered = 0
        for text in itertools.islice(itertools.cycle(MESSAGES), args.turns):
            body = {"sender": sender, "message": text, "message_id": uuid.uuid4().hex}
            cpu_before = (cpu_seconds(rasa), cpu_seconds(actions))
            started = time.perf_counter()
            answer = session.post(stack.rasa_url + WEBHOOK, json=body, timeout=60)
            latencies.append((time.perf_counter() - started) * 1000)
            rasa_cpu.append((cpu_seconds(rasa) - cpu_before[0]) * 1000)
            action_cpu.append((cpu_seconds(actions) - cpu_before[1]) * 1000)
            answer.raise_for_status()
            unanswered += not answer.json()
        rss_end = rasa.memory_info().rss
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            spy.wait(timeout=60)

    print(
        f"one REST conversation of {args.turns} turns; per block of {args.block} turns, the median latency and "
        "the median CPU time the Rasa server and the action server spent on a turn (CPU time moves far less "
        "than latency when other work shares the machine)"
    )
    print("| turns | latency (ms) | Rasa CPU (ms) | action server CPU (ms) |\n|---|---|---|---|")
    medians, rasa_medians, action_medians = (blocks(v, args.block) for v in (latencies, rasa_cpu, action_cpu))
    for (start, median), (_, rasa_ms), (_, action_ms) in zip(medians, rasa_medians, action_medians, strict=True):
        print(f"| {start}–{start + args.block} | {median:.1f} | {rasa_ms:.1f} | {action_ms:.1f} |")
    for name, values in (("latency", medians), ("Rasa CPU", rasa_medians)):
        by_start = dict(values)
        at_300 = f"{by_start[300] / values[0][1]:.2f}" if 300 in by_start else "–"
        print(f"{name}: turns 300–320 / 0–20 {at_300}, last block / first {values[-1][1] / values[0][1]:.2f}")
    print(f"turns without a reply: {unanswered}")
    print(
        f"Rasa RSS: {rss_start / 2**20:.0f} MiB before, {rss_end / 2**20:.0f} MiB after; "
        f"load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
