"""Tables of the support database (SQLAlchemy 1.4 used in 2.0 style).

Over 300 lines: every table of one database in one declarative module, the one place Alembic
reads.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class WhatsAppDelivery(Base):
    """A WhatsApp message id seen once: Meta redelivers on timeouts, and a redelivery, even
    after a restart or on another replica, must not be processed again."""

    __tablename__ = "whatsapp_deliveries"

    message_id = Column(String(128), primary_key=True)
    received_at = Column(DateTime, nullable=False)


class WhatsAppContact(Base):
    """Per WhatsApp user: when they last wrote (the 24-hour customer-service window), the
    options last offered as a numbered text list (so that a reply "2" picks the second), and
    the opaque conversation id their messages go to ("wa:" + an HMAC of the number): the only
    way back from a conversation to the number its replies are sent to."""

    __tablename__ = "whatsapp_contacts"
    __table_args__ = (UniqueConstraint("conversation_id", name="uq_whatsapp_contacts_conversation_id"),)

    wa_id = Column(String(32), primary_key=True)
    # the customer's own timestamp of their latest message (UTC), not when the webhook arrived:
    # Meta counts the 24-hour window from it
    last_inbound_at = Column(DateTime, nullable=True)
    numbered_options = Column(JSON, nullable=True)
    conversation_id = Column(String(80), nullable=True)
    # the business number the customer wrote to: replies leave from it
    phone_number_id = Column(String(32), nullable=True)
    # the re-engagement template is sent once per closed window: later replies only wait
    template_sent_at = Column(DateTime, nullable=True)


class WhatsAppOutbound(Base):
    """A message to a WhatsApp customer that is waiting (window closed, or Meta refused it) or
    was sent. A pending message is delivered in full as soon as the customer writes again;
    the body is dropped once Meta reports the message delivered, so the table does not keep
    what the tracker already holds."""

    __tablename__ = "whatsapp_outbound"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(80), nullable=False, index=True)
    body = Column(JSON, nullable=True)
    state = Column(String(10), nullable=False, index=True)  # pending | sent | delivered | failed
    attempts = Column(Integer, nullable=False, default=0)
    wamid = Column(String(128), nullable=True, index=True)
    created_at = Column(DateTime, nullable=False)
    sent_at = Column(DateTime, nullable=True)


class WhatsAppProblem(Base):
    """An error from Meta about a conversation (a refused send, a failed delivery status, a
    webhook-level error), shown to the agent in the console: codes and Meta's titles only,
    never a number or a message text."""

    __tablename__ = "whatsapp_problems"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)
    conversation_id = Column(String(80), nullable=True, index=True)
    source = Column(String(10), nullable=False)  # send | status | webhook
    http_status = Column(Integer, nullable=True)
    code = Column(Integer, nullable=True)
    subcode = Column(Integer, nullable=True)
    title = Column(String(200), nullable=True)
    fbtrace_id = Column(String(80), nullable=True)


class StaffUser(Base):
    """A member of the support team: agent or supervisor (only supervisors reveal data)."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False, unique=True)
    password_hash = Column(String(300), nullable=False)
    role = Column(String(20), nullable=False)  # agent | supervisor
    created_at = Column(DateTime, nullable=False)


class StaffSession(Base):
    """A console login: the cookie carries a random token, the database only its hash."""

    __tablename__ = "staff_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)


class Ticket(Base):
    """A conversation handed to the support team, with what the agent needs to know."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_outcome", "outcome", "conversation_id"),  # the review's outcome filter
        Index("ix_tickets_conversation_csat", "conversation_id", "csat_asked_at"),  # the rating's ticket
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(40), nullable=True)
    status = Column(String(10), nullable=False, default="waiting")  # waiting | active | closed
    reason = Column(String(40), nullable=False)
    summary = Column(JSON, nullable=False)
    created_at = Column(DateTime, nullable=False, index=True)
    taken_at = Column(DateTime, nullable=True)
    taken_by = Column(String(80), nullable=True)
    first_reply_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True)
    outcome = Column(String(40), nullable=True)
    # issue 14: after the close the customer is asked for a 1-5 rating, recorded once
    csat_asked_at = Column(DateTime, nullable=True)
    csat_rating = Column(Integer, nullable=True)
    csat_at = Column(DateTime, nullable=True)


class AuditEntry(Base):
    """Who did what with personal data (reveals, erasures) and when."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)
    actor = Column(String(80), nullable=False)
    action = Column(String(40), nullable=False)
    conversation_id = Column(String(128), nullable=True)
    detail = Column(Text, nullable=True)


