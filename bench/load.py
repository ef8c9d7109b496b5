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

Results: results/load/report.md (and locust's CSV files next to it, with what the integrity check
read: the customers' log, the SQLite tracker store, the profile's log).

    python -m bench.load --soak 600 [--users 16]

The soak (issue 15): the embedded profile for 600 s, the Rasa server's resident memory every 30 s,
its start, end and slope (results/load/soak/report.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import psutil
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
    extra = dict(
        RASA_API_TOKEN="load-rasa-api-token",
        RASA_STOCK="true" if profile == "default" else "false",
        REDIS_DB="5",
        REDIS_KEY_PREFIX=f"load{run}",
        RABBITMQ_QUEUE=f"load_{run}",
    )
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
    subprocess.run(
        [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(Path(__file__).with_name("locustfile.py")),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--host",
            url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "90",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
        capture_output=True,
    )


def stats(prefix: Path) -> dict[str, dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def integrity(database: str, sent_log: Path) -> dict[str, int]:
    """Compare what the customers sent (LOAD_LOG, bench/locustfile.py) with the tracker store,
    message by message (each has its own `message_id`, stored with it):

    - lost: answered to the customer, not stored; duplicated: stored more than once;
    - out of order: a conversation's stored messages not in the order they were sent;
    - given up: every attempt of the customer got no answer (see `silent`), stored at most once —
      the customer was not answered, nothing was lost or stored twice;
    - silent: a stored message with no bot message after it (the turn ran and said nothing: an
      action failed, say the action server unreachable); its resends get the stored answer,
      which is empty, so the customer gives up on it;
    - unsent: a stored message the customers' log does not have (a customer stopped while its
      request was in flight, at the end of the run).
    """
    sent = [json.loads(line) for line in sent_log.read_text().splitlines()]
    conversations: dict[str, list[dict]] = {}
    for item in sent:
        conversations.setdefault(item["sender"], []).append(item)
    problems = {
        "conversations": len(conversations),
        "messages": sum(1 for item in sent if item["answered"]),
        "given_up": sum(1 for item in sent if not item["answered"]),
        "lost": 0,
        "duplicated": 0,
        "out_of_order": 0,
        "silent": 0,
        "unsent": 0,
    }
    engine = create_engine(database, future=True)
    with engine.connect() as connection:
        for sender, items in conversations.items():
            rows = connection.execute(
                text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
            ).all()
            # the conversation's user and bot messages, without the user messages Rasa rewound
            # (the two-stage fallback takes a message back and appends it again: not a duplicate)
            said: list[tuple[str, str | None]] = []
            for row in rows:
                if row.type_name == "rewind":
                    last_user = max((i for i, (kind, _) in enumerate(said) if kind == "user"), default=None)
                    said = said if last_user is None else said[:last_user] + said[last_user + 1 :]
                elif row.type_name in ("user", "bot"):
                    said.append((row.type_name, json.loads(row.data).get("message_id")))
            applied = [message_id for kind, message_id in said if kind == "user"]
            stored = list(dict.fromkeys(json.loads(r.data).get("message_id") for r in rows if r.type_name == "user"))
            ids = [item["message_id"] for item in items]
            for item in items:
                problems["lost"] += item["answered"] and item["message_id"] not in stored
                problems["duplicated"] += applied.count(item["message_id"]) > 1
            problems["unsent"] += sum(1 for message_id in stored if message_id not in ids)
            problems["out_of_order"] += [i for i in stored if i in ids] != [i for i in ids if i in stored]
            problems["silent"] += sum(
                1
                for i, (kind, _) in enumerate(said)
                if kind == "user" and (i + 1 >= len(said) or said[i + 1][0] != "bot")
            )
    engine.dispose()
    return problems


def run_profile(
    profile: str,
    users: int,
    seconds: int,
    kill_after: float = 0,
    out: Path = OUT,
    rss: list[tuple[float, int]] | None = None,
    rss_every: float = 30,
) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    """Start a profile, run locust against it, check integrity. `production-kill` kills a
    replica `kill_after` seconds in (and fails if there was none to kill). With `rss`, the Rasa
    server's resident memory is appended to it every `rss_every` seconds (seconds into the run,
    bytes)."""
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        tmp_path = Path(tmp)
        database = (
            stack.enter_context(temporary_postgres_database())
            if profile.startswith("production")
            else f"sqlite:///{tmp_path / 'all.db'}"
        )
        process, rasa_port = start(profile, tmp_path, database)
        try:
            killed = kill_a_replica_later(process, rasa_port, kill_after) if profile == "production-kill" else None
            sent_log = tmp_path / "sent.jsonl"
            out.mkdir(parents=True, exist_ok=True)
            prefix = out / profile
            done = threading.Event()
            if rss is not None:
                threading.Thread(target=sample_rss, args=(process, rss_every, done, rss), daemon=True).start()
            servers = rasa_servers(process)
            cpu_before = cpu_seconds(servers)
            try:
                run_locust(f"http://127.0.0.1:{rasa_port}", users, seconds, prefix, sent_log)
            finally:
                done.set()
            rasa_cpu = cpu_seconds(servers) - cpu_before
            time.sleep(2)
            if killed is not None and not killed.is_set():
                raise RuntimeError("no Rasa replica was killed during the run")
            checked = integrity(database, sent_log)
            checked["rasa_cpu_ms"] = round(rasa_cpu * 1000)
            return stats(prefix), checked
        finally:
            stop_tree(process)
            keep(tmp_path, profile, prefix)


def rasa_servers(launcher: subprocess.Popen) -> list[psutil.Process]:
    """The Rasa servers the launcher started (`bot.rasa_main run`, or stock `rasa run`), in order."""
    servers = []
    for child in psutil.Process(launcher.pid).children(recursive=True):
        try:
            command = child.cmdline()
        except psutil.Error:
            continue
        if "run" in command and any(part.endswith(("bot.rasa_main", "/rasa")) for part in command):
            servers.append(child)
    return servers


def rasa_server(launcher: subprocess.Popen) -> psutil.Process:
    """The (first) Rasa server the launcher started."""
    servers = rasa_servers(launcher)
    if not servers:
        raise RuntimeError("no Rasa server among the launcher's processes")
    return servers[0]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU time of the processes (one killed meanwhile counts as 0)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def sample_rss(launcher: subprocess.Popen, every: float, done: threading.Event, samples: list) -> None:
    """(seconds since the first sample, RSS bytes) of the Rasa server every `every` s until `done`."""
    server, start = rasa_server(launcher), time.monotonic()
    while True:
        samples.append((time.monotonic() - start, server.memory_info().rss))
        if done.wait(every):
            return


def rss_summary(samples: list[tuple[float, int]]) -> str:
    """Start, end and the least-squares slope of the samples, in MiB and MiB per minute."""
    minutes = [t / 60 for t, _ in samples]
    mib = [b / 2**20 for _, b in samples]
    slope = statistics.linear_regression(minutes, mib).slope if len(samples) > 1 else 0.0
    return (
        f"Rasa RSS over {minutes[-1]:.1f} min ({len(samples)} samples): {mib[0]:.0f} MiB at the start, "
        f"{mib[-1]:.0f} MiB at the end, min {min(mib):.0f}, max {max(mib):.0f}; slope {slope:+.2f} MiB/min"
    )


def keep(tmp: Path, profile: str, prefix: Path) -> None:
    """What the integrity check read, next to locust's CSV files: the customers' log, the SQLite
    tracker store (the production profiles' PostgreSQL database is dropped) and the profile's log."""
    for name, suffix in (("sent.jsonl", "_sent.jsonl"), ("all.db", ".db"), (f"{profile}.log", ".log")):
        if (tmp / name).exists():
            shutil.copyfile(tmp / name, f"{prefix}{suffix}")


HEADER = [
    "| profile | customers | messages answered | answered/s | × default | requests failed (resent) | p50 (ms) "
    "| p95 (ms) | p99 (ms) | chat turns p95 (ms) | conversations | given up | lost | duplicated "
    "| out of order | silent turns | unsent | Rasa CPU per answer (ms) |",
    "|" + "---|" * 18,
]


def table(runs: list[tuple[str, int, dict[str, dict[str, str]], dict[str, int]]], seconds: int) -> list[str]:
    default = next((checked["messages"] for profile, _, _, checked in runs if profile == "default"), None)
    lines = list(HEADER)
    for profile, users, figures, checked in runs:
        total, chat = figures["Aggregated"], figures.get("chat", figures["Aggregated"])
        ratio = f"{checked['messages'] / default:.2f}" if default else "–"
        lines.append(
            f"| {profile} | {users} | {checked['messages']} | {checked['messages'] / seconds:.1f} | {ratio} "
            f"| {total['Failure Count']} | {total['50%']} | {total['95%']} | {total['99%']} | {chat['95%']} "
            f"| {checked['conversations']} | {checked['given_up']} | {checked['lost']} "
            f"| {checked['duplicated']} | {checked['out_of_order']} | {checked['silent']} "
            f"| {checked['unsent']} | {checked['rasa_cpu_ms'] / max(checked['messages'], 1):.1f} |"
        )
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=16, help="customers of the latency runs")
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--profiles", default="default,embedded,production,production-kill")
    parser.add_argument("--kill-after", type=float, default=15, help="production-kill: seconds into the run")
    parser.add_argument(
        "--capacity-users",
        type=int,
        default=48,
        help="customers of the capacity runs (enough to saturate every profile; 0: none)",
    )
    parser.add_argument("--capacity-profiles", default="default,embedded,production")
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="SECONDS",
        help="instead: the embedded profile at --users customers for SECONDS, the Rasa server's RSS every 30 s",
    )
    args = parser.parse_args(argv)
    if args.soak:
        return soak(args.users, args.soak)
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
    report = (
        f"{args.seconds} s per run, REST channel, loopback, {os.cpu_count()} cores (shared with locust); "
        f"production-kill: one Rasa replica SIGKILLed {args.kill_after:.0f} s into the run. Customers send "
        "the turns of a conversation without pause, 0.5-1.5 s between conversations: the latency runs "
        "measure answer times at 16 customers, the capacity runs the most each profile answers.\n\n"
        + "\n\n".join(sections)
        + "\n"
    )
    (OUT / "report.md").write_text(report)
    print(report)
    return 0


def soak(users: int, seconds: int) -> int:
    """The embedded profile under `users` customers for `seconds`: does Rasa's memory stay flat?"""
    samples: list[tuple[float, int]] = []
    figures, checked = run_profile("embedded", users, seconds, out=OUT / "soak", rss=samples)
    lines = [*table([("embedded", users, figures, checked)], seconds), "", rss_summary(samples)]
    lines += ["", "| minute | RSS (MiB) |", "|---|---|"] + [f"| {t / 60:.1f} | {b / 2**20:.0f} |" for t, b in samples]
    report = f"Soak: {seconds} s, {users} customers, embedded profile; load average {os.getloadavg()[0]:.1f}.\n\n"
    (OUT / "soak" / "report.md").write_text(report + "\n".join(lines) + "\n")
    print(report + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
