"""The console at scale (issue 17), on small volumes: one page at a time with a cursor, every
filter on an index (the query plans of SQLite and PostgreSQL, which are deterministic), the free
text on the full-text index (idempotent, masked, following erasure and purge), exports that
stream, metrics from the rollups, purge in batches. Timings are measured by `make bench-console`,
never asserted here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update

from bench.console_history import broker_fold, history, store_events
from bot.console.auth import StaffMember
from bot.console.conversations import ConversationStore, Filters
from bot.console.retention import Retention
from bot.db import make_engine, session_factory
from bot.settings import Settings
from bot.support.broker_consumer import BrokerConsumer
from bot.support.db import upgrade_schema
from bot.support.models import ConversationSummary, ConversationText, DailyRollup, SummaryFeed
from bot.support.review_index import contribution
from tests.console.inprocess import Console, make_console
from tests.harness.services import temporary_postgres_database

SYNTHETIC = 400
NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc).timestamp()
# every review filter, each answered by an index (docs/console-scale.md)
FILTERS = {
    "none": Filters(),
    "date": Filters(since=datetime(2026, 6, 1).date(), until=datetime(2026, 7, 1).date()),
    "channel": Filters(channel="whatsapp"),
    "fallback": Filters(fallback=True),
    "handed_off": Filters(handed_off=True),
    "verified": Filters(verified=True),
    "intent": Filters(intent="report_outage"),
    "outcome": Filters(outcome="risolto"),
    "tag": Filters(tag="bollette"),
    "free_text": Filters(q="Prato"),
}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Console:
    tmp = tmp_path_factory.mktemp("console-scale")
    built = make_console(tmp, console_page_size=50, console_count_cap=300, console_export_max_undated=300)
    store_events(make_engine(built.settings.tracker_store_url), list(history(SYNTHETIC, days=365, now=NOW)))
    return built


def sqlite_settings(tmp: Path, **values: Any) -> Settings:
    urls = {
        "tracker_store_url": f"sqlite:///{tmp / 'tracker.db'}",
        "support_database_url": f"sqlite:///{tmp / 'support.db'}",
    }
    return Settings(**{"_env_file": None, **urls, **values})


def store_of(settings: Settings) -> ConversationStore:
    return ConversationStore(settings, session_factory(make_engine(settings.support_database_url)))


# ---------------------------------------------------------------------- paging
def test_the_review_answers_one_page_and_its_cursor_walks_every_conversation(
    clients: dict[str, TestClient],
) -> None:
    giulia = clients["giulia"]
    first = giulia.get("/console/api/conversations").json()
    assert len(first["conversations"]) == 50 and first["next"]
    assert first["count"] is None and first["count_more_than"] == 300  # no exact count beyond the cap
    seen, answer, pages = [], first, 1
    while True:
        seen += answer["conversations"]
        if not answer["next"]:
            break
        answer = giulia.get("/console/api/conversations", params={"after": answer["next"]}).json()
        pages += 1
    ids = [row["id"] for row in seen]
    assert len(ids) == len(set(ids)) == SYNTHETIC + 2 and pages == (SYNTHETIC + 2 + 49) // 50
    lasts = [row["last"] for row in seen]
    assert lasts == sorted(lasts, reverse=True)  # newest activity first, across pages
    assert giulia.get("/console/api/conversations", params={"limit": 10_000}).json()["conversations"].__len__() == 200


def test_a_small_filter_is_counted_exactly_and_a_bad_cursor_is_a_400(clients: dict[str, TestClient]) -> None:
    giulia = clients["giulia"]
    handed = giulia.get("/console/api/conversations", params={"handed_off": "true", "limit": 200}).json()
    assert handed["count"] == len(handed["conversations"]) > 0 and handed["next"] is None
    assert all(row["handed_off"] for row in handed["conversations"])
    assert giulia.get("/console/api/conversations", params={"after": "bm9uc2Vuc2U"}).status_code == 400
    assert giulia.get("/console/api/conversations", params={"q": "x" * 201}).status_code == 422


# ---------------------------------------------------------------------- query plans
def sqlite_plan(store: ConversationStore, query: Any) -> list[str]:
    with store.sessions() as session:
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        return [row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]


def assert_sqlite_plan_uses_indexes(plan: list[str], sorts_matches: bool = False) -> None:
    """Every table read through an index; no sort, except of the free text's matches (the FTS5
    index gives them by relevance, not by date: docs/console-scale.md)."""
    for step in plan:
        assert sorts_matches or "TEMP B-TREE" not in step, plan
        if step.startswith("SCAN"):
            assert ("USING" in step and "INDEX" in step) or "VIRTUAL TABLE" in step, plan


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_every_filter_of_a_page_is_an_index_scan_in_sqlite(console: Console, name: str) -> None:
    store = store_of(console.settings)
    store.catch_up()
    first = sqlite_plan(store, store.page_query(FILTERS[name], size=50))
    deep = sqlite_plan(store, store.page_query(FILTERS[name], after=(NOW - 200 * 86400, "web:x"), size=50))
    assert_sqlite_plan_uses_indexes(first, sorts_matches=name == "free_text")
    assert_sqlite_plan_uses_indexes(deep, sorts_matches=name == "free_text")
    if name == "free_text":
        assert any("conversation_texts_fts VIRTUAL TABLE" in step for step in first), first


def test_erasure_by_customer_code_and_purge_by_age_use_their_indexes(console: Console) -> None:
    store = store_of(console.settings)
    by_code = select(ConversationSummary.conversation_id).where(ConversationSummary.customer_code == "100001")
    by_age = (
        select(ConversationSummary.conversation_id)
        .where(ConversationSummary.last < NOW)
        .order_by(ConversationSummary.last)
        .limit(500)
    )
    assert any("ix_conversation_summaries_customer_code" in s for s in sqlite_plan(store, by_code))
    assert any("ix_summaries_last_id" in s for s in sqlite_plan(store, by_age))


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with temporary_postgres_database() as tracker, temporary_postgres_database() as support:
        upgrade_schema(support)
        values: dict[str, Any] = {
            "tracker_store_url": tracker,
            "support_database_url": support,
            "broker_feeds_summaries": True,
        }
        settings = Settings(**{"_env_file": None, **values})
        conversations = list(history(SYNTHETIC, days=365, now=NOW))
        store_events(make_engine(tracker), conversations)
        consumer = BrokerConsumer(settings)
        for start in range(0, len(conversations), 50):
            broker_fold(consumer, conversations[start : start + 50])
        with make_engine(support).begin() as connection:
            connection.execute(text("ANALYZE"))
        yield settings


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_every_filter_of_a_page_is_an_index_scan_in_postgresql(postgres: Settings, name: str) -> None:
    """With sequential scans and sorts priced out, the planner still finds a plan: an index
    gives the filter's rows in the page's order (tiny tables would otherwise be read whole)."""
    store = store_of(postgres)
    query = store.page_query(FILTERS[name], size=50)
    with store.sessions() as session, session.begin():
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_sort = off"))
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {compiled}")))
    assert "Seq Scan on conversation_summaries" not in plan, plan
    assert "Index" in plan and "Sort  " not in plan and "-> Sort" not in plan, plan


def test_the_italian_full_text_search_finds_stemmed_words_in_postgresql(postgres: Settings) -> None:
    store = store_of(postgres)
    outages = store.page(Filters(q="guasti"), size=500)  # "guasto" in the texts: Italian stemming
    assert outages and all("report_outage" in s.intents for s in outages)
    assert store.page(Filters(q="RSSMRA80A01H501U"), size=500)  # found by its masked form
    with store.sessions() as session:
        assert not session.execute(
            select(func.count()).select_from(ConversationText).where(ConversationText.text.contains("RSSMRA80A01H501U"))
        ).scalar_one()


# ---------------------------------------------------------------------- free text
def test_the_free_text_search_reads_the_index_is_idempotent_and_masked(console: Console) -> None:
    store = store_of(console.settings)
    store.catch_up()
    prato = store.page(Filters(q="prato"), size=500)
    assert prato and all(s.conversation_id.startswith("web:bench") for s in prato)
    with store.sessions() as session:
        texts = session.execute(select(func.count()).select_from(ConversationText)).scalar_one()
        rollups = [
            (r.day, r.channel, r.conversations, r.user_turns) for r in session.execute(select(DailyRollup)).scalars()
        ]
        # fold the whole tracker store again: nothing is indexed or counted twice
        session.execute(update(SummaryFeed).values(last_event_id=0))
        session.commit()
    assert store.catch_up() > 0
    with store.sessions() as session:
        assert session.execute(select(func.count()).select_from(ConversationText)).scalar_one() == texts
        assert [
            (r.day, r.channel, r.conversations, r.user_turns) for r in session.execute(select(DailyRollup)).scalars()
        ] == rollups
        clear = session.execute(
            select(func.count()).select_from(ConversationText).where(ConversationText.text.contains("RSSMRA80A01H501U"))
        ).scalar_one()
    assert clear == 0 and store.page(Filters(q="RSSMRA80A01H501U"), size=5)  # the masked form is found
    assert [s.conversation_id for s in store.page(Filters(q="prato"), size=500)] == [s.conversation_id for s in prato]


@pytest.mark.parametrize("words", ["prato", "rateizzazione", "guasto livorno", "operatore", "RSSMRA80A01H501U"])
def test_a_frequent_search_walks_the_date_index_and_finds_what_the_sorted_matches_give(
    console: Console, words: str
) -> None:
    """SQLite: a search matching many turns probes conversations in the page's order (no sort,
    no lookup of every match) and gives the same pages, the deep ones too."""
    store = store_of(console.settings)
    store.catch_up()
    filters, deep = Filters(q=words), (NOW - 150 * 86400, "web:x")
    walked = sqlite_plan(store, store.page_query(filters, size=50, walk=True))
    assert_sqlite_plan_uses_indexes(walked)  # no TEMP B-TREE: the date index gives the order
    assert any("ix_conversation_texts_conversation_id (conversation_id=?)" in step for step in walked), walked
    with store.sessions() as session:
        for after in (None, deep):
            pages = [
                [s.conversation_id for s in session.execute(store.page_query(filters, after, 50, walk)).scalars()]
                for walk in (True, False)
            ]
            assert pages[0] == pages[1] and pages[0], words


def test_a_search_is_counted_from_a_sample_of_its_matches(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact when the sample holds every match, "more than the cap" when the sample already
    proves it, the full capped count when the sample cannot tell."""
    from bot.console import conversations

    store = store_of(console.settings)
    store.catch_up()
    for words in ("prato", "rateizzazione", "guasto livorno"):
        filters = Filters(q=words)
        exact = len(store.page(filters, size=10_000))
        assert store.count(filters, cap=1000) == exact > 3  # every match in the sample
        assert store.count(filters, cap=2) == 3  # the sample proves more than 2
        assert store.count(replace(filters, channel="whatsapp"), cap=1000) == len(
            store.page(replace(filters, channel="whatsapp"), size=10_000)
        )
    monkeypatch.setattr(conversations, "COUNT_SAMPLE", 0)  # a sample of no turn tells nothing
    assert (
        store.count(Filters(q="rateizzazione"), cap=2) == 3 and store.count(Filters(q="parolainesistente"), cap=2) == 0
    )


