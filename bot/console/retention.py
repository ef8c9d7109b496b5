"""Retention and erasure of conversations (tracker store and support database, summaries and
their text index included), audited. Both delete in batches of PURGE_BATCH conversations, each
its own short transactions; the purge also stops at PURGE_TIME_BUDGET_SECONDS (issue 17).

    python -m bot.console.retention purge [--days N]          # default RETENTION_DAYS
    python -m bot.console.retention erase --customer-code 100001 --by supervisor-name
    python -m bot.console.retention erase --conversation ID --by supervisor-name
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, or_

from bot.console.conversations import ConversationStore
from bot.db import session_factory
from bot.settings import Settings, get_settings
from bot.support.db import make_engine, upgrade_schema
from bot.support.handoff import utcnow
from bot.support.models import (
    AuditEntry,
    ConversationIntent,
    ConversationNote,
    ConversationRef,
    ConversationSummary,
    ConversationTag,
    ConversationText,
    NluCorrection,
    Ticket,
    WhatsAppContact,
)


class Retention:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        upgrade_schema(self.settings.support_database_url)
        self.sessions = session_factory(make_engine(self.settings.support_database_url))
        self.conversations = ConversationStore(self.settings, self.sessions)
        self.unfinished = False  # the last purge stopped at its time budget with more to delete

    def _delete(self, ids: list[str]) -> int:
        """One batch: its events (one short transaction on the tracker store), then everything
        the support database holds about it (another); the number of events deleted."""
        events = self.conversations.erase(ids)
        with self.sessions() as session, session.begin():
            for model in (
                Ticket,
                ConversationTag,
                ConversationNote,
                NluCorrection,
                ConversationSummary,
                ConversationIntent,
                ConversationText,
            ):  # the texts' FTS5 rows follow by trigger
                session.execute(
                    delete(model).where(model.conversation_id.in_(ids)).execution_options(synchronize_session=False)
                )
            # conversation ids are "wa:" HMACs since issue 10; older ones were the number itself
            session.execute(
                delete(WhatsAppContact)
                .where(or_(WhatsAppContact.conversation_id.in_(ids), WhatsAppContact.wa_id.in_(ids)))
                .execution_options(synchronize_session=False)
            )
            session.execute(
                delete(ConversationRef)
                .where(ConversationRef.conversation_id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        return events

    def _audit(self, actor: str, action: str, detail: str) -> None:
        with self.sessions() as session, session.begin():
            session.add(AuditEntry(at=utcnow(), actor=actor, action=action, conversation_id=None, detail=detail))

    def _erase(self, ids: list[str], actor: str, action: str, detail: str) -> int:
        events = 0
        for start in range(0, len(ids), self.settings.purge_batch):
            events += self._delete(ids[start : start + self.settings.purge_batch])
        self._audit(actor, action, f"{detail}: {len(ids)} conversations, {events} events")
        return len(ids)

    def purge(self, days: int | None = None, now: datetime | None = None, budget_seconds: float | None = None) -> int:
        """Delete conversations without activity for `days`, oldest first, PURGE_BATCH at a time
        (each batch its own short transactions, so Rasa keeps writing the tracker store between
        them), until none is left or the time budget is spent (`unfinished`: run it again).
        Audited once per run; the number of conversations deleted."""
        days = self.settings.retention_days if days is None else days
        budget = self.settings.purge_time_budget_seconds if budget_seconds is None else budget_seconds
        cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
        deadline = time.monotonic() + budget
        purged = events = 0
        self.unfinished = False
        while True:
            ids = self.conversations.older_than(cutoff, limit=self.settings.purge_batch)
            if not ids:
                break
            events += self._delete(ids)
            purged += len(ids)
            if time.monotonic() >= deadline:
                self.unfinished = bool(self.conversations.older_than(cutoff, limit=1))
                break
        if purged:
            stopped = "; time budget spent, more to purge" if self.unfinished else ""
            self._audit(
                "retention", "purge", f"older than {days} days: {purged} conversations, {events} events{stopped}"
            )
        return purged

    def erase_customer(self, customer_code: str, actor: str) -> int:
        return self._erase(
            self.conversations.of_customer(customer_code),
            actor,
            "erase",
            f"customer {customer_code[:2]}**** on request",
        )

    def erase_conversations(self, ids: Iterable[str], actor: str) -> int:
        return self._erase(list(ids), actor, "erase", "conversation on request")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    purge = sub.add_parser("purge")
    purge.add_argument("--days", type=int)
    erase = sub.add_parser("erase")
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer-code")
    who.add_argument("--conversation")
    erase.add_argument("--by", required=True, help="who asked (written to the audit log)")
    args = parser.parse_args(argv)
    retention = Retention()
    if args.command == "purge":
        print(f"{retention.purge(args.days)} conversations purged")
        if retention.unfinished:
            print("time budget (PURGE_TIME_BUDGET_SECONDS) spent: run it again to purge the rest")
    elif args.customer_code:
        print(f"{retention.erase_customer(args.customer_code, args.by)} conversations erased")
    else:
        print(f"{retention.erase_conversations([args.conversation], args.by)} conversations erased")
    return 0


if __name__ == "__main__":
    sys.exit(main())
