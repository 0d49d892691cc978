"""The live channel's reads of the event log (the source of truth): replay for a resuming
client, and the sweep that finds events the Redis stream did not bring. All by primary key or
the (tenant_id, id) index."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.live.audience import Audience
from backend.models import EventLogEntry


def replay_after(session: Session, audience: Audience, after_id: int, limit: int) -> Sequence[EventLogEntry]:
    """The audience's events with id > ``after_id``, oldest first, at most ``limit``."""
    return session.scalars(sa.select(EventLogEntry).where(audience.log_filter(), EventLogEntry.id > after_id)
                           .order_by(EventLogEntry.id).limit(limit)).all()


def id_range(session: Session) -> tuple[int | None, int | None]:
    """(oldest, newest) id in the log; the oldest moves up as retention prunes."""
    row = session.execute(sa.select(sa.func.min(EventLogEntry.id), sa.func.max(EventLogEntry.id))).one()
    return row[0], row[1]


def newest(session: Session, limit: int) -> list[tuple[int, datetime]]:
    """(id, created_at) of the newest entries, newest first: where a listener starts."""
    rows = session.execute(sa.select(EventLogEntry.id, EventLogEntry.created_at)
                           .order_by(EventLogEntry.id.desc()).limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


def by_ids(session: Session, ids: Sequence[int]) -> Sequence[EventLogEntry]:
    if not ids:
        return []
    return session.scalars(sa.select(EventLogEntry).where(EventLogEntry.id.in_(ids))
                           .order_by(EventLogEntry.id)).all()


def after(session: Session, after_id: int, limit: int) -> Sequence[EventLogEntry]:
    """Every tenant's entries with id > ``after_id``, oldest first (the sweep's tail)."""
    return session.scalars(sa.select(EventLogEntry).where(EventLogEntry.id > after_id)
                           .order_by(EventLogEntry.id).limit(limit)).all()
