"""Operator notices (queue ``default``): broadcast a message to a tenant's live screens."""
from __future__ import annotations

from backend.enums import Severity
from backend.notices import publish_notice
from backend.runtime import get_runtime


def broadcast_notice(tenant_id: int, message: str, site_id: int | None = None,
                     severity: str | None = None) -> int:
    """Publish the notice as a ``system`` event; returns its event id."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        entry = publish_notice(session, runtime.events, tenant_id, message, site_id=site_id,
                               severity=Severity(severity) if severity else None)
    return entry.id
