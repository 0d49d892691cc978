"""Supervisors' actions on tickets: acknowledge, assign, comment, resolve, bulk acknowledge.

Every action, in the caller's one transaction: checks the principal may act (supervisor or
admin, ``permissions``), finds the ticket inside its tenant and site scope (else "not found":
another tenant's id reveals nothing), validates the input, applies the change with optimistic
concurrency — ``UPDATE … WHERE id = ? AND version = ?`` with the version the user saw; a stale
version raises ``TicketConflict`` carrying the ticket as it is now — writes one history row and
publishes ``ticket_updated`` (sent live after the commit). Returns the fresh detail.

State rules (the spec leaves them to us):
- acknowledge: open → acknowledged; an unassigned ticket is taken by the acknowledger.
- assign: any open state, to an active non-viewer user of the tenant who can see the ticket's
  site, or to nobody; the state stays.
- comment: any state (notes after resolving are welcome); never conflicts, but bumps the
  version, so a page showing the ticket knows it changed.
- resolve with confirmed fraud / false positive / benign: → resolved (``resolved_at``, the
  disposition that training and baseline tuning read). With *needs info*: the ticket stays open
  as in progress with disposition ``needs_info`` (which training and tuning ignore) and a
  required note saying what is missing; resolving later overwrites the disposition.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.auth.principal import Principal
from backend.enums import OPEN_TICKET_STATES, Disposition, TicketState
from backend.events import EventPublisher
from backend.models import Ticket, TicketComment, TicketHistory, utcnow
from backend.queries.ticket_schemas import BulkAcknowledgeResult, TicketDetail
from backend.queries.tickets import assignable_users, scope_clause, ticket_detail
from backend.tickets.broadcast import publish_ticket_event
from backend.tickets.permissions import ACTING_ROLE, can_act_on_tickets

MAX_TEXT = 2000       # characters of a comment or a resolution note
MAX_BULK = 200        # tickets per bulk acknowledge (a page shows at most 200)
_OPEN = frozenset(OPEN_TICKET_STATES)


class TicketActionError(Exception):
    """An action refused; the message is fit to show the user as is."""


class ActionNotAllowed(TicketActionError, PermissionError):
    pass


class TicketNotFound(TicketActionError, LookupError):
    pass


class InvalidTicketAction(TicketActionError, ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TicketConflict(TicketActionError):
    """Someone changed the ticket since the user saw it; ``fresh`` is the ticket now."""
    def __init__(self, fresh: TicketDetail) -> None:
        super().__init__(f"Ticket #{fresh.ticket.id} was changed by {fresh.changed_by} — showing the current state.")
        self.fresh = fresh


# The columns an action needs back from its UPDATE: the event and the history are built from them.
_RETURNING = (Ticket.id, Ticket.version, Ticket.state, Ticket.source, Ticket.type, Ticket.title, Ticket.priority,
              Ticket.severity, Ticket.occurrences, Ticket.assignee_user_id, Ticket.site_id, Ticket.person_id,
              Ticket.disposition)


@dataclass(frozen=True)
class _Change:
    action: str                               # the history action and the event's ``change``
    allowed_from: frozenset[TicketState]
    values: dict[str, Any]                    # column -> new value (SQL expressions allowed)
    data: dict[str, Any]                      # history row data
    check_version: bool = True


def _require_actor(principal: Principal) -> None:
    if not can_act_on_tickets(principal):
        raise ActionNotAllowed(f"Only {ACTING_ROLE.value}s and admins can act on tickets; you can read them.")


def _text(value: Any, field: str, *, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise InvalidTicketAction(f"The {field} must be text.", field)
    if required and not text:
        raise InvalidTicketAction(f"Write a {field}.", field)
    if len(text) > MAX_TEXT:
        raise InvalidTicketAction(f"The {field} is {len(text)} characters long; at most {MAX_TEXT}.", field)
    return text


def _at(when: datetime) -> sa.ColumnElement[datetime]:
    # Typed, so SQLite stores it in the column's format (a bare datetime in coalesce() would not be).
    return sa.literal(when, Ticket.acknowledged_at.type)


def _version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidTicketAction("The ticket version is missing; reload the ticket.", "version")
    return value


def _apply(session: Session, publisher: EventPublisher, principal: Principal, ticket_id: int,
           version: int | None, change: _Change, now: datetime) -> TicketDetail:
    current = session.execute(sa.select(Ticket.id, Ticket.version, Ticket.state)
                              .where(Ticket.id == ticket_id, scope_clause(principal))).first()
    if current is None:
        raise TicketNotFound(f"Ticket #{ticket_id} does not exist or is not one of yours to see.")
    if change.check_version and current.version != version:
        raise TicketConflict(_fresh(session, principal, ticket_id, now))
    state = TicketState(current.state)
    if state not in change.allowed_from:
        raise InvalidTicketAction(f"Ticket #{ticket_id} is {state.value.replace('_', ' ')}: it cannot be "
                                  f"{change.action.replace('_', ' ')} now.", "state")
    update = (sa.update(Ticket).where(Ticket.id == ticket_id, Ticket.tenant_id == principal.tenant_id)
              .values(**change.values, updated_at=now, version=Ticket.version + 1).returning(*_RETURNING))
    if change.check_version:
        update = update.where(Ticket.version == version)
    row = session.execute(update).first()
    if row is None:  # changed between our read and our write: the other writer committed first
        raise TicketConflict(_fresh(session, principal, ticket_id, now))
    _record(session, publisher, principal, row, change.action, state, change.data, now)
    detail = ticket_detail(session, principal, ticket_id, now=now)
    assert detail is not None  # just updated inside this transaction
    return detail


def _fresh(session: Session, principal: Principal, ticket_id: int, now: datetime) -> TicketDetail:
    detail = ticket_detail(session, principal, ticket_id, now=now)
    if detail is None:
        raise TicketNotFound(f"Ticket #{ticket_id} does not exist or is not one of yours to see.")
    return detail


def _record(session: Session, publisher: EventPublisher, principal: Principal, row: Any, action: str,
            from_state: TicketState, data: dict[str, Any], now: datetime) -> None:
    session.add(TicketHistory(tenant_id=principal.tenant_id, ticket_id=row.id, actor_user_id=principal.user_id,
                              action=action, from_state=from_state, to_state=row.state, data=data, created_at=now))
    publish_ticket_event(
        session, publisher, tenant_id=principal.tenant_id, ticket_id=row.id, change=action, source=row.source,
        type=row.type, title=row.title, priority=row.priority, severity=row.severity, state=row.state,
        occurrences=row.occurrences, assignee_user_id=row.assignee_user_id, site_id=row.site_id,
        person_id=row.person_id, version=row.version, actor_user_id=principal.user_id,
        disposition=str(row.disposition) if row.disposition else None)


def acknowledge(session: Session, publisher: EventPublisher, principal: Principal, ticket_id: int, version: int,
                *, now: datetime | None = None) -> TicketDetail:
    _require_actor(principal)
    now = now or utcnow()
    return _apply(session, publisher, principal, ticket_id, _version(version), _Change(
        "acknowledged", frozenset({TicketState.OPEN}),
        {"state": TicketState.ACKNOWLEDGED, "acknowledged_at": now,
         "assignee_user_id": sa.func.coalesce(Ticket.assignee_user_id, principal.user_id)}, {}), now)


def assign(session: Session, publisher: EventPublisher, principal: Principal, ticket_id: int, version: int,
           assignee_id: int | None, *, now: datetime | None = None) -> TicketDetail:
    """Assign to ``assignee_id`` (None: unassign)."""
    _require_actor(principal)
    now = now or utcnow()
    if assignee_id is not None and (isinstance(assignee_id, bool) or not isinstance(assignee_id, int)):
        raise InvalidTicketAction("Choose a person to assign the ticket to.", "assignee")
    site_id = session.scalar(sa.select(Ticket.site_id).where(Ticket.id == ticket_id, scope_clause(principal)))
    if assignee_id is not None and assignee_id not in {u.id for u in assignable_users(session, principal, site_id)}:
        raise InvalidTicketAction("That person cannot take this ticket (not an active user of your organisation "
                                  "with access to its site).", "assignee")
    return _apply(session, publisher, principal, ticket_id, _version(version), _Change(
        "assigned", _OPEN, {"assignee_user_id": assignee_id}, {"to_user_id": assignee_id}), now)


def assign_to_me(session: Session, publisher: EventPublisher, principal: Principal, ticket_id: int, version: int,
                 *, now: datetime | None = None) -> TicketDetail:
    return assign(session, publisher, principal, ticket_id, version, principal.user_id, now=now)


def comment(session: Session, publisher: EventPublisher, principal: Principal, ticket_id: int, body: str,
            *, now: datetime | None = None) -> TicketDetail:
    _require_actor(principal)
    now = now or utcnow()
    text = _text(body, "comment", required=True)
    if session.scalar(sa.select(Ticket.id).where(Ticket.id == ticket_id, scope_clause(principal))) is None:
        raise TicketNotFound(f"Ticket #{ticket_id} does not exist or is not one of yours to see.")
    entry = TicketComment(tenant_id=principal.tenant_id, ticket_id=ticket_id, user_id=principal.user_id, body=text,
                          created_at=now)
    session.add(entry)
    session.flush()
    return _apply(session, publisher, principal, ticket_id, None, _Change(
        "commented", frozenset(TicketState), {}, {"comment_id": entry.id}, check_version=False), now)


def resolve(session: Session, publisher: EventPublisher, principal: Principal, ticket_id: int, version: int,
            disposition: Disposition | str, note: str | None = None, *, now: datetime | None = None) -> TicketDetail:
    _require_actor(principal)
    now = now or utcnow()
    if not isinstance(disposition, str) or disposition not in Disposition.__members__.values():
        raise InvalidTicketAction("Choose a disposition: confirmed fraud, false positive, benign or needs info.",
                                  "disposition")
    chosen = Disposition(disposition)
    needs_info = chosen is Disposition.NEEDS_INFO
    text = _text(note, "note", required=needs_info)
    values: dict[str, Any] = {"disposition": chosen,
                              "acknowledged_at": sa.func.coalesce(Ticket.acknowledged_at, _at(now)),
                              "state": TicketState.IN_PROGRESS if needs_info else TicketState.RESOLVED}
    if not needs_info:
        values["resolved_at"] = now
    return _apply(session, publisher, principal, ticket_id, _version(version), _Change(
        "needs_info" if needs_info else "resolved", _OPEN, values, {"disposition": chosen.value, "note": text}), now)


def bulk_acknowledge(session: Session, publisher: EventPublisher, principal: Principal,
                     versions: Mapping[int, int], *, now: datetime | None = None) -> BulkAcknowledgeResult:
    """Acknowledge many open tickets (id -> the version the user saw) in one statement; those
    changed meanwhile, no longer open or out of reach are reported, not touched."""
    _require_actor(principal)
    now = now or utcnow()
    if not versions:
        raise InvalidTicketAction("Select the tickets to acknowledge.", "tickets")
    if len(versions) > MAX_BULK:
        raise InvalidTicketAction(f"At most {MAX_BULK} tickets at once.", "tickets")
    wanted: dict[int, int] = {}
    for ticket_id, version in versions.items():
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
            raise InvalidTicketAction("Ticket ids must be numbers.", "tickets")
        wanted[ticket_id] = _version(version)
    pairs = sorted(wanted.items())
    rows = session.execute(
        sa.update(Ticket).where(scope_clause(principal), Ticket.state == TicketState.OPEN,
                                sa.tuple_(Ticket.id, Ticket.version).in_(pairs))
        .values(state=TicketState.ACKNOWLEDGED, acknowledged_at=now, updated_at=now, version=Ticket.version + 1,
                assignee_user_id=sa.func.coalesce(Ticket.assignee_user_id, principal.user_id))
        .returning(*_RETURNING)).all()
    for row in rows:
        _record(session, publisher, principal, row, "acknowledged", TicketState.OPEN, {"bulk": True}, now)
    done = {row.id for row in rows}
    rest = [ticket_id for ticket_id, _ in pairs if ticket_id not in done]
    found = {r.id: r for r in session.execute(sa.select(Ticket.id, Ticket.version, Ticket.state).where(
        scope_clause(principal), Ticket.id.in_(rest)))} if rest else {}
    conflicts = tuple(t for t in rest if t in found and found[t].version != wanted[t])
    return BulkAcknowledgeResult(
        acknowledged=tuple(sorted(done)), conflicts=conflicts,
        not_open=tuple(t for t in rest if t in found and t not in conflicts),
        missing=tuple(t for t in rest if t not in found))
