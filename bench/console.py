"""`make bench-console`: the support console at a utility's scale (issue 17).

    python -m bench.console [--profile sqlite|postgres] [--conversations 200000] [--samples 30]

Generates a synthetic year of conversations through the project's own write path
(bench/console_history.py: Rasa's events in Rasa's events table, folded by the embedded catch-up
on SQLite, by the broker consumer's fold on PostgreSQL), then measures the console's web app
in-process (FastAPI's TestClient: routing, session, queries, JSON; no network): p50/p95 of the
first page, a filtered page, a deep page (cursor half-way), free-text searches, the metrics,
an export's first byte, the purge of the oldest 10 %, and the Python memory allocated while a
whole month is exported (tracemalloc peak, against a day's export: flat means constant memory).
Results: results/console/<profile>.md. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import func, select

from bench.console_history import broker_fold, history, store_events
from bot.console.auth import StaffMember, create_user
from bot.console.conversations import ConversationStore, Filters
from bot.console.retention import Retention
from bot.db import make_engine, session_factory
from bot.settings import PROJECT_ROOT, Settings
from bot.support.broker_consumer import BrokerConsumer
from bot.support.db import upgrade_schema
from bot.support.models import ConversationSummary
from bot.web.app import create_app
from tests.console.test_routes_inprocess import login
from tests.harness.services import temporary_postgres_database

PASSWORD = "una-password-lunga"  # noqa: S105  (a benchmark account's)
BATCH = 2000  # conversations written and folded per step
TARGETS = {"page": 150, "search": 500, "metrics": 300, "export_first_byte": 1000}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@contextmanager
def databases(profile: str, folder: Path) -> Iterator[tuple[str, str]]:
    if profile == "postgres":
        with temporary_postgres_database() as tracker, temporary_postgres_database() as support:
            yield tracker, support
    else:
        yield f"sqlite:///{folder / 'tracker.db'}", f"sqlite:///{folder / 'support.db'}"


def generate(settings: Settings, count: int, now: float) -> float:
    """Write and fold `count` conversations; conversations per second."""
    tracker = make_engine(settings.tracker_store_url)
    store = ConversationStore(settings, session_factory(make_engine(settings.support_database_url)))
    consumer = BrokerConsumer(settings) if settings.broker_feeds_summaries else None
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        batch = list(
            history(
                min(BATCH, count - first), days=365, now=now - 365 * 86400 * (1 - (first + BATCH) / count), first=first
            )
        )
        store_events(tracker, batch)
        if consumer is not None:
            broker_fold(consumer, batch)
        else:
            store.catch_up()
        if first and first % (BATCH * 10) == 0:
            rate = (first + BATCH) / (time.perf_counter() - started)
            print(f"  {first + BATCH} conversations, {rate:.0f}/s", flush=True)
    return count / (time.perf_counter() - started)


def timed(samples: int, call: Callable[[int], Any]) -> dict[str, float]:
    call(0)  # warm the caches once, as a console in use has them
    times = []
    for i in range(samples):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(times, 50), "p95": percentile(times, 95)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args(argv)
    now = datetime.now(timezone.utc).timestamp()
    with tempfile.TemporaryDirectory() as folder, databases(args.profile, Path(folder)) as (tracker, support):
        upgrade_schema(support)
        values: dict[str, Any] = {
            "_env_file": None,
            "tracker_store_url": tracker,
            "support_database_url": support,
            "broker_feeds_summaries": args.profile == "postgres",
            "rasa_api_token": "x",
            "console_client_free_failures": 10_000,
        }
        settings = Settings(**values)
        print(f"generating {args.conversations} conversations ({args.profile})", flush=True)
        rate = generate(settings, args.conversations, now)
        results = measure(settings, args.samples, now)
        results["generation"] = {"conversations_per_s": rate}
        report(args, results)
    return 0


def measure(settings: Settings, samples: int, now: float) -> dict[str, Any]:
    sessions = session_factory(make_engine(settings.support_database_url))
    create_user(sessions, "bench", PASSWORD, "supervisor")
    app = create_app(settings)
    client = login(app, "bench", PASSWORD)
    store = ConversationStore(settings, sessions)
    with sessions() as session:
        total = session.execute(select(func.count()).select_from(ConversationSummary)).scalar_one()
        middle = session.execute(
            select(ConversationSummary.last, ConversationSummary.conversation_id)
            .order_by(ConversationSummary.last.desc())
            .offset(total // 2)
            .limit(1)
        ).one()
    from bot.console.routes.review import encode_cursor

    deep = encode_cursor(middle[0], middle[1])
    filters = [
        {"channel": "whatsapp"},
        {"handed_off": "true"},
        {"fallback": "true"},
        {"verified": "true"},
        {"intent": "report_outage"},
        {"channel": "rest", "handed_off": "true"},
    ]
    words = ["Prato", "rateizzazione", "autolettura", "guasto Livorno", "operatore", "Siena"]
    today = datetime.fromtimestamp(now, tz=timezone.utc).date()

    def get(path: str, **params: Any) -> Any:
        answer = client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer

    results: dict[str, Any] = {"conversations": total}
    results["first_page"] = timed(samples, lambda i: get("/console/api/conversations"))
    results["filtered_page"] = timed(samples, lambda i: get("/console/api/conversations", **filters[i % len(filters)]))
    results["deep_page"] = timed(samples, lambda i: get("/console/api/conversations", after=deep))
    results["free_text"] = timed(samples, lambda i: get("/console/api/conversations", q=words[i % len(words)]))
    results["metrics_year"] = timed(samples, lambda i: get("/console/api/metrics"))
    results["metrics_month"] = timed(
        samples, lambda i: get("/console/api/metrics", since=str(today - timedelta(days=30)), until=str(today))
    )
    export = next(r.endpoint for r in app.routes if isinstance(r, APIRoute) and r.path == "/console/api/export.jsonl")
    supervisor = StaffMember(id=0, username="bench", role="supervisor", csrf_token="-")  # noqa: S106

    def first_byte(i: int) -> None:
        response = export(filters=Filters(since=today - timedelta(days=30)), staff=supervisor)
        asyncio.run(response.body_iterator.__aiter__().__anext__())

    results["export_first_byte"] = timed(max(5, samples // 3), first_byte)
    results["export_memory"] = {f"{days}_days": export_peak(export, supervisor, today, days) for days in (1, 30)}
    retention = Retention(settings)
    oldest = store.older_than(datetime.fromtimestamp(now, tz=timezone.utc), limit=None)
    cutoff_row = oldest[len(oldest) // 10]
    with sessions() as session:
        cutoff_last = session.get(ConversationSummary, cutoff_row).last
    days = (now - cutoff_last) / 86400
    start = time.perf_counter()
    purged = retention.purge(days=int(days) + 1, budget_seconds=3600)
    results["purge_10_percent"] = {
        "conversations": purged,
        "seconds": time.perf_counter() - start,
        "per_second": purged / max(time.perf_counter() - start, 1e-9),
    }
    return results


def export_peak(export: Callable[..., Any], staff: StaffMember, today: date, days: int) -> dict[str, float]:
    """Python memory allocated at the peak of a whole export of `days` (MiB), and its lines."""

    async def drain(response: Any) -> int:
        lines = 0
        async for chunk in response.body_iterator:
            lines += chunk.count("\n")
        return lines

    tracemalloc.start()
    response = export(filters=Filters(since=today - timedelta(days=days)), staff=staff)
    lines = asyncio.run(drain(response))
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"lines": lines, "peak_mib": round(peak, 1)}


def report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    out = PROJECT_ROOT / "results" / "console" / f"{args.profile}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# make bench-console: {args.profile}, {results['conversations']} conversations",
        "",
        f"Generated at {results['generation']['conversations_per_s']:.0f} conversations/s "
        "(Rasa events written, then folded).",
        "",
        "| request | p50 ms | p95 ms | target p95 |",
        "|---|---|---|---|",
    ]
    for name, target in (
        ("first_page", "page"),
        ("filtered_page", "page"),
        ("deep_page", "page"),
        ("free_text", "search"),
        ("metrics_year", "metrics"),
        ("metrics_month", "metrics"),
        ("export_first_byte", "export_first_byte"),
    ):
        r = results[name]
        flag = "" if r["p95"] <= TARGETS[target] else " **missed**"
        lines.append(f"| {name} | {r['p50']:.1f} | {r['p95']:.1f} | ≤ {TARGETS[target]}{flag} |")
    purge = results["purge_10_percent"]
    lines += [
        "",
        f"Purge of the oldest 10 %: {purge['conversations']} conversations in {purge['seconds']:.1f} s "
        f"({purge['per_second']:.0f}/s).",
        "",
        "Export memory (tracemalloc peak of the whole export): "
        + ", ".join(f"{k}: {v['lines']} lines, {v['peak_mib']} MiB" for k, v in results["export_memory"].items()),
    ]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
