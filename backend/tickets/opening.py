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

Batches. ``open_or_add_occurrences`` files many specs in a fixed handful of statements (scoring
opens a part's fraud tickets at once): one read of the open tickets their previous windows may
join, one of the assignees, one multi-row upsert per round of distinct keys, one insert of the
history rows and one of the events. Specs are filed in (tenant, key, time) order, so concurrent
batches lock tickets in the same order, and a spec sees what the specs before it opened.

Escalation. An occurrence more severe or more urgent than its ticket raises the ticket's
severity and priority (never lowers them), and a raised priority pulls the SLA due times in to
what the new priority allows from now, if that is sooner. The comparison is part of the same
atomic statement, so racing occurrences still end at the highest of them."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.enums import OPEN_TICKET_STATES, Role, Severity, TicketPriority, TicketSource, TicketState
from backend.events import EventPublisher
from backend.models import Ticket, TicketHistory, utcnow
from backend.tickets.assign import Candidate, assignee_candidates, pick_assignee
from backend.tickets.broadcast import ticket_event
from backend.tickets.sla import due_times

_OPEN_DEDUP_INDEX = next(i for i in Ticket.__table__.indexes if i.name == "uq_tickets_open_dedup")
# The index's own predicate: ON CONFLICT must name it for the database to pick that index.
_OPEN_PREDICATE = _OPEN_DEDUP_INDEX.dialect_options["postgresql"]["where"]
_OPEN_STATES = sorted(OPEN_TICKET_STATES)
_SEVERITY_ORDER = list(Severity)          # low → critical
_PRIORITY_ORDER = list(TicketPriority)    # p1 (most urgent) → p4
_T = Ticket.__table__.c


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
    return open_or_add_occurrences(session, publisher, [spec], now=now)[0]


def open_or_add_occurrences(session: Session, publisher: EventPublisher, specs: Sequence[TicketSpec], *,
                            now: datetime | None = None) -> list[TicketOutcome]:
    """``open_or_add_occurrence`` for many specs at once; the outcomes in the specs' order."""
    now = now or utcnow()
    filing = _Filing(session, now, specs)
    for i in sorted(range(len(specs)), key=lambda i: filing.sort_key(specs[i])):
        filing.file(i, specs[i])
    filing.flush()
    _record(session, publisher, [(specs[i], filing.rows[i]) for i in filing.filed], now)
    outcomes = [outcome for outcome in filing.outcomes if outcome is not None]
    assert len(outcomes) == len(specs)
    return outcomes


_RETURNING = (_T.id, _T.tenant_id, _T.dedup_key, _T.occurrences, _T.state, _T.priority, _T.severity, _T.title,
              _T.assignee_user_id, _T.version, _T.details)


class _Filing:
    """One batch on its way in. Upserts wait, in rounds of distinct keys, until a join needs
    what they opened or the batch ends; ``known`` holds the open tickets (id, first
    occurrence) a later spec's window may join, as read at the start and as written since."""

    def __init__(self, session: Session, now: datetime, specs: Sequence[TicketSpec]) -> None:
        self.session, self.now = session, now
        self.outcomes: list[TicketOutcome | None] = [None] * len(specs)
        self.rows: list[Any] = [None] * len(specs)
        self.filed: list[int] = []                        # spec indexes in the order they were written
        self.known = _open_tickets(session, {(s.tenant_id, _window_key(s, now, -1)) for s in specs if s.dedup_window})
        # Upserts waiting, in rounds of distinct keys: (tenant, key) -> spec index; a key's round.
        self.rounds: list[dict[tuple[int, str], int]] = []
        self.depth: dict[tuple[int, str], int] = {}
        self.specs = specs
        self._candidates: dict[tuple[int, Role], list[Candidate]] = {}

    def sort_key(self, spec: TicketSpec) -> tuple[int, str, datetime]:
        return spec.tenant_id, spec.dedup_key, spec.occurred_at or self.now

    def file(self, i: int, spec: TicketSpec) -> None:
        if spec.dedup_window is not None:
            previous = (spec.tenant_id, _window_key(spec, self.now, -1))
            if previous in self.depth:
                self.flush()   # a waiting upsert opens that ticket: its first occurrence decides
            if self._joins(spec, previous):
                self.flush()   # the waiting upserts first: one lock order (sorted keys) for every batch
                ticket_id = self.known[previous][0]
                row = self.session.execute(sa.update(Ticket).where(Ticket.id == ticket_id,
                                                                   Ticket.state.in_(_OPEN_STATES))
                                           .values(occurrences=Ticket.occurrences + 1, updated_at=self.now,
                                                   version=Ticket.version + 1,
                                                   **_escalation(_T, _incoming(spec, self.now)))
                                           .returning(*_RETURNING)).first()
                if row is not None:   # else closed in the meantime: a new ticket
                    self._done(i, row)
                    return
        key = (spec.tenant_id, _window_key(spec, self.now, 0) if spec.dedup_window else spec.dedup_key)
        depth = self.depth.get(key, -1) + 1     # the key's next occurrence goes a round later
        if depth == len(self.rounds):
            self.rounds.append({})
        self.rounds[depth][key] = i
        self.depth[key] = depth

    def _joins(self, spec: TicketSpec, previous: tuple[int, str]) -> bool:
        found = self.known.get(previous)
        assert spec.dedup_window is not None
        return found is not None and found[1] is not None \
            and (spec.occurred_at or self.now) < found[1] + spec.dedup_window

    def flush(self) -> None:
        """Upsert the waiting rounds, one statement each (a round's keys are distinct)."""
        rounds, self.rounds, self.depth = self.rounds, [], {}
        for waiting in rounds:
            self._upsert([(key, i, self.specs[i]) for key, i in waiting.items()])

    def _upsert(self, waiting: list[tuple[tuple[int, str], int, TicketSpec]]) -> None:
        values = [self._values(spec, key[1]) for key, _i, spec in waiting]
        statement = _upsert_statement(self.session.get_bind().dialect.name)
        rows = {(row.tenant_id, row.dedup_key): row for row in self.session.execute(statement, values)}
        for key, i, _spec in waiting:
            self._done(i, rows[key])

    def _values(self, spec: TicketSpec, key: str) -> dict[str, Any]:
        occurred = spec.occurred_at or self.now
        ack_due, resolve_due = due_times(spec.priority, self.now)
        return dict(tenant_id=spec.tenant_id, site_id=spec.site_id, person_id=spec.person_id, source=spec.source,
                    type=spec.type, dedup_key=key, title=spec.title[:300], priority=spec.priority,
                    severity=spec.severity, state=TicketState.OPEN, assignee_user_id=self._assignee(spec),
                    occurrences=1, details={**spec.details, "first_occurred_at": occurred.isoformat()},
                    ack_due_at=ack_due, resolve_due_at=resolve_due, created_at=self.now, updated_at=self.now,
                    version=1)

    def _assignee(self, spec: TicketSpec) -> int | None:
        if spec.assignee_role is None:
            return None
        role = (spec.tenant_id, spec.assignee_role)
        if role not in self._candidates:
            self._candidates[role] = assignee_candidates(self.session, *role)
        return pick_assignee(self._candidates[role], spec.site_id)

    def _done(self, i: int, row: Any) -> None:
        self.rows[i] = row
        self.filed.append(i)
        self.outcomes[i] = TicketOutcome(ticket_id=row.id, created=row.occurrences == 1,
                                         occurrences=row.occurrences, dedup_key=row.dedup_key)
        self.known[(row.tenant_id, row.dedup_key)] = (row.id, _first_occurred(row.details))


@cache
def _upsert_statement(dialect: str) -> Any:
    """The upsert, built once: executed with many rows' parameters, SQLAlchemy sends them as
    one multi-row statement ("insertmanyvalues") without compiling it again (compiling a
    statement with the rows as literal VALUES was most of a scoring part's ticket time)."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Ticket.__table__)
    return insert.on_conflict_do_update(
        index_elements=["tenant_id", "dedup_key"], index_where=_OPEN_PREDICATE,
        set_={"occurrences": _T.occurrences + 1, "updated_at": insert.excluded.updated_at,
              "version": _T.version + 1, **_escalation(_T, insert.excluded)},
    ).returning(*_RETURNING)


def _window_key(spec: TicketSpec, now: datetime, offset: int) -> str:
    """The key of the dedup window the spec falls in (offset 0) or of the one before (-1)."""
    assert spec.dedup_window is not None
    bucket = math.floor((spec.occurred_at or now).timestamp() / spec.dedup_window.total_seconds())
    return f"{spec.dedup_key}@{bucket + offset}"


def _first_occurred(details: dict[str, Any] | None) -> datetime | None:
    first = (details or {}).get("first_occurred_at")
    return datetime.fromisoformat(first) if isinstance(first, str) else None


_Known = dict[tuple[int, str], tuple[int, datetime | None]]


def _open_tickets(session: Session, keys: set[tuple[int, str]]) -> _Known:
    """(tenant, key) -> (id, first occurrence) of the open tickets with these keys."""
    if not keys:
        return {}
    rows = session.execute(sa.select(Ticket.id, Ticket.tenant_id, Ticket.dedup_key, Ticket.details).where(
        Ticket.tenant_id.in_({tenant for tenant, _key in keys}), Ticket.dedup_key.in_({key for _t, key in keys}),
        Ticket.state.in_(_OPEN_STATES)))
    return {(row.tenant_id, row.dedup_key): (row.id, _first_occurred(row.details)) for row in rows
            if (row.tenant_id, row.dedup_key) in keys}


@dataclass(frozen=True)
class _Incoming:
    """An occurrence's severity, priority and due times, as SQL expressions."""
    severity: Any
    priority: Any
    ack_due_at: Any
    resolve_due_at: Any


def _incoming(spec: TicketSpec, now: datetime) -> _Incoming:
    ack_due, resolve_due = due_times(spec.priority, now)
    return _Incoming(sa.literal(spec.severity, _T.severity.type), sa.literal(spec.priority, _T.priority.type),
                     sa.literal(ack_due, _T.ack_due_at.type), sa.literal(resolve_due, _T.resolve_due_at.type))


def _rank(column: Any, order: list[Any]) -> Any:
    return sa.case({value: rank for rank, value in enumerate(order)}, value=column)


def _escalation(current: Any, incoming: Any) -> dict[str, Any]:
    """SET clauses raising the ticket's severity/priority to the occurrence's, and its due
    times with them. ``current`` is the table's columns, ``incoming`` the occurrence's values
    (an ``_Incoming``, or the upsert's ``excluded`` row)."""
    escalates = _rank(current.priority, _PRIORITY_ORDER) > _rank(incoming.priority, _PRIORITY_ORDER)

    def sooner(column: Any, due: Any) -> Any:
        return sa.case((sa.and_(escalates, sa.or_(column.is_(None), column > due)), due), else_=column)

    return {
        "severity": sa.case((_rank(incoming.severity, _SEVERITY_ORDER) > _rank(current.severity, _SEVERITY_ORDER),
                             incoming.severity), else_=current.severity),
        "priority": sa.case((escalates, incoming.priority), else_=current.priority),
        "ack_due_at": sooner(current.ack_due_at, incoming.ack_due_at),
        "resolve_due_at": sooner(current.resolve_due_at, incoming.resolve_due_at),
    }


def _record(session: Session, publisher: EventPublisher, filed: list[tuple[TicketSpec, Any]], now: datetime) -> None:
    """The history rows and the events of a filed batch (in filing order), one insert each."""
    history, events = [], []
    for spec, row in filed:
        state, change = TicketState(row.state), "created" if row.occurrences == 1 else "occurrence"
        history.append(dict(tenant_id=spec.tenant_id, ticket_id=row.id, actor_user_id=None, action=change,
                            from_state=None if change == "created" else state, to_state=state,
                            data={**spec.details, "occurrences": row.occurrences,
                                  "occurred_at": (spec.occurred_at or now).isoformat()}))
        events.append(ticket_event(
            tenant_id=spec.tenant_id, ticket_id=row.id, change=change, source=spec.source, type=spec.type,
            title=row.title, priority=row.priority, severity=row.severity, state=state,
            occurrences=row.occurrences, assignee_user_id=row.assignee_user_id, site_id=spec.site_id,
            person_id=spec.person_id, version=row.version))
    if history:
        # render_nulls: one statement (the ORM would group rows by which keys are None).
        session.execute(sa.insert(TicketHistory).execution_options(render_nulls=True), history)
        publisher.publish_many(session, events)
