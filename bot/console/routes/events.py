"""Push to the agent desk: server-sent events (issue 14) for the queue and one conversation.

The web service runs uvicorn without websockets (`--ws none`), and SSE is plain HTTP: an
EventSource in the page, a StreamingResponse here, reconnected by the browser on its own.

- `GET /console/api/events/queue`: `queue` (every ticket row, as /console/api/queue) whenever a
  ticket arrives, is taken, transferred, closed or flagged, and `new_ticket` for each ticket that
  was not there before (the page raises the notification);
- `GET /console/api/events/conversations/{id}`: `conversation` (as /console/api/conversations/{id})
  whenever the conversation has a new event or its ticket changes.

Tickets are opened by the action server, another process, so the stream looks at the support
database every CONSOLE_PUSH_INTERVAL_SECONDS (0.5): one query per process for all the agents'
queue streams (cached for that interval), and one indexed max(id) per open conversation view.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from bot.console.auth import StaffMember
from bot.console.routes.conversation import conversation_view
from bot.console.routes.deps import Console
from bot.console.routes.queue import queue_rows

KEEP_ALIVE_SECONDS = 15
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # nginx must not buffer it


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class QueueSnapshot:
    """The queue rows, read at most once per interval however many agents are listening."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.interval = console.settings.console_push_interval_seconds
        self.rows: list[dict[str, Any]] = []
        self.at = -1e9
        self.lock: asyncio.Lock | None = None

    async def get(self) -> list[dict[str, Any]]:
        self.lock = self.lock or asyncio.Lock()
        async with self.lock:
            if time.monotonic() - self.at >= self.interval:
                self.rows = await run_in_threadpool(queue_rows, self.console)
                self.at = time.monotonic()
            return self.rows


def router(console: Console) -> APIRouter:
    routes = APIRouter()
    snapshot = QueueSnapshot(console)
    interval = console.settings.console_push_interval_seconds

    async def queue_stream(request: Request) -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        seen: set[int] | None = None
        last: Any = None
        beat = time.monotonic()
        while not await request.is_disconnected():
            rows = await snapshot.get()
            # waiting times change every second: the page counts them from created_at itself
            key = [(r["id"], r["status"], r["taken_by"], r["reason"], r["emergency"]) for r in rows]
            if key != last:
                yield sse("queue", {"tickets": rows, "now": time.time()})
                for row in rows:
                    if seen is not None and row["id"] not in seen and row["status"] == "waiting":
                        yield sse(
                            "new_ticket",
                            {
                                "id": row["id"],
                                "channel_label": row["channel_label"],
                                "reason": row["reason"],
                                "emergency": row["emergency"],
                            },
                        )
                seen = (seen or set()) | {r["id"] for r in rows}
                last, beat = key, time.monotonic()
            elif time.monotonic() - beat > KEEP_ALIVE_SECONDS:
                yield ": keep-alive\n\n"
                beat = time.monotonic()
            await asyncio.sleep(interval)

    async def conversation_stream(request: Request, conversation_id: str) -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        last: Any = None
        beat = time.monotonic()
        while not await request.is_disconnected():
            ticket = await run_in_threadpool(console.desk.open_for, conversation_id)
            event_id = await run_in_threadpool(console.conversations.last_event_id, conversation_id)
            key = (
                event_id,
                ticket.id if ticket else None,
                ticket.status if ticket else None,
                ticket.taken_by if ticket else None,
            )
            if key != last:
                yield sse("conversation", await run_in_threadpool(conversation_view, console, conversation_id))
                last, beat = key, time.monotonic()
            elif time.monotonic() - beat > KEEP_ALIVE_SECONDS:
                yield ": keep-alive\n\n"
                beat = time.monotonic()
            await asyncio.sleep(interval)

    @routes.get("/api/events/queue")
    async def queue_events(request: Request, staff: StaffMember = Depends(console.member)) -> StreamingResponse:
        return StreamingResponse(queue_stream(request), media_type="text/event-stream", headers=STREAM_HEADERS)

    @routes.get("/api/events/conversations/{shown_id}")
    async def conversation_events(
        shown_id: str, request: Request, staff: StaffMember = Depends(console.member)
    ) -> StreamingResponse:
        conversation_id = console.refs.resolve(shown_id)
        return StreamingResponse(
            conversation_stream(request, conversation_id), media_type="text/event-stream", headers=STREAM_HEADERS
        )

    return routes
