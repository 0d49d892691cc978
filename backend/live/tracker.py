"""Which event ids this web process has fanned out, and the *watermark* clients resume from.

Event ids come from a database sequence, but transactions commit in any order: id 11 can be
published while id 10 is still uncommitted, and 10 shows up a moment later (or never, if its
transaction rolls back). A client that resumed from "the highest id I saw" could skip 10. So
the cursor we give clients is the watermark: the highest id W such that every id <= W has been
fanned out here, or has stayed missing for ``settle_s`` (taken as rolled back). Ids above W that
were already fanned out are re-sent on resume (clients drop ids they have; the protocol says so).

A late commit older than ``settle_s`` is still fanned out to connected sockets when it arrives;
only a client that disconnected in that window and resumed past it would miss it (documented)."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

MAX_HOLES = 10_000  # a gap wider than this (a sequence jump) is not tracked id by id


class DeliveryTracker:
    def __init__(self, watermark: int, settle_s: float, retain_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.watermark = watermark
        self.max_seen = watermark
        self._settle_s = settle_s
        # Recently fanned-out ids catch the stream and the log sweep delivering the same event;
        # kept long enough to outlive any such race, then forgotten (memory stays bounded).
        self._retain_s = retain_s if retain_s is not None else max(60.0, 6 * settle_s)
        self._clock = clock
        self._recent: dict[int, float] = {}  # id -> when fanned out (insertion order = time order)
        self._holes: dict[int, float] = {}   # ids in (watermark, max_seen] not seen yet -> since when

    @classmethod
    def from_log_tail(cls, newest: Iterable[tuple[int, datetime]], now: datetime, settle_s: float,
                      clock: Callable[[], float] = time.monotonic) -> "DeliveryTracker":
        """Start from the newest log rows (id, created_at), newest first: the watermark is the
        newest id old enough to be settled; younger ids present are "seen", absent ones holes
        (they may be in flight right now, and must be fanned out when they commit)."""
        rows = list(newest)
        settled_before = now - timedelta(seconds=settle_s)
        young = [event_id for event_id, created_at in rows if created_at >= settled_before]
        old = [event_id for event_id, created_at in rows if created_at < settled_before]
        if old:
            start = max(old)
        elif rows:
            start = min(event_id for event_id, _ in rows) - 1
        else:
            start = 0
        tracker = cls(start, settle_s, clock=clock)
        for event_id in sorted(event_id for event_id in young if event_id > start):
            tracker.admit(event_id)
        return tracker

    def admit(self, event_id: int) -> bool:
        """True the first time an id comes by (fan it out); False for a copy already fanned out."""
        if event_id in self._recent:
            return False
        now = self._clock()
        self._recent[event_id] = now
        if event_id > self.max_seen:
            for hole in range(max(self.max_seen + 1, event_id - MAX_HOLES), event_id):
                self._holes[hole] = now
            self.max_seen = event_id
        else:
            self._holes.pop(event_id, None)  # a late commit filling a hole (or one given up on)
        self._advance()
        return True

    def missing(self) -> list[int]:
        """Ids below the newest seen that have not come by yet (in flight, rolled back, or
        committed without reaching the stream): what the log sweep looks for."""
        return sorted(self._holes)

    def settle(self) -> None:
        """Give up on holes older than ``settle_s`` and forget old ids; call periodically."""
        now = self._clock()
        for hole in [h for h, since in self._holes.items() if now - since >= self._settle_s]:
            del self._holes[hole]
        self._advance()
        horizon = now - self._retain_s
        while self._recent:
            oldest = next(iter(self._recent))
            if self._recent[oldest] >= horizon:
                break
            del self._recent[oldest]

    def reset(self, watermark: int) -> None:
        """Jump to ``watermark`` (the listener was too far behind; its clients are resynced)."""
        self._holes.clear()
        self.watermark = self.max_seen = max(self.max_seen, watermark)

    def _advance(self) -> None:
        # Every id in (watermark, max_seen] is either a hole or seen/given up: move up to the
        # lowest hole (not id by id: a sequence jump may be huge).
        self.watermark = min(self._holes) - 1 if self._holes else self.max_seen
