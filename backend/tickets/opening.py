"""Open a ticket, or add an occurrence to the open one with the same dedup key: race-free.

At most one ticket per (tenant, dedup key) is open at a time (a partial unique index over the
open states). The insert is an ``INSERT ... ON CONFLICT (tenant_id, dedup_key) WHERE <open>
DO UPDATE SET occurrences = occurrences + 1`` on that index, so two workers racing with the
same key open one ticket and the other adds its occurrence (PostgreSQL and SQLite alike: the
second insert waits for the first to commit, then updates).

Dedup windows. With ``dedup_window`` set (e.g. 24 h), an occurrence joins the open ticket
whose first occurrence is less than a window before it, else it opens a new ticket. The key
carries the window bucket the occurrence falls in (``key@bucket``, bucket = occurred_at //
window); an occurrence first tries the previous bucket's open ticket (joining it when its
first occurrence is within a window), then upserts its own bucket's key. Both steps are
atomic statements, so the race-freedom holds.

Escalation. An occurrence more severe or more urgent than its ticket raises the ticket's
severity and priority (never lowers them), and a raised priority pulls the SLA due times in to
what the new priority allows from now, if that is sooner. The comparison is part of the same
atomic statement, so racing occurrences still end at the highest of them."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.enums import (OPEN_TICKET_STATES, EventType, Role, Severity, TicketPriority, TicketSource,
                           TicketState)
from backend.events import EventPublisher
from backend.models import Ticket, TicketHistory, utcnow
from backend.tickets.assign import default_assignee
from backend.tickets.sla import due_times

_OPEN_DEDUP_INDEX = next(i for i in Ticket.__table__.indexes if i.name == "uq_tickets_open_dedup")
# The index's own predicate: ON CONFLICT must name it for the database to pick that index.
_OPEN_PREDICATE = _OPEN_DEDUP_INDEX.dialect_options["postgresql"]["where"]
_OPEN_STATES = sorted(OPEN_TICKET_STATES)
_SEVERITY_ORDER = list(Severity)          # low → critical
_PRIORITY_ORDER = list(TicketPriority)    # p1 (most urgent) → p4


@dataclass(frozen=True)
class TicketSpec:
    """What to open. ``details`` is stored on a new ticket and, for every occurrence, in its
    history row (so each occurrence keeps its own evidence)."""
    tenant_id: int
    source: TicketSource
    type: str
    dedup_key: str
    title: str
    priority: TicketPriority
    severity: Severity
    site_id: int | None = None
    person_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None       # when it happened (default: now)
    dedup_window: timedelta | None = None     # None: one open ticket per key, whatever its age
    assignee_role: Role | None = None         # default assignee's role (None: unassigned)


@dataclass(frozen=True)
class TicketOutcome:
    ticket_id: int
    created: bool
    occurrences: int
    dedup_key: str


def open_or_add_occurrence(session: Session, publisher: EventPublisher, spec: TicketSpec, *,
                           now: datetime | None = None) -> TicketOutcome:
    """Open the ticket or count one more occurrence on the open one, in the caller's
    transaction; writes the history row and publishes ``ticket_created``/``ticket_updated``."""
    now = now or utcnow()
    occurred = spec.occurred_at or now
    key = spec.dedup_key
    row = None
    if spec.dedup_window is not None:
        window_s = spec.dedup_window.total_seconds()
        bucket = math.floor(occurred.timestamp() / window_s)
        row = _join_previous(session, spec, f"{key}@{bucket - 1}", occurred, now)
        key = f"{key}@{bucket}"
        if row is not None:
            key = f"{spec.dedup_key}@{bucket - 1}"
    if row is None:
        row = _upsert(session, spec, key, occurred, now)
    outcome = TicketOutcome(ticket_id=row.id, created=row.occurrences == 1, occurrences=row.occurrences, dedup_key=key)
    _record(session, publisher, spec, outcome, row, occurred)
    return outcome


_RETURNING = (Ticket.id, Ticket.occurrences, Ticket.state, Ticket.priority, Ticket.severity, Ticket.title,
              Ticket.assignee_user_id)


def _escalation(columns: Any, spec: TicketSpec, now: datetime) -> dict[str, Any]:
    """SET clauses raising severity/priority to the occurrence's, and the due times with them.
    ``columns`` is the table's column collection (the ORM class or ``Ticket.__table__.c``)."""
    lower_severities = _SEVERITY_ORDER[:_SEVERITY_ORDER.index(spec.severity)]
    less_urgent = _PRIORITY_ORDER[_PRIORITY_ORDER.index(spec.priority) + 1:]
    ack_due, resolve_due = due_times(spec.priority, now)
    escalates = columns.priority.in_(less_urgent) if less_urgent else sa.false()

    def sooner(column: Any, due: datetime) -> Any:
        return sa.case((sa.and_(escalates, sa.or_(column.is_(None), column > due)), due), else_=column)

    return {
        "severity": sa.case((columns.severity.in_(lower_severities), spec.severity), else_=columns.severity)
        if lower_severities else columns.severity,
        "priority": sa.case((escalates, spec.priority), else_=columns.priority),
        "ack_due_at": sooner(columns.ack_due_at, ack_due),
        "resolve_due_at": sooner(columns.resolve_due_at, resolve_due),
    }


