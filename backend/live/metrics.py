"""Every figure of the live channel, in one place, per web process: ``live_metrics()`` returns a
plain dict (for the /metrics endpoint of a later issue and for logs).

Counters only grow; gauges are set by whoever owns the value. Updates take one lock: they happen
per frame, not per byte, so the lock is never hot, and readers get a consistent snapshot."""
from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

# Upper bounds (ms) of the delivery-latency histogram buckets; the last bucket is open-ended.
LATENCY_BUCKETS_MS: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)

COUNTERS = (
    "connections_total",      # sockets accepted (after auth and origin checks)
    "closed_auth",            # closed because the user logged out, was deactivated or changed
    "closed_stalled",         # cut because one send blocked longer than live_send_timeout_s
    "closed_dead",            # closed because a ping got no pong
    "events_received",        # distinct events this process fanned out (stream or log sweep)
    "events_from_log",        # ... of which the log sweep found first (stream late, trimmed or down)
    "duplicates_ignored",     # stream/log copies of an event already fanned out
    "delivered",              # event deliveries written to sockets (one event to one socket)
    "frames",                 # frames written to sockets
    "replayed",               # events replayed from the log on reconnect
    "dropped",                # queued events dropped on outbox overflow
    "resyncs",                # resync messages sent (overflow, gap too old, listener too far behind)
    "listener_errors",        # Redis errors of the stream listener (it reconnects and sweeps the log)
    "control_messages",       # control stream messages handled (logout, principal changes)
)


class LiveMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._gauges: dict[str, float | int] = {"connections": 0}
        self._buckets = [0] * (len(LATENCY_BUCKETS_MS) + 1)
        self._latency_sum_ms = 0.0
        self._latency_count = 0

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counters[name] += amount

    def gauge(self, name: str, value: float | int) -> None:
        with self._lock:
            self._gauges[name] = value

    def connection_opened(self) -> None:
        with self._lock:
            self._counters["connections_total"] += 1
            self._gauges["connections"] += 1

    def connection_closed(self) -> None:
        with self._lock:
            self._gauges["connections"] -= 1

    def delivered(self, latencies_ms: Sequence[float], copies: int = 1) -> None:
        """A frame written to ``copies`` sockets: its events' publish-to-socket latencies."""
        indexes = [bisect_left(LATENCY_BUCKETS_MS, value) for value in latencies_ms]
        with self._lock:
            self._counters["frames"] += copies
            self._counters["delivered"] += len(latencies_ms) * copies
            for index in indexes:
                self._buckets[index] += copies
            self._latency_sum_ms += sum(latencies_ms) * copies
            self._latency_count += len(latencies_ms) * copies

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            buckets = {f"le_{bound:g}ms": count for bound, count in zip(LATENCY_BUCKETS_MS, self._buckets)}
            buckets["le_inf"] = self._buckets[-1]
            return {**self._counters, **self._gauges,
                    "delivery_latency_ms": {"buckets": buckets, "count": self._latency_count,
                                            "sum": round(self._latency_sum_ms, 3)}}


# The process's metrics (each gunicorn worker has its own; a /metrics endpoint reports per process).
METRICS = LiveMetrics()


def live_metrics() -> dict[str, Any]:
    """A consistent copy of this process's live-channel figures."""
    return METRICS.snapshot()
