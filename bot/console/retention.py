"""Retention and erasure of conversations (tracker store and support database, summaries
included), audited.

    python -m bot.console.retention purge [--days N]          # default RETENTION_DAYS
    python -m bot.console.retention erase --customer-code 100001 --by supervisor-name
    python -m bot.console.retention erase --conversation ID --by supervisor-name
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from typing import Iterable, List, Optional

from sqlalchemy import delete, or_

from bot.console.conversations import ConversationStore
from bot.db import session_factory
from bot.settings import Settings, get_settings
from bot.support.db import make_engine, upgrade_schema
from bot.support.handoff import utcnow
from bot.support.models import (
    AuditEntry,
    ConversationNote,
    ConversationRef,
    ConversationSummary,
    ConversationTag,
    NluCorrection,
    Ticket,
    WhatsAppContact,
)


class Retention:
    def __init__(self, settings: Optional[Settings] = None) -> None:
        self.settings = settings or get_settings()
        upgrade_schema(self.settings.support_database_url)
        self.sessions = session_factory(make_engine(self.settings.support_database_url))
        self.conversations = ConversationStore(self.settings, self.sessions)

    def _erase(self, ids: List[str], actor: str, action: str, detail: str) -> int:
        events = self.conversations.erase(ids)
        with self.sessions() as session, session.begin():
            for model in (Ticket, ConversationTag, ConversationNote, NluCorrection, ConversationSummary):
                session.execute(delete(model).where(model.conversation_id.in_(ids))
                                .execution_options(synchronize_session=False))
            # conversation ids are "wa:" HMACs since issue 10; older ones were the number itself
            session.execute(delete(WhatsAppContact).where(or_(WhatsAppContact.conversation_id.in_(ids),
                                                              WhatsAppContact.wa_id.in_(ids)))
                            .execution_options(synchronize_session=False))
            session.execute(delete(ConversationRef).where(ConversationRef.conversation_id.in_(ids))
                            .execution_options(synchronize_session=False))
            session.add(AuditEntry(at=utcnow(), actor=actor, action=action, conversation_id=None,
                                   detail=f"{detail}: {len(ids)} conversations, {events} events"))
        return len(ids)

    def purge(self, days: Optional[int] = None, now: Optional[datetime] = None) -> int:
        days = self.settings.retention_days if days is None else days
        cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
        ids = self.conversations.older_than(cutoff)
        return self._erase(ids, "retention", "purge", f"older than {days} days") if ids else 0

    def erase_customer(self, customer_code: str, actor: str) -> int:
        return self._erase(self.conversations.of_customer(customer_code), actor, "erase",
                           f"customer {customer_code[:2]}**** on request")

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
    elif args.customer_code:
        print(f"{retention.erase_customer(args.customer_code, args.by)} conversations erased")
    else:
        print(f"{retention.erase_conversations([args.conversation], args.by)} conversations erased")
    return 0


if __name__ == "__main__":
    sys.exit(main())