def test_erasure_and_purge_take_the_texts_out_of_the_index(tmp_path: Path) -> None:
    settings = sqlite_settings(
        tmp_path,
        retention_days=100,
        purge_batch=7,
    )
    retention = Retention(settings)
    store_events(retention.conversations.engine, list(history(60, days=200, now=NOW)))
    store = retention.conversations
    victim = store.page(Filters(q="prato"), size=1)[0].conversation_id
    retention.erase_conversations([victim], actor="marta")
    with store.sessions() as session:
        left = session.execute(
            select(func.count()).select_from(ConversationText).where(ConversationText.conversation_id == victim)
        ).scalar_one()
        matches = session.execute(
            text("SELECT count(*) FROM conversation_texts_fts WHERE conversation_texts_fts MATCH 'prato'")
        ).scalar_one()
        indexed = session.execute(
            text("SELECT count(*) FROM conversation_texts WHERE text LIKE '%Prato%'")
        ).scalar_one()
    assert left == 0 and victim not in [s.conversation_id for s in store.page(Filters(q="prato"), size=500)]
    assert matches == indexed  # the FTS5 rows follow the table (trigger)

    old = len(store.older_than(datetime.fromtimestamp(NOW, tz=timezone.utc) - timedelta(days=100)))
    assert old > settings.purge_batch
    purged = retention.purge(now=datetime.fromtimestamp(NOW, tz=timezone.utc))
    assert purged == old and not retention.unfinished
    assert all(s.last >= NOW - 100 * 86400 for s in store.conversations())
    with store.sessions() as session:
        assert (
            session.execute(text("SELECT count(*) FROM conversation_texts_fts")).scalar_one()
            == session.execute(select(func.count()).select_from(ConversationText)).scalar_one()
        )


