"""`make load`: conversation load with locust (headless, loopback, bounded in time) against the
embedded profile and the production profile on this machine, then an integrity check of every
run: each message sent is stored exactly once, in order, and has a reply.

    python -m tests.load.run_load [--users 16] [--seconds 45] [--profiles embedded,production]

Results: results/load/report.md (and locust's CSV files next to it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Dict, List, Tuple

from sqlalchemy import create_engine, text

from bot.settings import PROJECT_ROOT
from tests.conftest import launch, profile_ports, stop_tree
from tests.services import temporary_postgres_database

OUT = PROJECT_ROOT / "results" / "load"


def start(profile: str, tmp: Path, database: str) -> Tuple[subprocess.Popen, str, str]:
    rasa_port, action_port, billing_port, web_port = profile_ports()
    env = dict(os.environ, RASA_PORT=str(rasa_port), ACTION_PORT=str(action_port), BILLING_PORT=str(billing_port),
               WEB_PORT=str(web_port), RASA_API_TOKEN="load", BUSINESS_DATE="2026-11-26",
               TRACKER_STORE_URL=database, BILLING_DATABASE_URL=database, SUPPORT_DATABASE_URL=database,
               REDIS_DB="5", REDIS_KEY_PREFIX=f"load{rasa_port}", RABBITMQ_QUEUE=f"load_{rasa_port}")
    for derived in ("ACTION_SERVER_URL", "BILLING_URL"):
        env.pop(derived, None)
    module = "bot.ops.run" if profile == "embedded" else "bot.ops.run_prod"
    marker = "assistant is ready" if profile == "embedded" else "production profile ready"
    process = launch(module, env, tmp / f"{profile}.log", marker)
    return process, f"http://127.0.0.1:{rasa_port}", database


def run_locust(url: str, users: int, seconds: int, prefix: Path, sent_log: Path) -> None:
    env = dict(os.environ, LOAD_LOG=str(sent_log))
    subprocess.run([str(Path(sys.executable).parent / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")),
                    "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", url,
                    "--csv", str(prefix), "--only-summary", "--stop-timeout", "20"],
                   cwd=PROJECT_ROOT, env=env, check=False, capture_output=True)


def stats(prefix: Path) -> Dict[str, Dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def integrity(database: str, sent_log: Path) -> Dict[str, int]:
    sent: Dict[str, List[str]] = {}
    for line in sent_log.read_text().splitlines():
        item = json.loads(line)
        sent.setdefault(item["sender"], []).append(item["text"])
    engine = create_engine(database, future=True)
    problems = {"conversations": len(sent), "messages": sum(len(v) for v in sent.values()),
                "lost_or_duplicated": 0, "out_of_order": 0, "without_reply": 0}
    with engine.connect() as connection:
        for sender, texts in sent.items():
            rows = connection.execute(text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                                      {"s": sender}).all()
            users = [json.loads(r.data).get("text") for r in rows if r.type_name == "user"]
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=45)
    parser.add_argument("--profiles", default="embedded,production")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for profile in args.profiles.split(","):
        with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
            tmp_path = Path(tmp)
            database = (f"sqlite:///{tmp_path / 'all.db'}" if profile == "embedded"
                        else stack.enter_context(temporary_postgres_database()))
            process, url, database = start(profile, tmp_path, database)
            try:
                sent_log = tmp_path / "sent.jsonl"
                prefix = OUT / profile
                run_locust(url, args.users, args.seconds, prefix, sent_log)
                time.sleep(2)
                checked = integrity(database, sent_log)
                figures = stats(prefix)
            finally:
                stop_tree(process)
        total = figures["Aggregated"]
        chat = figures.get("chat", total)
        rows.append((profile, total, chat, checked))
    lines = ["| profile | turns | failures | turns/s | p50 (ms) | p95 (ms) | p99 (ms) | chat turns p95 (ms) "
             "| conversations | lost or duplicated | out of order | without reply |", "|" + "---|" * 12]
    for profile, total, chat, checked in rows:
        lines.append(f"| {profile} | {total['Request Count']} | {total['Failure Count']} | {float(total['Requests/s']):.1f} "
                     f"| {total['50%']} | {total['95%']} | {total['99%']} | {chat['95%']} | {checked['conversations']} "
                     f"| {checked['lost_or_duplicated']} | {checked['out_of_order']} | {checked['without_reply']} |")
    report = f"{args.users} concurrent customers, {args.seconds} s per profile, REST channel, loopback, 2 cores.\n\n" \
             + "\n".join(lines) + "\n"
    (OUT / "report.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