def _join_previous(session: Session, spec: TicketSpec, key: str, occurred: datetime, now: datetime) -> Any:
    found = session.execute(sa.select(Ticket.id, Ticket.details).where(
        Ticket.tenant_id == spec.tenant_id, Ticket.dedup_key == key, Ticket.state.in_(_OPEN_STATES))).first()
    if found is None:
        return None
    first = (found.details or {}).get("first_occurred_at")
    assert spec.dedup_window is not None
    if not isinstance(first, str) or occurred >= datetime.fromisoformat(first) + spec.dedup_window:
        return None
    # Atomic increment; nothing if the ticket was closed in the meantime (then: a new ticket).
    return session.execute(sa.update(Ticket).where(Ticket.id == found.id, Ticket.state.in_(_OPEN_STATES))
                           .values(occurrences=Ticket.occurrences + 1, updated_at=now, version=Ticket.version + 1,
                                   **_escalation(Ticket, spec, now))
                           .returning(*_RETURNING)).first()


def _upsert(session: Session, spec: TicketSpec, key: str, occurred: datetime, now: datetime) -> Any:
    ack_due, resolve_due = due_times(spec.priority, now)
    assignee = default_assignee(session, spec.tenant_id, spec.assignee_role, spec.site_id) \
        if spec.assignee_role else None
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Ticket.__table__)
    statement = insert.values(
        tenant_id=spec.tenant_id, site_id=spec.site_id, person_id=spec.person_id, source=spec.source,
        type=spec.type, dedup_key=key, title=spec.title[:300], priority=spec.priority, severity=spec.severity,
        state=TicketState.OPEN, assignee_user_id=assignee, occurrences=1,
        details={**spec.details, "first_occurred_at": occurred.isoformat()},
        ack_due_at=ack_due, resolve_due_at=resolve_due, created_at=now, updated_at=now, version=1,
    ).on_conflict_do_update(
        index_elements=["tenant_id", "dedup_key"], index_where=_OPEN_PREDICATE,
        set_={"occurrences": Ticket.__table__.c.occurrences + 1, "updated_at": now,
              "version": Ticket.__table__.c.version + 1, **_escalation(Ticket.__table__.c, spec, now)},
    ).returning(*(Ticket.__table__.c[c.key] for c in _RETURNING))
    return session.execute(statement).one()


def _record(session: Session, publisher: EventPublisher, spec: TicketSpec, outcome: TicketOutcome, row: Any,
            occurred: datetime) -> None:
    state = TicketState(row.state)
    session.add(TicketHistory(
        tenant_id=spec.tenant_id, ticket_id=outcome.ticket_id, actor_user_id=None,
        action="created" if outcome.created else "occurrence", from_state=None if outcome.created else state,
        to_state=state, data={**spec.details, "occurrences": outcome.occurrences, "occurred_at": occurred.isoformat()}))
    publisher.publish(
        session, EventType.TICKET_CREATED if outcome.created else EventType.TICKET_UPDATED, spec.tenant_id,
        site_id=spec.site_id, person_id=spec.person_id, severity=Severity(row.severity),
        data={"ticket_id": outcome.ticket_id, "source": spec.source.value, "type": spec.type, "kind": spec.type,
              "title": row.title, "priority": str(row.priority), "severity": str(row.severity), "state": state.value,
              "occurrences": outcome.occurrences, "assignee_user_id": row.assignee_user_id,
              "change": "created" if outcome.created else "occurrence"})