class ConversationTag(Base):
    __tablename__ = "conversation_tags"
    __table_args__ = (Index("ix_conversation_tags_tag", "tag", "conversation_id"),)  # the review's tag filter

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    tag = Column(String(40), nullable=False)
    author = Column(String(80), nullable=False)
    at = Column(DateTime, nullable=False)


class ConversationNote(Base):
    __tablename__ = "conversation_notes"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    text = Column(Text, nullable=False)
    author = Column(String(80), nullable=False)
    at = Column(DateTime, nullable=False)


class NluCorrection(Base):
    """A customer message the assistant misunderstood, with the intent it should have had."""

    __tablename__ = "nlu_corrections"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)
    text = Column(Text, nullable=False)  # masked: it goes to training data
    intent = Column(String(60), nullable=False)
    author = Column(String(80), nullable=False)
    at = Column(DateTime, nullable=False)


class ConversationSummary(Base):
    """One conversation of Rasa's tracker store, summarised for the console's review, metrics and
    retention, so that they do not read every event. Written only by `bot.support.summaries`.

    The customer code and the names from slots are kept because erasure on request finds a
    customer's conversations by code and the preview is masked with the names; the console never
    shows either. They are copies of what the tracker store holds, and go with the conversation
    when it is purged or erased. The preview is stored masked (`bot.masking.mask_text`).
    """

    __tablename__ = "conversation_summaries"
    # Issue 17: the review pages by (last, conversation_id) descending (keyset), so every filter
    # has an index that yields its rows in that order: a composite one for the channel, partial
    # ones for the flags (a flag's rows only, already ordered). See docs/console-scale.md.
    __table_args__ = (
        Index("ix_summaries_last_id", "last", "conversation_id"),
        Index("ix_summaries_channel_last_id", "channel", "last", "conversation_id"),
        Index(
            "ix_summaries_handed_off_last_id",
            "last",
            "conversation_id",
            sqlite_where=text("handed_off = 1"),
            postgresql_where=text("handed_off"),
        ),
        Index(
            "ix_summaries_verified_last_id",
            "last",
            "conversation_id",
            sqlite_where=text("verified = 1"),
            postgresql_where=text("verified"),
        ),
        Index(
            "ix_summaries_flagged_last_id",
            "last",
            "conversation_id",
            sqlite_where=text("flagged = 1"),
            postgresql_where=text("flagged"),
        ),
    )

    conversation_id = Column(String(255), primary_key=True)  # Rasa's sender_id
    # Rasa's event timestamps: seconds since the epoch
    started = Column(Float, nullable=False)
    last = Column(Float, nullable=False)
    channel = Column(String(40), nullable=True)
    user_turns = Column(Integer, nullable=False)
    intents = Column(JSON, nullable=False)  # sorted intent names
    fallback = Column(Boolean, nullable=False)
    low_confidence = Column(Boolean, nullable=False)
    handed_off = Column(Boolean, nullable=False)
    verified = Column(Boolean, nullable=False)
    customer_code = Column(String(40), nullable=True, index=True)
    names = Column(JSON, nullable=False)
    preview = Column(Text, nullable=True)
    # What makes folding idempotent and independent of order: the keys of the user turns
    # already counted, and when the values that "the latest" or "the first" event sets were set.
    turn_keys = Column(JSON, nullable=False)
    channel_at = Column(Float, nullable=True)
    customer_code_at = Column(Float, nullable=True)
    preview_at = Column(Float, nullable=True)
    # fallback or low confidence: the review's one "not understood" filter, as one indexed flag
    flagged = Column(Boolean, nullable=False, server_default=text("false"))


# ---------------------------------------------------------------------- review at scale (issue 17)
class ConversationIntent(Base):
    """An intent of a conversation (the summary's `intents`, one row each), so that the review's
    intent filter is an index lookup. Written by the fold with the summary."""

    __tablename__ = "conversation_intents"
    __table_args__ = (Index("ix_conversation_intents_intent", "intent", "conversation_id"),)

    conversation_id = Column(String(255), primary_key=True)
    intent = Column(String(100), primary_key=True)


