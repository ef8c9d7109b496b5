"""`Idempotency-Key` on the POSTs that create: a retry gets the first answer, nothing is made twice.

A key is scoped to its route (`POST /v1/bills/F…/deferrals`); the same key with another body is
a 422, not a replay. Answers are kept IDEMPOTENCY_RETENTION_HOURS: an older key is a new request.
bot/billing/seed.py drops the demo bills' answers with the bills (it builds the same scopes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.billing.api.deps import SessionDep, SettingsDep
from bot.billing.api.errors import ApiError
from bot.billing.models import IdempotencyRecord

MAX_KEY_LENGTH = 100


class Idempotency:
    """A route's dependency: `run(body, create)` calls `create` once per key and request body.

    Nothing is checked when the dependency is built: a bad key is refused in `run`, after the
    route has checked the bill and its owner, as before the routes were split.
    """

    def __init__(
        self,
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        idempotency_key: str | None = Header(None),
    ) -> None:
        self.request, self.session, self.key = request, session, idempotency_key
        self.retention = timedelta(hours=settings.idempotency_retention_hours)

    def run(self, body: dict[str, Any], create: Callable[[], Any], status: int = 201) -> JSONResponse:
        """Create (in the request's session, committed here) or replay the stored answer."""
        key, session = self.key, self.session
        if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 100 characters.")
        scope = f"{self.request.method} {self.request.url.path}"
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if key is not None:
            # Answers are kept for the retention only: an expired key is a new request.
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - self.retention))
            session.commit()
            previous = self._replay(key, scope, digest)
            if previous is not None:
                return previous
        try:
            content = jsonable_encoder(create())
            if key is not None:
                session.add(
                    IdempotencyRecord(
                        key=key, scope=scope, request_hash=digest, status_code=status, body=content, created_at=now
                    )
                )
            session.commit()
        except (ApiError, IntegrityError) as error:
            # A concurrent request with the same key may have completed meanwhile (and made this
            # one ineligible, or collided with it on a unique constraint): its answer is the answer.
            session.rollback()
            previous = self._replay(key, scope, digest) if key is not None else None
            if previous is not None:
                return previous
            if isinstance(error, ApiError):
                raise
            raise ApiError(409, "conflict", "The request conflicts with another one; retry.") from error
        return JSONResponse(status_code=status, content=content)

    def _replay(self, key: str, scope: str, digest: str) -> JSONResponse | None:
        record = self.session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.key == key, IdempotencyRecord.scope == scope)
        ).scalar_one_or_none()
        if record is None:
            return None
        if record.request_hash != digest:
            raise ApiError(422, "idempotency_key_reused", "This Idempotency-Key was used for a different request.")
        return JSONResponse(status_code=record.status_code, content=record.body, headers={"Idempotent-Replay": "true"})


IdempotencyDep = Annotated[Idempotency, Depends()]
