"""Staff accounts and console sessions.

Passwords: scrypt (hashlib) with a random salt. Sessions: a random token in an HttpOnly,
SameSite=Strict cookie; the database keeps only its SHA-256. Every state-changing request
carries the session's CSRF token (header X-CSRF-Token or form field csrf_token).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from sqlalchemy import delete, select

from bot.support.handoff import utcnow
from bot.support.models import StaffSession, StaffUser

ROLES = ("agent", "supervisor")
COOKIE = "console_session"
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


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
        session.add(StaffUser(username=username, password_hash=hash_password(password), role=role,
                              created_at=utcnow()))


def login(sessions, username: str, password: str, hours: int) -> Optional[str]:
    """A new session token for valid credentials, else None."""
    with sessions() as session, session.begin():
        user = session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
        if user is None:
            hash_password(password)  # same time whether the user exists or not
            return None
        if not verify_password(password, user.password_hash):
            return None
        token = secrets.token_urlsafe(32)
        session.add(StaffSession(token_hash=_token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                                 created_at=utcnow(), expires_at=utcnow() + timedelta(hours=hours)))
        return token


def member_for(sessions, token: Optional[str]) -> Optional[StaffMember]:
    if not token:
        return None
    with sessions() as session:
        row = session.execute(
            select(StaffSession, StaffUser).join(StaffUser, StaffUser.id == StaffSession.user_id)
            .where(StaffSession.token_hash == _token_hash(token))
        ).first()
        if row is None or row.StaffSession.expires_at < utcnow():
            return None
        return StaffMember(row.StaffUser.id, row.StaffUser.username, row.StaffUser.role, row.StaffSession.csrf_token)


def logout(sessions, token: str) -> None:
    with sessions() as session, session.begin():
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
