"""The live channel's housekeeping thread (one per web process), every second or on request:

- the log sweep: events the stream did not bring (an XADD that failed while Redis was down, a
  stream that restarted empty or was trimmed past us, ids still missing below the newest seen)
  are read from the log and fanned out like stream events;
- the watermark settles (ids missing longer than ``live_settle_s`` count as rolled back);
- every ``live_revalidate_s``: each socket's principal is loaded again; a deactivated user, a
  revoked token or a changed tenant/site/role closes its sockets;
- the stall watchdog cuts sockets stuck in one send for ``live_send_timeout_s``."""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from backend.auth.users import load_principal
from backend.live import log as event_log
from backend.live.audience import Audience
from backend.live.envelopes import LiveEvent
from backend.live.metrics import METRICS
from backend.live.protocol import CLOSE_SESSION_ENDED

if TYPE_CHECKING:
    from backend.live.connection import Connection
    from backend.live.hub import LiveHub

log = logging.getLogger(__name__)

TICK_S = 1.0
SWEEP_MAX = 5000       # more unseen events than this in one sweep: resync everyone instead
MAX_HOLES_PER_QUERY = 1000


class Maintenance:
    def __init__(self, hub: LiveHub) -> None:
        self._hub = hub
        self._next_revalidation = time.monotonic() + hub.settings.live_revalidate_s

    def run(self) -> None:
        while not self._hub.stopping.is_set():
            self._hub.wait_for_sweep_request(TICK_S)
            if self._hub.stopping.is_set():
                return
            for task in (self.sweep, self.watchdog, self.revalidate_when_due):
                try:
                    task()
                except SQLAlchemyError as exc:
                    log.warning("live maintenance: database unavailable (%s); retrying", exc)
                except Exception:  # noqa: BLE001 - housekeeping must outlive any single failure
                    log.exception("live maintenance: %s failed", task.__name__)

    def sweep(self) -> None:
        missing, max_seen = self._hub.sweep_targets()
        with self._hub.runtime.sessions() as session:
            found = event_log.by_ids(session, missing[:MAX_HOLES_PER_QUERY])
            tail = event_log.after(session, max_seen, SWEEP_MAX + 1)
            newest = tail[-1].id if tail else None
            events = [LiveEvent.from_entry(entry) for entry in [*found, *tail]]
        if len(tail) > SWEEP_MAX and newest is not None:
            self._hub.fell_behind(newest)
        elif events:
            self._hub.fan_out(events, from_log=True)
        self._hub.settle()

    def watchdog(self) -> None:
        now, timeout = time.monotonic(), self._hub.settings.live_send_timeout_s
        for conn in self._hub.connections():
            if conn.stalled(now, timeout):
                log.info("live socket of %s stuck in a send for %.0f s: cutting it", conn.principal_key, timeout)
                METRICS.add("closed_stalled")
                conn.cut()

    def revalidate_when_due(self) -> None:
        if time.monotonic() < self._next_revalidation:
            return
        self._next_revalidation = time.monotonic() + self._hub.settings.live_revalidate_s
        by_principal: dict[str, list[Connection]] = defaultdict(list)
        for conn in self._hub.connections():
            by_principal[conn.principal_key].append(conn)
        settings = self._hub.settings
        with self._hub.runtime.sessions() as session:
            for key, conns in by_principal.items():
                principal = load_principal(session, key)
                for conn in conns:
                    if principal is None or Audience.of(principal, settings) != conn.audience:
                        conn.request_close(CLOSE_SESSION_ENDED, "session ended" if principal is None
                                           else "access changed")