class ConversationText(Base):
    """The masked text of one customer, bot or agent turn, for the free-text search: SQLite
    indexes it with FTS5 (`conversation_texts_fts`, kept by triggers; migration 0008), PostgreSQL
    with a GIN index on `words`, its Italian tsvector stored by the database (a generated column,
    migration 0011); both outside the models. One row per turn key, so folding a turn twice
    indexes it once."""

    __tablename__ = "conversation_texts"

    id = Column(Integer, primary_key=True)
    turn = Column(String(32), nullable=False, unique=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    at = Column(Float, nullable=False)
    text = Column(Text, nullable=False)


class DailyRollup(Base):
    """Conversations started on a day (UTC) on a channel, and how many were handed off, not
    understood, verified: the metrics page reads these rows, kept up to date by the fold (each
    summary's contribution moved, not recounted). Anonymous counts: purge leaves them."""

    __tablename__ = "daily_rollups"

    day = Column(String(10), primary_key=True)  # YYYY-MM-DD
    channel = Column(String(40), primary_key=True)  # "?" when unknown
    conversations = Column(Integer, nullable=False, default=0)
    handed_off = Column(Integer, nullable=False, default=0)
    fallback = Column(Integer, nullable=False, default=0)
    verified = Column(Integer, nullable=False, default=0)
    user_turns = Column(Integer, nullable=False, default=0)


class DailyIntent(Base):
    """Conversations started on a day in which an intent was recognised."""

    __tablename__ = "daily_intents"

    day = Column(String(10), primary_key=True)
    intent = Column(String(100), primary_key=True)
    conversations = Column(Integer, nullable=False, default=0)


class DailyHandoff(Base):
    """Handoffs opened on a day (UTC) for a reason (bot/support/handoff.py REASONS), and how many
    of them the customer rated after the close, 4 or 5 of those being "satisfied" (the CSAT).
    Moved by one when a ticket is opened or rated (bot/support/handoff.py), never recounted."""

    __tablename__ = "daily_handoffs"

    day = Column(String(10), primary_key=True)
    reason = Column(String(40), primary_key=True)
    handoffs = Column(Integer, nullable=False, default=0)
    rated = Column(Integer, nullable=False, default=0)
    satisfied = Column(Integer, nullable=False, default=0)


class SummaryFeed(Base):
    """How far the summaries have folded the tracker store's `events` table, by event id
    (embedded profile; in production the event broker feeds them)."""

    __tablename__ = "summary_feed"

    source = Column(String(40), primary_key=True)
    last_event_id = Column(Integer, nullable=False)


# ---------------------------------------------------------------------- console security
class ConsoleLoginThrottle(Base):
    """Failed console logins of one account (kind "user", key the lower-cased name typed, whether
    the account exists or not) or of one client (kind "client", key its address): the count,
    when the next attempt is allowed, and for accounts when they were locked. In the database,
    not in a process, so that every worker of the web service sees and updates the same count."""

    __tablename__ = "console_login_throttle"

    kind = Column(String(10), primary_key=True)
    key = Column(String(80), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    last_failure_at = Column(DateTime, nullable=True)
    blocked_until = Column(DateTime, nullable=True)
    locked_at = Column(DateTime, nullable=True)


class ConversationRef(Base):
    """An opaque reference for a conversation whose id is personal data (the phone number that
    WhatsApp conversations had as id before opaque ids): the console shows and links the
    reference, never the id."""

    __tablename__ = "console_conversation_refs"

    ref = Column(String(40), primary_key=True)
    conversation_id = Column(String(255), nullable=False, unique=True)


# ---------------------------------------------------------------------- agent desk (issue 14)
class CannedReply(Base):
    """A reply an agent inserts with one click: managed by supervisors (audited), with variables
    in braces ({nome}, {importo}, {scadenza}, ...) filled from the verified customer's data when
    the agent picks it (bot/console/canned.py)."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("title", name="uq_canned_replies_title"),)

    id = Column(Integer, primary_key=True)
    title = Column(String(80), nullable=False)
    body = Column(Text, nullable=False)
    created_by = Column(String(80), nullable=False)
    created_at = Column(DateTime, nullable=False)
    updated_by = Column(String(80), nullable=True)
    updated_at = Column(DateTime, nullable=True)
