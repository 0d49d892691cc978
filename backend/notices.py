"""Operator notices: a short message broadcast to a tenant's screens (or one site's) as a
``system`` event, e.g. "radio channel 2 is down" or "evacuation drill at 14:00"."""
from __future__ import annotations

from sqlalchemy.orm import Session

from backend.enums import EventType, Severity
from backend.events import EventPublisher
from backend.models import EventLogEntry, Site, Tenant

MAX_NOTICE_CHARS = 500


def publish_notice(session: Session, publisher: EventPublisher, tenant_id: int, message: str,
                   site_id: int | None = None, severity: Severity | None = None) -> EventLogEntry:
    text = message.strip()
    if not text or len(text) > MAX_NOTICE_CHARS:
        raise ValueError(f"message: 1-{MAX_NOTICE_CHARS} characters")
    if session.get(Tenant, tenant_id) is None:
        raise ValueError(f"tenant_id: no tenant {tenant_id}")
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None or site.tenant_id != tenant_id:  # never address another tenant's site
            raise ValueError(f"site_id: no site {site_id} in tenant {tenant_id}")
    return publisher.publish(session, EventType.SYSTEM, tenant_id, site_id=site_id, severity=severity,
                             data={"notice": text})
