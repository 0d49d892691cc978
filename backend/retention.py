"""Housekeeping: how long the broadcast event log is kept.

The log lets live clients resume after a disconnect and feeds the events page; the domain
tables (inputs, predictions, tickets with their history) are the record and are not pruned."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.models import EventLogEntry, Tenant, utcnow


def tenant_ids(session: Session) -> list[int]:
    return list(session.scalars(sa.select(Tenant.id).order_by(Tenant.id)))


def prune_event_log(session: Session, tenant_id: int, keep_days: int) -> int:
    """Delete one tenant's event log entries older than ``keep_days``; returns how many."""
    cutoff = utcnow() - timedelta(days=keep_days)
    result = session.execute(sa.delete(EventLogEntry).where(
        EventLogEntry.tenant_id == tenant_id, EventLogEntry.created_at < cutoff))
    return result.rowcount or 0