def test_a_purge_stops_at_its_time_budget_and_says_so(tmp_path: Path) -> None:
    settings = sqlite_settings(
        tmp_path,
        purge_batch=5,
    )
    retention = Retention(settings)
    store_events(retention.conversations.engine, list(history(40, days=200, now=NOW)))
    now = datetime.fromtimestamp(NOW, tz=timezone.utc)
    assert retention.purge(days=1, now=now, budget_seconds=0) == 5 and retention.unfinished  # one batch
    assert retention.purge(days=1, now=now) == 35 and not retention.unfinished


# ---------------------------------------------------------------------- exports
def test_an_export_streams_one_page_of_conversations_at_a_time(
    console: Console,
    clients: dict[str, TestClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[int] = []
    original = ConversationStore.events_of

    def counted(self: ConversationStore, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        read.append(len(ids))
        return original(self, ids)

    monkeypatch.setattr(ConversationStore, "events_of", counted)
    endpoint = next(
        route.endpoint
        for route in console.app.routes
        if isinstance(route, APIRoute) and route.path == "/console/api/export.jsonl"
    )
    marta = StaffMember(id=0, username="marta", role="supervisor", csrf_token="x")  # noqa: S106  (a test session's)
    response = endpoint(filters=Filters(since=datetime(2026, 1, 1).date()), staff=marta)

    async def first_chunk() -> Any:
        iterator = response.body_iterator.__aiter__()
        return await iterator.__anext__()

    line = json.loads(asyncio.run(first_chunk()))
    assert line["turns"] and read == [200]  # the first line left before the second page was read


def test_an_undated_export_beyond_the_limit_is_refused_and_a_dated_one_is_audited(
    console: Console,
    clients: dict[str, TestClient],
) -> None:
    marta = clients["marta"]
    refused = marta.get("/console/api/export.csv")
    assert refused.status_code == 400 and "intervallo di date" in refused.json()["detail"]
    dated = marta.get("/console/api/export.csv", params={"since": "2026-11-01", "until": "2026-11-30"})
    assert dated.status_code == 200 and dated.text.count("\n") > 30
    detail = json.loads(console.audit("export_csv")[-1].detail)
    assert detail["filters"] == {"since": "2026-11-01", "until": "2026-11-30"} and 20 < detail["rows"] < 60


# ---------------------------------------------------------------------- metrics
def test_metrics_come_from_the_rollups_for_a_range_of_days(console: Console, clients: dict[str, TestClient]) -> None:
    giulia = clients["giulia"]
    store = store_of(console.settings)
    every = store.conversations()
    november = [s for s in every if contribution(s).day.startswith("2026-11")]  # type: ignore[union-attr]
    figures = giulia.get("/console/api/metrics", params={"since": "2026-11-01", "until": "2026-11-30"}).json()
    assert figures["conversations"] == len(november) > 0
    assert set(figures["per_day"]) <= {f"2026-11-{d:02d}" for d in range(1, 31)}
    assert figures["handoff_rate"] == round(sum(s.handed_off for s in november) / len(november), 3)
    assert giulia.get("/console/api/metrics").json()["conversations"] == len(every)
    table = giulia.get("/console/api/metrics.csv", params={"since": "2026-11-01", "until": "2026-11-30"})
    rows = [line.split(",") for line in table.text.strip().splitlines()[1:]]
    assert table.headers["content-type"].startswith("text/csv") and sum(int(r[2]) for r in rows) == len(november)
    assert giulia.get("/console/api/metrics", params={"since": "2026-12-01", "until": "2026-11-01"}).status_code == 400


def test_a_rollup_moves_when_a_later_event_changes_a_conversation(tmp_path: Path) -> None:
    settings = sqlite_settings(
        tmp_path,
    )
    store = Retention(settings).conversations
    [(sender, events)] = list(history(1, now=NOW))
    paused = [e for e in events if e["event"] != "pause"]
    store_events(store.engine, [(sender, paused)])
    store.catch_up()
    store_events(store.engine, [(sender, [{"event": "pause", "timestamp": paused[-1]["timestamp"] + 5}])])
    store.catch_up()
    with store.sessions() as session:
        [row] = session.execute(select(DailyRollup)).scalars().all()
    assert (row.conversations, row.handed_off) == (1, 1)
    assert replace(Filters(), handed_off=True).handed_off


# ---------------------------------------------------------------------- bulk fold, kept histories
def summaries_texts_rollups(store: ConversationStore) -> tuple[list[Any], int, list[Any]]:
    with store.sessions() as session:
        summaries = [
            (s.conversation_id, s.started, s.last, s.channel, s.user_turns, s.intents, s.flagged, s.verified)
            for s in session.execute(
                select(ConversationSummary).order_by(ConversationSummary.conversation_id)
            ).scalars()
        ]
        texts = session.execute(select(func.count()).select_from(ConversationText)).scalar_one()
        rollups = [
            (r.day, r.channel, r.conversations, r.handed_off, r.fallback, r.verified, r.user_turns)
            for r in session.execute(select(DailyRollup).order_by(DailyRollup.day, DailyRollup.channel)).scalars()
            # a batch that ends before a conversation's first message files it under channel "?",
            # the next one moves it to its channel and leaves that row at zero (not shown)
            if r.conversations
        ]
    return summaries, texts, rollups


def test_a_bulk_catch_up_folds_what_small_batches_fold(tmp_path: Path) -> None:
    """The benchmark folds tens of thousands of events per transaction: the same summaries,
    texts and rollups as the console's batches of CATCH_UP_BATCH."""
    conversations = list(history(80, days=30, now=NOW))
    stores = []
    for name, batch in (("small", 37), ("bulk", 100_000)):
        (tmp_path / name).mkdir()
        store = Retention(sqlite_settings(tmp_path / name)).conversations
        store_events(store.engine, conversations)
        assert store.catch_up(batch=batch) == sum(len(events) for _, events in conversations)
        stores.append(store)
    small, bulk = (summaries_texts_rollups(store) for store in stores)
    assert small == bulk and len(bulk[0]) == 80 and bulk[1] > 160


def test_the_benchmark_keeps_its_history_and_measures_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import console as bench

    monkeypatch.setattr(bench, "CACHE", tmp_path)
    generated = bench.cached_history("sqlite", 40, seed=3)
    assert (tmp_path / "sqlite-40-seed3.json").exists() and not Path(generated.tracker + "-wal").exists()
    monkeypatch.setattr(bench, "generate", lambda *args: pytest.fail("generated again"))
    assert bench.cached_history("sqlite", 40, seed=3) == generated  # reused, not generated again
    with bench.working_copy("sqlite", generated) as (tracker, support):
        settings = bench.bench_settings("sqlite", tracker, support)
        assert Retention(settings).purge(days=0, now=datetime.fromtimestamp(generated.now, tz=timezone.utc)) == 40
    kept = store_of(bench.bench_settings("sqlite", f"sqlite:///{generated.tracker}", f"sqlite:///{generated.support}"))
    assert len(kept.conversations()) == 40  # the purge emptied the copy only


def test_the_review_counts_a_search_no_further_than_the_text_cap(
    clients: dict[str, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.console import conversations

    giulia = clients["giulia"]
    monkeypatch.setattr(conversations, "TEXT_COUNT_CAP", 5)
    searched = giulia.get("/console/api/conversations", params={"q": "rateizzazione"}).json()
    assert searched["count"] is None and searched["count_more_than"] == 5 and searched["next"]
    assert len(searched["conversations"]) == 50
    rare = giulia.get("/console/api/conversations", params={"q": "guasto livorno", "limit": 200}).json()
    assert rare["count"] == len(rare["conversations"]) or rare["count_more_than"] == 5
    unfiltered = giulia.get("/console/api/conversations").json()
    assert unfiltered["count_more_than"] == 300  # the other filters keep the console's cap


def test_an_undated_export_is_counted_to_its_limit_even_when_the_review_counts_less(
    console: Console, clients: dict[str, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console.settings, "console_count_cap", 5)  # the review says "more than 5"
    marta = clients["marta"]
    assert marta.get("/console/api/conversations").json()["count_more_than"] == 5
    refused = marta.get("/console/api/export.jsonl")  # 402 conversations, over the limit of 300
    assert refused.status_code == 400 and "intervallo di date" in refused.json()["detail"]
