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


def publish_ticket_event(session: Session, publisher: EventPublisher, *, tenant_id: int, ticket_id: int,
                         change: str, source: TicketSource | str, type: str, title: str, priority: str,
                         severity: Severity | str, state: TicketState | str, occurrences: int,
                         assignee_user_id: int | None, site_id: int | None, person_id: int | None,
                         version: int | None = None, **extra: Any) -> None:
    """Publish (inside the caller's transaction) one ticket event; ``extra`` adds keys to ``data``."""
    publisher.publish(
        session, EventType.TICKET_CREATED if change == "created" else EventType.TICKET_UPDATED, tenant_id,
        site_id=site_id, person_id=person_id, severity=Severity(severity),
        data={"ticket_id": ticket_id, "source": str(source), "type": type, "kind": type, "title": title,
              "priority": str(priority), "severity": str(severity), "state": str(state),
              "occurrences": occurrences, "assignee_user_id": assignee_user_id, "change": change,
              "version": version, **extra})
