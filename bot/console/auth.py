"""Staff accounts and console sessions.

Passwords: scrypt (hashlib) with a random salt. Sessions: a random token in an HttpOnly,
SameSite=Strict cookie; the database keeps only its SHA-256. Every state-changing request
carries the session's CSRF token (header X-CSRF-Token); the login form a pre-session token
(double-submit cookie). Tokens are compared in constant time. Logins are throttled per account
and per client (bot/console/throttle.py) and every failure is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from bot.console.throttle import LoginThrottle, Refusal, client_key
from bot.support.handoff import utcnow
from bot.support.models import AuditEntry, StaffSession, StaffUser

ROLES = ("agent", "supervisor")
COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    role: str
    csrf_token: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def create_user(sessions, username: str, password: str, role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if len(password) < 10:
        raise ValueError("the password must be at least 10 characters long")
    with sessions() as session, session.begin():
        if session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none():
            raise ValueError(f"user {username!r} exists already")
        session.add(StaffUser(username=username, password_hash=hash_password(password), role=role, created_at=utcnow()))


@dataclass(frozen=True)
class LoginResult:
    token: str | None = None
    error: str | None = None  # "wrong" | "throttled" | "locked"
    retry_after: int = 0


UNKNOWN_ACTOR = "(unknown account)"


def _audit(sessions, actor: str, action: str, detail: str) -> None:
    with sessions() as session, session.begin():
        session.add(AuditEntry(at=utcnow(), actor=actor, action=action, conversation_id=None, detail=detail))


def login(
    sessions, throttle: LoginThrottle, username: str, password: str, client_host: str | None, hours: int
) -> LoginResult:
    """A new session for valid credentials, unless the account or the client is throttled.
    Every failure is audited; the audit names the account only when it exists (a name typed by
    mistake may be a password)."""
    with sessions() as session:
        user = session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
    actor = user.username if user else UNKNOWN_ACTOR
    client = client_key(client_host)
    attempt = throttle.begin(username, client_host)
    if isinstance(attempt, Refusal):
        _audit(sessions, actor, "login_refused", f"{attempt.reason}; client {client}")
        return LoginResult(error=attempt.reason, retry_after=attempt.retry_after)
    if user is None:
        hash_password(password)  # same time whether the user exists or not
        valid = False
    else:
        valid = verify_password(password, user.password_hash)
    if not valid:
        _audit(sessions, actor, "login_failed", f"wrong credentials; client {client}")
        if attempt.locks:
            _audit(
                sessions,
                actor,
                "account_locked",
                f"after {throttle.settings.console_lockout_failures} consecutive failures; client {client}",
            )
        return LoginResult(error="wrong")
    throttle.succeeded(attempt)
    token = secrets.token_urlsafe(32)
    with sessions() as session, session.begin():
        session.add(
            StaffSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(24),
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(hours=hours),
            )
        )
    return LoginResult(token=token)


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens (bytes: compare_digest refuses non-ASCII str)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


def member_for(sessions, token: str | None) -> StaffMember | None:
    if not token:
        return None
    with sessions() as session:
        row = session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.token_hash == _token_hash(token))
        ).first()
        if row is None or row.StaffSession.expires_at < utcnow():
            return None
        return StaffMember(row.StaffUser.id, row.StaffUser.username, row.StaffUser.role, row.StaffSession.csrf_token)


def logout(sessions, token: str) -> None:
    with sessions() as session, session.begin():
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
