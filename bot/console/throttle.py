"""Console login throttling: per account and per client address, with backoff and lockout.

Each attempt is counted as a failure *before* the password is checked, in one transaction that
holds the two rows (a row lock on PostgreSQL; SQLite's single writer lock, taken by the first
statement, an insert): parallel guesses cannot all read the same count, so an account gets at
most `console_lockout_failures` evaluated guesses however many arrive at once. A correct password
then gives the attempt back (the account's count is reset; the client's goes down by one).

The state lives in the support database (`console_login_throttle`), shared by every worker.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from bot.support.handoff import utcnow
from bot.support.models import AuditEntry, ConsoleLoginThrottle, StaffUser

USER, CLIENT = "user", "client"
LOGIN_AUDIT_ACTIONS = ("login_failed", "login_refused", "account_locked")


def user_key(username: str) -> str:
    return username.strip().lower()[:80]


def client_key(host: str | None) -> str:
    """The address a client is counted by: an IPv6 client by its /64, which one machine
    usually owns whole (counting single addresses would give it 2^64 fresh counts)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:80]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass(frozen=True)
class Refusal:
    reason: str  # "locked" | "throttled"
    retry_after: int  # seconds; 0 when only a supervisor can lift it


@dataclass(frozen=True)
class Attempt:
    """An attempt allowed and already counted as a failure."""

    user: str
    client: str
    client_blocked_before: datetime | None
    client_blocked_set: datetime | None
    locks: bool  # this attempt, if wrong, locks the account


class LoginThrottle:
    def __init__(self, sessions: sessionmaker, settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    def _delay(self, failures: int, free: int) -> timedelta | None:
        if failures <= free:
            return None
        seconds = self.settings.console_login_backoff_seconds * 2 ** min(failures - free - 1, 30)
        return timedelta(seconds=min(seconds, self.settings.console_login_backoff_max_seconds))

    def _rows(self, session: Session, keys: list[tuple[str, str]]) -> dict[str, ConsoleLoginThrottle]:
        dialect = session.get_bind().dialect.name
        for kind, key in keys:
            values = {"kind": kind, "key": key, "failures": 0}
            if dialect in ("sqlite", "postgresql"):
                if dialect == "sqlite":
                    from sqlalchemy.dialects.sqlite import insert
                else:
                    from sqlalchemy.dialects.postgresql import insert
                # a write statement even when the row exists: on SQLite it takes the writer lock
                session.execute(insert(ConsoleLoginThrottle).values(**values).on_conflict_do_nothing())
            else:
                try:
                    with session.begin_nested():
                        session.add(ConsoleLoginThrottle(**values))
                except IntegrityError:
                    pass
        rows = (
            session.execute(
                select(ConsoleLoginThrottle)
                .where(
                    ConsoleLoginThrottle.kind.in_([k for k, _ in keys]),
                    ConsoleLoginThrottle.key.in_([k for _, k in keys]),
                )
                .with_for_update()
            )
            .scalars()
            .all()
        )
        return {row.kind: row for row in rows if (row.kind, row.key) in keys}

    def begin(self, username: str, client_host: str | None) -> Attempt | Refusal:
        user, client = user_key(username), client_key(client_host)
        now = utcnow()
        with self.sessions() as session, session.begin():
            rows = self._rows(session, [(USER, user), (CLIENT, client)])
            account, origin = rows[USER], rows[CLIENT]
            window = timedelta(minutes=self.settings.console_client_window_minutes)
            if (
                origin.last_failure_at
                and origin.last_failure_at < now - window
                and not (origin.blocked_until and origin.blocked_until > now)
            ):
                origin.failures = 0
            if account.locked_at is not None:
                return Refusal("locked", 0)
            blocked = max([b for b in (account.blocked_until, origin.blocked_until) if b] or [now])
            if blocked > now:
                return Refusal("throttled", max(1, int((blocked - now).total_seconds() + 0.999)))
            before = origin.blocked_until
            for row, free in (
                (account, self.settings.console_login_free_failures),
                (origin, self.settings.console_client_free_failures),
            ):
                row.failures += 1
                row.last_failure_at = now
                delay = self._delay(row.failures, free)
                row.blocked_until = now + delay if delay else row.blocked_until
            locks = account.failures >= self.settings.console_lockout_failures
            if locks:
                account.locked_at = now
            return Attempt(user, client, before, origin.blocked_until, locks)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the attempt was not a failure after all."""
        with self.sessions() as session, session.begin():
            session.execute(
                update(ConsoleLoginThrottle)
                .where(ConsoleLoginThrottle.kind == USER, ConsoleLoginThrottle.key == attempt.user)
                .values(failures=0, blocked_until=None, locked_at=None, last_failure_at=None)
            )
            origin = session.execute(
                select(ConsoleLoginThrottle)
                .where(ConsoleLoginThrottle.kind == CLIENT, ConsoleLoginThrottle.key == attempt.client)
                .with_for_update()
            ).scalar_one_or_none()
            if origin is not None:
                origin.failures = max(origin.failures - 1, 0)
                if origin.blocked_until == attempt.client_blocked_set:  # nobody failed since
                    origin.blocked_until = attempt.client_blocked_before

    def unlock(self, username: str) -> bool:
        with self.sessions() as session, session.begin():
            return (
                session.execute(
                    update(ConsoleLoginThrottle)
                    .where(ConsoleLoginThrottle.kind == USER, ConsoleLoginThrottle.key == user_key(username))
                    .values(failures=0, blocked_until=None, locked_at=None)
                ).rowcount
                > 0
            )

    # ------------------------------------------------------------------ for supervisors
    def locked_accounts(self) -> list[dict[str, Any]]:
        """Locked accounts that exist (a name typed for no account is locked too, so that a lock
        does not tell whether an account exists, but nobody needs to unlock it)."""
        with self.sessions() as session:
            users = {u.username.lower(): u.username for u in session.execute(select(StaffUser)).scalars()}
            rows = (
                session.execute(
                    select(ConsoleLoginThrottle)
                    .where(ConsoleLoginThrottle.kind == USER, ConsoleLoginThrottle.locked_at.is_not(None))
                    .order_by(ConsoleLoginThrottle.locked_at.desc())
                )
                .scalars()
                .all()
            )
        return [
            {
                "username": users[row.key],
                "locked_at": row.locked_at.isoformat(timespec="seconds"),
                "failures": row.failures,
            }
            for row in rows
            if row.key in users
        ]

    def recent_failures(self, since: datetime, limit: int = 50) -> list[dict[str, Any]]:
        with self.sessions() as session:
            entries = (
                session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.action.in_(LOGIN_AUDIT_ACTIONS), AuditEntry.at >= since)
                    .order_by(AuditEntry.id.desc())
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        return [
            {"at": e.at.isoformat(timespec="seconds"), "username": e.actor, "action": e.action, "detail": e.detail}
            for e in entries
        ]
