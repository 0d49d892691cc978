"""Publishing typed events: one call appends to the event log (the source of truth, with a
monotonic id) and, once the caller's transaction commits, to Redis for live delivery.

If Redis is unreachable at that moment the event is still in the log; live consumers catch up
from the log by id. An event is never sent for a transaction that rolled back."""
from __future__ import annotations

import json
import logging
from datetime import datetime
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
_LOG = EventLogEntry.__table__
_INSERT_EVENTS = sa.insert(_LOG).returning(_LOG.c.id, sort_by_parameter_order=True)


def envelope(entry: EventLogEntry) -> dict[str, Any]:
    """The one wire format of an event (see README, "Event envelope")."""
    return _envelope(entry.id, entry.type, entry.created_at, entry.tenant_id, entry.site_id, entry.person_id,
                     entry.severity, entry.data)


def _envelope(id: int, type: EventType, created_at: datetime, tenant_id: int, site_id: int | None,
              person_id: int | None, severity: Severity | None, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": id, "type": str(type), "time": created_at.isoformat(), "tenant": tenant_id, "site": site_id,
            "person": person_id, "severity": str(severity) if severity else None, "data": data}


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
        self._remember(session, [envelope(entry)])
        return entry

    def publish_many(self, session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk variant for hot paths (ingestion, scoring): rows are EventLogEntry column
        dicts; returns their envelopes, in the rows' order. A Core insert returning the ids:
        ORM objects for the rows cost more than the insert itself."""
        if not rows:
            return []
        now = utcnow()
        values = [{"created_at": now, "data": {}, "site_id": None, "person_id": None, "severity": None, **row}
                  for row in rows]
        ids = session.scalars(_INSERT_EVENTS, values).all()
        envelopes = [_envelope(id, v["type"], now, v["tenant_id"], v["site_id"], v["person_id"], v["severity"],
                               v["data"]) for id, v in zip(ids, values, strict=True)]
        self._remember(session, envelopes)
        return envelopes

    def _remember(self, session: Session, envelopes: list[dict[str, Any]]) -> None:
        if _PENDING not in session.info:
            session.info[_PENDING] = []
            if not sa.event.contains(session, "after_commit", self._after_commit):
                sa.event.listen(session, "after_commit", self._after_commit)
                sa.event.listen(session, "after_rollback", self._after_rollback)
        session.info[_PENDING].extend(envelopes)

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
