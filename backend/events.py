"""Publishing typed events: one call appends to the event log (the source of truth, with a
monotonic id) and, once the caller's transaction commits, to Redis for live delivery.

If Redis is unreachable at that moment the event is still in the log; live consumers catch up
from the log by id. An event is never sent for a transaction that rolled back."""
from __future__ import annotations

import json
import logging
from typing import Any

import redis
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.enums import EventType, Severity
from backend.models import EventLogEntry, utcnow

log = logging.getLogger(__name__)

# Redis key of the live event stream (every tenant; consumers filter by the envelope's tenant).
EVENT_STREAM_KEY = "noc:events"
_PENDING = "noc_pending_events"  # session.info key: envelopes waiting for the commit


def envelope(entry: EventLogEntry) -> dict[str, Any]:
    """The one wire format of an event (see README, "Event envelope")."""
    return {"id": entry.id, "type": str(entry.type), "time": entry.created_at.isoformat(),
            "tenant": entry.tenant_id, "site": entry.site_id, "person": entry.person_id,
            "severity": str(entry.severity) if entry.severity else None, "data": entry.data}


class EventPublisher:
    def __init__(self, redis_client: redis.Redis, stream_maxlen: int) -> None:
        self._redis = redis_client
        self._maxlen = stream_maxlen

    def publish(self, session: Session, type: EventType, tenant_id: int, *,
                data: dict[str, Any] | None = None, site_id: int | None = None,
                person_id: int | None = None, severity: Severity | None = None) -> EventLogEntry:
        """Append an event inside the caller's transaction; it goes live when that commits."""
        entry = EventLogEntry(tenant_id=tenant_id, type=type, severity=severity, site_id=site_id,
                              person_id=person_id, data=data or {}, created_at=utcnow())
        session.add(entry)
        session.flush()  # assigns the monotonic id
        self._remember(session, [entry])
        return entry

    def publish_many(self, session: Session, rows: list[dict[str, Any]]) -> list[EventLogEntry]:
        """Bulk variant for hot paths (ingestion): rows are EventLogEntry column dicts."""
        if not rows:
            return []
        now = utcnow()
        entries = list(session.scalars(
            sa.insert(EventLogEntry).returning(EventLogEntry, sort_by_parameter_order=True),
            [{"created_at": now, "data": {}, **row} for row in rows]))
        self._remember(session, entries)
        return entries

    def _remember(self, session: Session, entries: list[EventLogEntry]) -> None:
        if _PENDING not in session.info:
            session.info[_PENDING] = []
            if not sa.event.contains(session, "after_commit", self._after_commit):
                sa.event.listen(session, "after_commit", self._after_commit)
                sa.event.listen(session, "after_rollback", self._after_rollback)
        session.info[_PENDING].extend(envelope(entry) for entry in entries)

    def _after_commit(self, session: Session) -> None:
        self.send_live(session.info.pop(_PENDING, []))

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(_PENDING, None)

    def send_live(self, envelopes: list[dict[str, Any]]) -> None:
        """Push committed events to the Redis stream; a Redis outage loses nothing (the log has them)."""
        if not envelopes:
            return
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for env in envelopes:
                    pipe.xadd(EVENT_STREAM_KEY, {"event": json.dumps(env, default=str)},
                              maxlen=self._maxlen, approximate=True)
                pipe.execute()
        except redis.RedisError:
            log.warning("Redis unavailable: %d events are in the log only", len(envelopes), exc_info=True)
