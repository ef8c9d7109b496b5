"""A per-process cache of conversation trackers, validated against the tracker store (issue 15).

Rasa rebuilds a conversation for every message: it reads every event of the session from SQL,
decodes the JSON, builds an event object per row and replays them all. Profiled on one 300-turn
REST conversation (bench/turn_cost.py with py-spy) that was 55% of the Rasa server's time, and
it grows with the session: turn 300 cost ten times turn 1.

Here the tracker a turn saved stays in this process, with the store's stamp for the
conversation at that moment: how many rows it has and its highest row id. The next `retrieve`
asks the store for the stamp (one indexed aggregate query) and:

- same stamp: the cached tracker is the conversation; it is handed out as is;
- more rows, all after the cached ones (another replica served a turn meanwhile): only those
  rows are read and applied to the cached tracker;
- anything else (rows deleted by the retention purge, a new session started elsewhere, a
  count that does not add up): the tracker is rebuilt from the store, as Rasa does.

Correctness rests on three rules:

1. An entry is taken out of the cache when it is handed out, and put back only by a successful
   `save` of that tracker. A turn that fails half-way (action error, database down) leaves no
   entry: the next turn reads the store. Two readers never share one tracker object.
2. The stamp is read in the transaction that wrote the turn's events and is kept only if it is
   exactly "the rows the tracker had + the rows this save added": if another writer slipped a
   row in, nothing is cached.
3. On a hit the tracker must still be the object that was saved: same number of events, same last
   event (a caller that appended events after saving, without saving them, gets a reload).

The lock store serialises a conversation's turns across replicas, so a replica that missed
turns sees a larger stamp and catches up; nothing here replaces the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker


@dataclass(frozen=True)
class Stamp:
    """The store's rows of one conversation (every session): how many, and the highest id."""

    rows: int
    last_id: int


@dataclass
class Entry:
    tracker: DialogueStateTracker
    stamp: Stamp
    events: int  # len(tracker.events) when it was saved
    last_event: Event | None

    def intact(self) -> bool:
        """The tracker has not changed since it was saved."""
        events = self.tracker.events
        return len(events) == self.events and (events[-1] if events else None) is self.last_event


class TrackerCache:
    """Least recently saved conversations, at most `size` of them (0 turns the cache off)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        # Rasa's store methods are called from the event loop, the console's API from threads
        self._lock = threading.Lock()
        self.hits = self.partial = self.misses = 0

    def take(self, sender_id: str) -> Entry | None:
        """The conversation's entry, removed from the cache (the caller owns the tracker now)."""
        with self._lock:
            entry = self._entries.pop(sender_id, None)
        if entry is not None and not entry.intact():
            return None
        return entry

    def put(self, tracker: DialogueStateTracker, stamp: Stamp) -> None:
        if self.size <= 0:
            return
        events = tracker.events
        entry = Entry(tracker, stamp, len(events), events[-1] if events else None)
        with self._lock:
            self._entries[tracker.sender_id] = entry
            self._entries.move_to_end(tracker.sender_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, sender_id: str) -> None:
        with self._lock:
            self._entries.pop(sender_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
