"""Publishing test events through the product's event module (log row + stream after commit)."""
from __future__ import annotations

from typing import Any

from backend.enums import EventType, Severity
from backend.runtime import Runtime


def publish(runtime: Runtime, tenant_id: int, count: int = 1, *, type: EventType = EventType.SYSTEM,
            site_id: int | None = None, person_id: int | None = None, severity: Severity | None = None,
            data: dict[str, Any] | None = None) -> list[int]:
    """``count`` events, one transaction each (as services publish); returns their ids."""
    ids = []
    for n in range(count):
        with runtime.transaction() as session:
            entry = runtime.events.publish(session, type, tenant_id, site_id=site_id, person_id=person_id,
                                           severity=severity, data={"n": n, **(data or {})})
        ids.append(entry.id)
    return ids
