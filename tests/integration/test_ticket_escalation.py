"""An occurrence more severe or more urgent than its open ticket raises the ticket (never
lowers it), and a raised priority pulls the SLA due times in; on PostgreSQL and SQLite, with and
without a dedup window."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.enums import EventType, Severity, TicketPriority, TicketSource
from backend.models import EventLogEntry, Ticket
from backend.runtime import Runtime
from backend.tickets import TicketSpec, open_or_add_occurrence
from backend.tickets.sla import SLAS
from tests.factories import make_world

NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("window", [None, timedelta(hours=24)])
def test_occurrences_escalate_severity_and_priority_but_never_lower_them(any_runtime: Runtime,
                                                                         window: timedelta | None) -> None:
    world = make_world(any_runtime)

    def occur(at: datetime, severity: Severity, priority: TicketPriority) -> int:
        spec = TicketSpec(tenant_id=world.tenant_id, source=TicketSource.AUDIT, type="missed_tour",
                          dedup_key="audit:s1:missed_tour", title="Missed tour", priority=priority,
                          severity=severity, site_id=world.site_ids["S1"], occurred_at=at, dedup_window=window)
        with any_runtime.transaction() as session:
            return open_or_add_occurrence(session, any_runtime.events, spec, now=at).ticket_id

    def ticket(ticket_id: int) -> Ticket:
        with any_runtime.read() as session:
            return session.get_one(Ticket, ticket_id)

    first = occur(NOW, Severity.MEDIUM, TicketPriority.P3)
    opened = ticket(first)
    assert occur(NOW + timedelta(minutes=10), Severity.LOW, TicketPriority.P4) == first
    calm = ticket(first)
    assert (calm.severity, calm.priority, calm.ack_due_at, calm.occurrences) == (
        Severity.MEDIUM, TicketPriority.P3, opened.ack_due_at, 2)

    later = NOW + timedelta(minutes=20)
    assert occur(later, Severity.CRITICAL, TicketPriority.P1) == first
    raised = ticket(first)
    assert (raised.severity, raised.priority) == (Severity.CRITICAL, TicketPriority.P1)
    assert raised.ack_due_at == later + SLAS[TicketPriority.P1].acknowledge      # sooner than P3's
    assert raised.resolve_due_at == later + SLAS[TicketPriority.P1].resolve

    assert occur(NOW + timedelta(minutes=30), Severity.HIGH, TicketPriority.P2) == first
    kept = ticket(first)
    assert (kept.severity, kept.priority, kept.ack_due_at) == (Severity.CRITICAL, TicketPriority.P1, raised.ack_due_at)

    with any_runtime.read() as session:
        last_event = session.scalars(sa.select(EventLogEntry).where(
            EventLogEntry.tenant_id == world.tenant_id, EventLogEntry.type == EventType.TICKET_UPDATED)
            .order_by(EventLogEntry.id.desc()).limit(1)).one()
    assert last_event.severity is Severity.CRITICAL and last_event.data["priority"] == "p1"
