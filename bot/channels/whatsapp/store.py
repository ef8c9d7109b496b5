"""WhatsApp state in the support database: message ids seen, contacts, messages waiting or
sent, Meta's errors. Blocking calls: the channel runs them through `asyncio.to_thread`.

Every write that two webhooks may race on is one atomic statement (INSERT ... ON CONFLICT DO
NOTHING, a conditional UPDATE), the same on SQLite and PostgreSQL: two first messages of a new
customer arriving together must both be processed, never fail on the contact's primary key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import session_factory
from bot.support.db import make_engine, upgrade_schema
from bot.support.models import WhatsAppContact, WhatsAppDelivery, WhatsAppOutbound, WhatsAppProblem

# a pending message tried at this many inbound messages without success is given up (and shown)
MAX_DELIVERY_ATTEMPTS = 3


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Contact:
    wa_id: str
    last_inbound_at: datetime | None
    phone_number_id: str | None


def _insert_ignore(session: Session, model: Any, values: dict[str, Any]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING: the number of rows inserted (0 when it existed)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return int(result.rowcount or 0)


class DeliveryStore:
    def __init__(self, url: str | None = None) -> None:
        upgrade_schema(url)
        self._sessions = session_factory(make_engine(url))

    # ------------------------------------------------------------------ inbound
    def first_delivery(self, message_id: str) -> bool:
        """True the first time a message id is seen (Meta redelivers on timeouts)."""
        with self._sessions() as session, session.begin():
            return _insert_ignore(session, WhatsAppDelivery, {"message_id": message_id, "received_at": utcnow()}) == 1

    def touch(
        self, wa_id: str, conversation: str, written_at: datetime | None = None, phone_number_id: str | None = None
    ) -> None:
        """`wa_id` wrote at `written_at` (their timestamp) to `conversation`: the window reopens
        from that moment (never moved back by an older message) and a later closed window may
        send its template again."""
        at = written_at or utcnow()
        with self._sessions() as session, session.begin():
            _insert_ignore(session, WhatsAppContact, {"wa_id": wa_id, "conversation_id": conversation})
            later = case(
                (WhatsAppContact.last_inbound_at.is_(None), at),
                (WhatsAppContact.last_inbound_at < at, at),
                else_=WhatsAppContact.last_inbound_at,
            )
            values: dict[str, Any] = {
                "last_inbound_at": later,
                "conversation_id": conversation,
                "template_sent_at": None,
            }
            if phone_number_id:
                values["phone_number_id"] = phone_number_id
            session.execute(update(WhatsAppContact).where(WhatsAppContact.wa_id == wa_id).values(**values))

    def recipient(self, conversation: str) -> Contact | None:
        """The number of a conversation this channel created, when it last wrote, and to which
        business number."""
        with self._sessions() as session:
            contact = session.execute(
                select(WhatsAppContact).where(WhatsAppContact.conversation_id == conversation)
            ).scalar_one_or_none()
            return Contact(contact.wa_id, contact.last_inbound_at, contact.phone_number_id) if contact else None

    def conversation_of(self, wa_id: str) -> str | None:
        with self._sessions() as session:
            contact = session.get(WhatsAppContact, wa_id)
            return contact.conversation_id if contact else None

    def remember_options(self, conversation: str, options: list[tuple[str, str]] | None) -> None:
        """The (payload, title) pairs offered as a numbered text list."""
        with self._sessions() as session, session.begin():
            session.execute(
                update(WhatsAppContact)
                .where(WhatsAppContact.conversation_id == conversation)
                .values(numbered_options=[list(option) for option in options] if options else None)
            )

    def numbered_choice(self, wa_id: str, text: str) -> tuple[str, str | None] | None:
        """The payload (and title) behind "2" when the last message offered numbered options."""
        choice = text.strip()
        if not (choice.isdecimal() and len(choice) <= 2):  # isdigit() admits "²", which int() refuses
            return None
        with self._sessions() as session:
            contact = session.get(WhatsAppContact, wa_id)
            options = contact.numbered_options if contact else None
        index = int(choice) - 1
        if not options or not 0 <= index < len(options):
            return None
        option = options[index]
        # older rows hold bare payloads
        return (str(option[0]), str(option[1])) if isinstance(option, list) else (str(option), None)

    # ------------------------------------------------------------------ outbound
    def hold(self, conversation: str, body: dict[str, Any]) -> int:
        """Keep a message for delivery when the customer writes again."""
        with self._sessions() as session, session.begin():
            row = WhatsAppOutbound(
                conversation_id=conversation, body=body, state="pending", attempts=0, created_at=utcnow()
            )
            session.add(row)
            session.flush()
            return int(row.id)

    def claim_template(self, conversation: str) -> bool:
        """True once per closed window (until the customer writes again): who sends the template."""
        with self._sessions() as session, session.begin():
            result = session.execute(
                update(WhatsAppContact)
                .where(WhatsAppContact.conversation_id == conversation, WhatsAppContact.template_sent_at.is_(None))
                .values(template_sent_at=utcnow())
            )
            return bool(result.rowcount)

    def release_template(self, conversation: str) -> None:
        """The template could not be sent: the next held message tries again."""
        with self._sessions() as session, session.begin():
            session.execute(
                update(WhatsAppContact)
                .where(WhatsAppContact.conversation_id == conversation)
                .values(template_sent_at=None)
            )

    def pending(self, conversation: str) -> list[tuple[int, dict[str, Any]]]:
        with self._sessions() as session:
            rows = session.execute(
                select(WhatsAppOutbound.id, WhatsAppOutbound.body)
                .where(WhatsAppOutbound.conversation_id == conversation, WhatsAppOutbound.state == "pending")
                .order_by(WhatsAppOutbound.id)
            ).all()
            return [(int(row_id), body) for row_id, body in rows if body]

    def sent(self, conversation: str, body: dict[str, Any], wamid: str | None, row_id: int | None = None) -> None:
        """A message Meta accepted (kept until delivered, to hold it again if Meta fails it later)."""
        with self._sessions() as session, session.begin():
            row = session.get(WhatsAppOutbound, row_id) if row_id else None
            if row is None:
                row = WhatsAppOutbound(conversation_id=conversation, body=body, attempts=0, created_at=utcnow())
                session.add(row)
            row.state, row.wamid, row.sent_at = "sent", wamid, utcnow()
            row.attempts = (row.attempts or 0) + 1

    def not_sent(self, row_id: int) -> None:
        """A pending message failed once more; after MAX_DELIVERY_ATTEMPTS it is given up."""
        with self._sessions() as session, session.begin():
            row = session.get(WhatsAppOutbound, row_id)
            if row is not None:
                row.attempts = (row.attempts or 0) + 1
                if row.attempts >= MAX_DELIVERY_ATTEMPTS:
                    row.state = "failed"

    def delivered(self, wamids: Iterable[str]) -> None:
        """Meta delivered these: their bodies are no longer needed."""
        ids = list(wamids)
        if not ids:
            return
        with self._sessions() as session, session.begin():
            session.execute(
                update(WhatsAppOutbound)
                .where(WhatsAppOutbound.wamid.in_(ids), WhatsAppOutbound.state == "sent")
                .values(state="delivered", body=None)
            )

    def hold_again(self, wamid: str) -> tuple[str, dict[str, Any]] | None:
        """Meta failed a sent message because the window had closed: pending again; its
        conversation and body."""
        with self._sessions() as session, session.begin():
            row = session.execute(
                select(WhatsAppOutbound).where(WhatsAppOutbound.wamid == wamid, WhatsAppOutbound.body.is_not(None))
            ).scalar_one_or_none()
            if row is None:
                return None
            row.state = "pending"
            return str(row.conversation_id), dict(row.body)

    def failed(self, wamid: str) -> None:
        with self._sessions() as session, session.begin():
            session.execute(update(WhatsAppOutbound).where(WhatsAppOutbound.wamid == wamid).values(state="failed"))

    def problem(
        self,
        conversation: str | None,
        source: str,
        http_status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        title: str = "",
        fbtrace_id: str | None = None,
    ) -> None:
        with self._sessions() as session, session.begin():
            session.add(
                WhatsAppProblem(
                    at=utcnow(),
                    conversation_id=conversation,
                    source=source,
                    http_status=http_status,
                    code=code,
                    subcode=subcode,
                    title=title[:200] or None,
                    fbtrace_id=fbtrace_id,
                )
            )
