"""The one shape of ``ticket_created`` / ``ticket_updated`` events, for opening (scoring,
audits) and for supervisors' actions alike, so the UI and the live channel read one format.

``data.change`` says what happened (created, occurrence, acknowledged, assigned, commented,
resolved, needs_info); ``data.version`` is the ticket's version after the change, so a page
that already shows that version can skip the event."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.enums import EventType, Severity, TicketSource, TicketState
from backend.events import EventPublisher


def ticket_event(*, tenant_id: int, ticket_id: int, change: str, source: TicketSource | str, type: str, title: str,
                 priority: str, severity: Severity | str, state: TicketState | str, occurrences: int,
                 assignee_user_id: int | None, site_id: int | None, person_id: int | None,
                 version: int | None = None, **extra: Any) -> dict[str, Any]:
    """One ticket event as an ``EventPublisher.publish_many`` row; ``extra`` adds keys to ``data``."""
    event_type = EventType.TICKET_CREATED if change == "created" else EventType.TICKET_UPDATED
    return {"tenant_id": tenant_id, "type": event_type, "site_id": site_id, "person_id": person_id,
            "severity": Severity(severity),
            "data": {"ticket_id": ticket_id, "source": str(source), "type": type, "kind": type, "title": title,
                     "priority": str(priority), "severity": str(severity), "state": str(state),
                     "occurrences": occurrences, "assignee_user_id": assignee_user_id, "change": change,
                     "version": version, **extra}}


def publish_ticket_event(session: Session, publisher: EventPublisher, **fields: Any) -> None:
    """Publish (inside the caller's transaction) one ticket event (``ticket_event``'s fields)."""
    row = ticket_event(**fields)
    publisher.publish(session, row.pop("type"), row.pop("tenant_id"), **row)
