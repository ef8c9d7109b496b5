"""`make load`: conversation load with locust (headless, loopback, bounded in time) against the
profiles on this machine, then an integrity check of every run: each message sent is stored
exactly once, in order, and has a reply.

- default: one Rasa process exactly as Rasa ships it (RASA_STOCK=true: Rasa's command line and
  SQL tracker store on SQLite, in-memory lock store) — the baseline;
- embedded: `make run` (one Rasa process with the project's fixes, SQLite);
- production: `make run-prod` (2 replicas behind nginx, PostgreSQL, Redis, RabbitMQ);
- production-kill: the production profile with one Rasa replica SIGKILLed mid-run (--kill-after).

    python -m bench.load [--users 16] [--seconds 40] [--profiles default,embedded,production,production-kill]
                         [--capacity-users 48] [--capacity-profiles default,embedded,production]

Two sets of runs: latency (16 customers: answer times) and capacity (48 customers, enough to
saturate every profile on 2 cores: the most messages each answers per second).

Results: results/load/report.md (and locust's CSV files next to it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT
from tests.harness.assistant import READY_MARKERS, launch_profile
from tests.harness.processes import service_pid, stop_tree
from tests.harness.production import production_settings, seed_demo_customers
from tests.harness.rest import REST_TOKEN
from tests.harness.services import temporary_postgres_database

OUT = PROJECT_ROOT / "results" / "load"


def start(profile: str, tmp: Path, database: str) -> tuple[subprocess.Popen, int]:
    production = profile.startswith("production")
    module = "bot.ops.run_prod" if production else "bot.ops.run"
    run = uuid.uuid4().hex[:8]
    extra = dict(RASA_API_TOKEN="load-rasa-api-token", RASA_STOCK="true" if profile == "default" else "false",
                 REDIS_DB="5", REDIS_KEY_PREFIX=f"load{run}", RABBITMQ_QUEUE=f"load_{run}")
    if production:  # it refuses default credentials and never seeds (tests/harness/production.py)
        database, secure = production_settings(database, REST_CHANNEL_TOKEN=REST_TOKEN)
        extra.update(secure)
        seed_demo_customers(database)
    process, ports = launch_profile(module, tmp / f"{profile}.log", READY_MARKERS[module], database, **extra)
    return process, ports[0]


def kill_a_replica_later(launcher: subprocess.Popen, rasa_port: int, after: float) -> threading.Event:
    """SIGKILL the Rasa server of the first replica (not its respawn wrapper) after `after` s;
    the event is set once it is killed."""
    killed = threading.Event()

    def kill() -> None:
        time.sleep(after)
        pid = service_pid(launcher.pid, [b"bot.rasa_main"], rasa_port + 1)
        os.kill(pid, signal.SIGKILL)
        killed.set()
        print(f"killed Rasa replica pid {pid} (port {rasa_port + 1}) after {after:.0f} s", flush=True)

    threading.Thread(target=kill, daemon=True).start()
    return killed


def run_locust(url: str, users: int, seconds: int, prefix: Path, sent_log: Path) -> None:
    env = service_environment(LOAD_LOG=str(sent_log), REST_CHANNEL_TOKEN=REST_TOKEN)  # launch_profile set it
    subprocess.run([str(Path(sys.executable).parent / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")),
                    "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", url,
                    "--csv", str(prefix), "--only-summary", "--stop-timeout", "90"],
                   cwd=PROJECT_ROOT, env=env, check=False, capture_output=True)


def stats(prefix: Path) -> dict[str, dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def integrity(database: str, sent_log: Path) -> dict[str, int]:
    """Compare what the customers sent with the tracker store. A message whose customer gave up
    after every resend failed is not expected; the conversation must hold it at most once."""
    sent: dict[str, list[str]] = {}
    given_up: dict[str, list[str]] = {}
    for line in sent_log.read_text().splitlines():
        item = json.loads(line)
        (sent if item["answered"] else given_up).setdefault(item["sender"], []).append(item["text"])
    engine = create_engine(database, future=True)
    problems = {"conversations": len(sent), "messages": sum(len(v) for v in sent.values()),
                "given_up": sum(len(v) for v in given_up.values()),
                "lost_or_duplicated": 0, "out_of_order": 0, "without_reply": 0}
    with engine.connect() as connection:
        for sender, texts in sent.items():
            rows = connection.execute(text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                                      {"s": sender}).all()
            users = [json.loads(r.data).get("text") for r in rows if r.type_name == "user"]
            gave_up = given_up.get(sender, [])  # a customer gives up once, on its last message
            if gave_up and users[len(texts):] == gave_up:  # that message was stored (once): fine
                users = users[:len(texts)]
            if sorted(users) != sorted(texts):
                problems["lost_or_duplicated"] += 1
            elif users != texts:
                problems["out_of_order"] += 1
            kinds = [r.type_name for r in rows if r.type_name in ("user", "bot")]
            for i, kind in enumerate(kinds):
                if kind == "user" and (i + 1 >= len(kinds) or kinds[i + 1] != "bot"):
                    problems["without_reply"] += 1
    engine.dispose()
    return problems


def run_profile(profile: str, users: int, seconds: int, kill_after: float = 0,
                out: Path = OUT) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    """Start a profile, run locust against it, check integrity. `production-kill` kills a
    replica `kill_after` seconds in (and fails if there was none to kill)."""
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        tmp_path = Path(tmp)
        database = (stack.enter_context(temporary_postgres_database()) if profile.startswith("production")
                    else f"sqlite:///{tmp_path / 'all.db'}")
        process, rasa_port = start(profile, tmp_path, database)
        try:
            killed = kill_a_replica_later(process, rasa_port, kill_after) if profile == "production-kill" else None
            sent_log = tmp_path / "sent.jsonl"
            out.mkdir(parents=True, exist_ok=True)
            prefix = out / profile
            run_locust(f"http://127.0.0.1:{rasa_port}", users, seconds, prefix, sent_log)
            time.sleep(2)
            if killed is not None and not killed.is_set():
                raise RuntimeError("no Rasa replica was killed during the run")
            return stats(prefix), integrity(database, sent_log)
        finally:
            stop_tree(process)


HEADER = ["| profile | customers | messages answered | answered/s | × default | requests failed (resent) | p50 (ms) "
          "| p95 (ms) | p99 (ms) | chat turns p95 (ms) | conversations | given up | lost or duplicated "
          "| out of order | without reply |", "|" + "---|" * 15]


def table(runs: list[tuple[str, int, dict[str, dict[str, str]], dict[str, int]]], seconds: int) -> list[str]:
    default = next((checked["messages"] for profile, _, _, checked in runs if profile == "default"), None)
    lines = list(HEADER)
    for profile, users, figures, checked in runs:
        total, chat = figures["Aggregated"], figures.get("chat", figures["Aggregated"])
        ratio = f"{checked['messages'] / default:.2f}" if default else "–"
        lines.append(f"| {profile} | {users} | {checked['messages']} | {checked['messages'] / seconds:.1f} | {ratio} "
                     f"| {total['Failure Count']} | {total['50%']} | {total['95%']} | {total['99%']} | {chat['95%']} "
                     f"| {checked['conversations']} | {checked['given_up']} | {checked['lost_or_duplicated']} "
                     f"| {checked['out_of_order']} | {checked['without_reply']} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=16, help="customers of the latency runs")
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--profiles", default="default,embedded,production,production-kill")
    parser.add_argument("--kill-after", type=float, default=15, help="production-kill: seconds into the run")
    parser.add_argument("--capacity-users", type=int, default=48,
                        help="customers of the capacity runs (enough to saturate every profile; 0: none)")
    parser.add_argument("--capacity-profiles", default="default,embedded,production")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    sections = []
    plan = [("latency", args.users, args.profiles)]
    if args.capacity_users:
        plan.append(("capacity", args.capacity_users, args.capacity_profiles))
    for name, users, profiles in plan:
        runs = []
        for profile in profiles.split(","):
            figures, checked = run_profile(profile, users, args.seconds, args.kill_after, out=OUT / name)
            runs.append((profile, users, figures, checked))
            print(table(runs, args.seconds)[-1], flush=True)
        sections.append(f"### {name}: {users} concurrent customers\n\n" + "\n".join(table(runs, args.seconds)))
    report = (f"{args.seconds} s per run, REST channel, loopback, {os.cpu_count()} cores (shared with locust); "
              f"production-kill: one Rasa replica SIGKILLed {args.kill_after:.0f} s into the run. Customers send "
              "the turns of a conversation without pause, 0.5-1.5 s between conversations: the latency runs "
              "measure answer times at 16 customers, the capacity runs the most each profile answers.\n\n"
              + "\n\n".join(sections) + "\n")
    (OUT / "report.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
