"""Each customer's messages processed one at a time, in the order the customer wrote them;
different customers in parallel.

Meta does not promise to deliver a customer's messages in order, nor one webhook at a time: a
backlog comes as a burst of POSTs, and separate POSTs race. Every message goes into its
customer's queue, ordered by the customer's `timestamp` (then by arrival); one worker per
customer takes the earliest once it has waited `wait` seconds since it arrived (so that an
earlier message still in flight in another POST can overtake it) and hands it on only when
the previous one is fully processed. In one Rasa process; in the production profile Rasa's
Redis lock store also serialises each conversation across processes."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timezone

from bot.channels.whatsapp.inbound import Inbound

logger = logging.getLogger(__name__)

Entry = tuple[float, int, float, Inbound]  # (customer's timestamp, arrival number, arrival time, message)


class CustomerQueues:
    def __init__(self, handle: Callable[[Inbound], Awaitable[None]], wait: float, concurrency: int) -> None:
        self._handle, self._wait, self._concurrency = handle, wait, concurrency
        self._queues: dict[str, list[Entry]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._arrivals = itertools.count()
        self._slots: asyncio.Semaphore | None = None  # made on the server's event loop

    def put(self, message: Inbound) -> None:
        """Queue a message (call on the event loop); its customer's worker starts if idle."""
        loop = asyncio.get_running_loop()
        written = message.timestamp.replace(tzinfo=timezone.utc).timestamp() if message.timestamp else time.time()
        heapq.heappush(
            self._queues.setdefault(message.wa_id, []), (written, next(self._arrivals), loop.time(), message)
        )
        if message.wa_id not in self._workers:
            self._workers[message.wa_id] = loop.create_task(self._work(message.wa_id))

    def busy(self) -> int:
        """Customers with messages waiting or in progress."""
        return len(self._workers)

    async def drain(self) -> None:
        """Wait until every queued message is processed (tests, shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def _work(self, wa_id: str) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        loop = asyncio.get_running_loop()
        queue = self._queues[wa_id]
        try:
            while queue:
                delay = queue[0][2] + self._wait - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue  # an earlier message may have arrived meanwhile
                message = heapq.heappop(queue)[3]
                async with self._slots:
                    try:
                        await self._handle(message)
                    except Exception as error:  # noqa: BLE001 - the customer's next messages still go on
                        logger.error(
                            "WhatsApp: message of type %s not processed: %s", message.kind, type(error).__name__
                        )
        finally:
            # no await between the empty check and here: nothing can be queued in between
            del self._workers[wa_id]
            if not queue:
                self._queues.pop(wa_id, None)
