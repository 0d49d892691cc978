"""The live channel of one web process: the registry of open sockets, the fan-out, and the two
threads that feed it (the Redis stream listener and the maintenance loop).

Threads start with the first socket, never at import or app creation: gunicorn's --preload
forks after create_app, and threads do not survive a fork. A hub that finds itself in a new
process (pid changed) starts over there."""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from flask import Flask

from backend.config import Settings
from backend.live import log as event_log
from backend.live.audience import Audience
from backend.live.connection import Chunk, Connection
from backend.live.envelopes import LiveEvent
from backend.live.metrics import METRICS
from backend.live.protocol import CLOSE_GOING_AWAY, CLOSE_SESSION_ENDED, ResyncReason
from backend.live.tracker import DeliveryTracker
from backend.models import utcnow
from backend.runtime import Runtime

log = logging.getLogger(__name__)

START_TAIL_ROWS = 1000  # newest log rows a starting listener looks at (see DeliveryTracker.from_log_tail)
THREAD_STOP_S = 3.0     # the listener wakes from XREAD BLOCK within a second


class LiveHub:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._start_lock = threading.Lock()
        self._lock = threading.Lock()  # registry + tracker; held briefly (no I/O under it)
        self._pid: int | None = None
        self._audiences: dict[int, dict[Audience, set[Connection]]] = {}
        self._tracker = DeliveryTracker(0, settle_s=1.0)
        self._stopping = threading.Event()
        self._sweep_now = threading.Event()
        self._threads: list[threading.Thread] = []
        self._slots_lock = threading.Lock()
        self._handlers = 0        # socket threads inside serve_socket (stop() waits for them)
        self._refusing = False    # stopped (or stopping): new sockets are turned away
        # Published after the chunks it covers are queued, so a socket thread that reads it and
        # then finds its outbox empty knows every event up to it was sent (the heartbeat cursor).
        self.watermark = 0
        # Names this process in "ready" messages and in Redis CLIENT LIST (ops: which process is it).
        self.node = secrets.token_hex(4)

    # -- what the rest of the package uses ------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        return self._app.extensions["noc_runtime"]  # looked up late: tests swap the runtime

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def ensure_started(self) -> None:
        if self._pid == os.getpid():
            if not self._stopping.is_set() and not all(thread.is_alive() for thread in self._threads):
                self._revive_threads()
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # A fork carried the parent's registry, locks and thread objects over, not its threads.
            self._lock, self._sweep_now, self._stopping = threading.Lock(), threading.Event(), threading.Event()
            self._audiences, self.node = {}, secrets.token_hex(4)
            with self.runtime.sessions() as session:
                newest = event_log.newest(session, START_TAIL_ROWS)
            self._tracker = DeliveryTracker.from_log_tail(newest, utcnow(), self.settings.live_settle_s)
            self.watermark = self._tracker.watermark
            self._threads = [self._listener_thread(), self._maintenance_thread()]
            for thread in self._threads:
                thread.start()
            self._pid = os.getpid()
            log.info("live channel started in pid %d (node %s) at watermark %d", self._pid, self.node,
                     self.watermark)

    def _listener_thread(self) -> threading.Thread:
        from backend.live.listener import StreamListener
        return threading.Thread(target=StreamListener(self).run, name="noc-live-listener", daemon=True)

    def _maintenance_thread(self) -> threading.Thread:
        from backend.live.maintenance import Maintenance
        return threading.Thread(target=Maintenance(self).run, name="noc-live-maintenance", daemon=True)

    def _revive_threads(self) -> None:
        """Restart a listener or maintenance thread that died (both catch every Exception, so
        only something like a SystemExit raised into the thread gets here). Its replacement
        starts at the stream's tips and a log sweep delivers what arrived meanwhile: sockets
        miss nothing. Checked whenever a socket connects."""
        with self._start_lock:
            for index, (thread, make) in enumerate(zip(self._threads, (self._listener_thread, self._maintenance_thread))):
                if not thread.is_alive():
                    log.error("live channel: %s thread died; restarting it", thread.name)
                    self._threads[index] = make()
                    self._threads[index].start()
            self.request_sweep()

    def stop(self, timeout: float = 10.0) -> None:
        """Close every socket ("going away": clients reconnect elsewhere), wait for their threads
        and stop the listener and maintenance threads; from then on, sockets are turned away.
        For tests and tools that run an app in their own process; gunicorn workers just exit."""
        with self._slots_lock:
            self._refusing = True
        deadline = time.monotonic() + timeout
        while self._handlers and time.monotonic() < deadline:
            for conn in self.connections():  # again each round: one may have registered since
                conn.request_close(CLOSE_GOING_AWAY, "server stopping")
            time.sleep(0.05)
        self._stopping.set()
        self._sweep_now.set()
        for thread in self._threads:
            thread.join(THREAD_STOP_S)

    @contextmanager
    def handler_slot(self) -> Iterator[bool]:
        """Around a socket's whole life: False (turn it away) while stopping."""
        with self._slots_lock:
            accepted = not self._refusing
            self._handlers += 1
        try:
            yield accepted
        finally:
            with self._slots_lock:
                self._handlers -= 1

    def register(self, conn: Connection) -> int:
        """Start queuing events for ``conn``; returns the watermark at that moment: every event
        up to it was handed out before, so it is in the log for a replay."""
        with self._lock:
            self._audiences.setdefault(conn.audience.tenant_id, {}).setdefault(conn.audience, set()).add(conn)
            METRICS.connection_opened()
            return self.watermark

    def unregister(self, conn: Connection) -> None:
        with self._lock:
            tenant = self._audiences.get(conn.audience.tenant_id, {})
            members = tenant.get(conn.audience)
            if members is None or conn not in members:
                return
            members.discard(conn)
            if not members:
                del tenant[conn.audience]
            if not tenant:
                self._audiences.pop(conn.audience.tenant_id, None)
            METRICS.connection_closed()

    def fan_out(self, events: Sequence[LiveEvent], from_log: bool = False) -> None:
        """Hand events to every socket that may see them, each event at most once per process
        (the stream and the log sweep may both bring it)."""
        with self._lock:
            fresh = [event for event in events if self._tracker.admit(event.id)]
            if len(fresh) < len(events):
                METRICS.add("duplicates_ignored", len(events) - len(fresh))
            if fresh:
                METRICS.add("events_received", len(fresh))
                if from_log:
                    METRICS.add("events_from_log", len(fresh))
                self._dispatch(fresh, self._tracker.watermark)
            self.watermark = self._tracker.watermark

    def _dispatch(self, events: list[LiveEvent], watermark: int) -> None:
        by_tenant: dict[int, list[LiveEvent]] = defaultdict(list)
        for event in events:
            by_tenant[event.tenant].append(event)
        for tenant_id, tenant_events in by_tenant.items():
            for audience, members in self._audiences.get(tenant_id, {}).items():
                visible = tuple(event for event in tenant_events if audience.sees(event))
                if not visible:
                    continue
                chunk = Chunk(visible, tuple(event.text_for(audience.redacted) for event in visible), watermark)
                written = sum(conn.offer(chunk) for conn in members)
                if written:
                    now = time.time()
                    METRICS.delivered([(now - event.published_at) * 1000 for event in visible
                                       if event.published_at is not None], copies=written)

    # -- for the maintenance loop ----------------------------------------------------------

    def sweep_targets(self) -> tuple[list[int], int]:
        """(ids missing below the newest seen, the newest seen id) for the log sweep."""
        with self._lock:
            return self._tracker.missing(), self._tracker.max_seen

    def settle(self) -> None:
        with self._lock:
            self._tracker.settle()
            self.watermark = self._tracker.watermark

    def fell_behind(self, newest_id: int) -> None:
        """Too much missed to catch up event by event: resync every socket from the log."""
        with self._lock:
            self._tracker.reset(newest_id)
            self.watermark = self._tracker.watermark
            members = self._all_locked()
        log.warning("live listener fell behind; resyncing %d sockets at %d", len(members), self.watermark)
        for conn in members:
            conn.resync(ResyncReason.SERVER_BEHIND, self.watermark)

    def connections(self) -> list[Connection]:
        with self._lock:
            return self._all_locked()

    def close_principal(self, principal_key: str, reason: str) -> int:
        closing = [conn for conn in self.connections() if conn.principal_key == principal_key]
        for conn in closing:
            conn.request_close(CLOSE_SESSION_ENDED, reason)
        return len(closing)

    def request_sweep(self) -> None:
        self._sweep_now.set()

    def wait_for_sweep_request(self, timeout: float) -> None:
        self._sweep_now.wait(timeout)
        self._sweep_now.clear()

    def _all_locked(self) -> list[Connection]:
        return [conn for tenant in self._audiences.values() for members in tenant.values() for conn in members]
