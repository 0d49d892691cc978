"""Read queries of the tickets page: the queue (filters, SLA state), one ticket's detail with
comments and history, the users a ticket can be assigned to.

Tenant and site scope: every query is cut to ``principal.tenant_id`` and, for a site-scoped
principal, to its site (tickets without a site — model alerts — are tenant-wide and shown only
to unscoped principals). Names are joined with the tenant in the join condition, so a row that
references another tenant's site, person or user never shows that name."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from backend.auth.principal import Principal
from backend.enums import Disposition, Role, TicketSource, TicketState
from backend.models import Person, Site, Ticket, TicketComment, TicketHistory, User, utcnow
from backend.queries.feed import site_options
from backend.queries.ticket_schemas import (TicketCommentView, TicketDetail, TicketFilters, TicketHistoryEntry,
                                            TicketPageSetup, TicketQueue, TicketRow, TicketRowsUpdate,
                                            UserOption)
from backend.tickets.permissions import can_act_on_tickets
from backend.tickets.sla import sla_status

QUEUE_LIMIT = 200
_Assignee = aliased(User, name="assignee")


def scope_clause(principal: Principal) -> sa.ColumnElement[bool]:
    """The tickets ``principal`` may see (tenant, and site when scoped). Shared with the actions."""
    clause = Ticket.tenant_id == principal.tenant_id
    if principal.site_id is not None:
        clause = sa.and_(clause, Ticket.site_id == principal.site_id)
    return clause


def _rows_select(principal: Principal) -> sa.Select[Any]:
    tenant = principal.tenant_id
    return (
        sa.select(Ticket.id, Ticket.version, Ticket.title, Ticket.source, Ticket.type, Ticket.priority,
                  Ticket.severity, Ticket.state, Ticket.disposition, Ticket.occurrences, Ticket.created_at,
                  Ticket.updated_at, Ticket.acknowledged_at, Ticket.resolved_at, Ticket.ack_due_at,
                  Ticket.resolve_due_at, Ticket.site_id, Ticket.assignee_user_id,
                  Site.code.label("site_code"), Site.name.label("site_name"), Site.timezone.label("site_timezone"),
                  Person.code.label("person_code"), Person.name.label("person_name"),
                  _Assignee.name.label("assignee_name"))
        .outerjoin(Site, sa.and_(Site.id == Ticket.site_id, Site.tenant_id == tenant))
        .outerjoin(Person, sa.and_(Person.id == Ticket.person_id, Person.tenant_id == tenant))
        .outerjoin(_Assignee, sa.and_(_Assignee.id == Ticket.assignee_user_id, _Assignee.tenant_id == tenant))
        .where(scope_clause(principal)))


def _redacts(principal: Principal, source: TicketSource) -> bool:
    # Wall displays (viewers) see what happened, not who: as the live channel redacts fraud tickets.
    return principal.role is Role.VIEWER and source is TicketSource.FRAUD


def _ticket_row(row: sa.Row[Any], principal: Principal, now: datetime) -> TicketRow:
    state, source = TicketState(row.state), TicketSource(row.source)
    sla = sla_status(row.priority, state, row.ack_due_at, row.resolve_due_at, row.resolved_at, now)
    redacted = _redacts(principal, source)
    return TicketRow(
        id=row.id, version=row.version, source=source, type=row.type, priority=row.priority,
        title=f"Suspected {row.type.replace('_', ' ')}" if redacted else row.title,
        severity=str(row.severity), state=state, disposition=row.disposition, occurrences=row.occurrences,
        created_at=row.created_at, updated_at=row.updated_at, acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at, sla_state=sla.state, sla_target=sla.target, sla_due_at=sla.due_at,
        site_id=row.site_id, site_code=row.site_code, site_name=row.site_name, site_timezone=row.site_timezone,
        person_code=None if redacted else row.person_code, person_name=None if redacted else row.person_name,
        assignee_id=row.assignee_user_id, assignee_name=row.assignee_name, redacted=redacted)


def _filter_clauses(principal: Principal, filters: TicketFilters) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.states:
        clauses.append(Ticket.state.in_(filters.states))
    if filters.priorities:
        clauses.append(Ticket.priority.in_(filters.priorities))
    if filters.site_id is not None:
        clauses.append(Ticket.site_id == filters.site_id)
    if filters.mine:
        # A wallboard has no user: nothing is assigned to it.
        clauses.append(Ticket.assignee_user_id == principal.user_id if principal.user_id else sa.false())
    return clauses


def ticket_queue(session: Session, principal: Principal, filters: TicketFilters, *,
                 limit: int = QUEUE_LIMIT, now: datetime | None = None) -> TicketQueue:
    """The tickets matching ``filters``, most urgent first (priority, then newest), at most ``limit``."""
    now = now or utcnow()
    clauses = _filter_clauses(principal, filters)
    query = _rows_select(principal).where(*clauses).order_by(
        Ticket.priority, Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    rows = tuple(_ticket_row(row, principal, now) for row in session.execute(query))
    matched = len(rows)
    if matched >= limit:
        matched = session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                                 .where(scope_clause(principal), *clauses)) or 0
    any_tickets = bool(rows) or session.scalar(
        sa.select(sa.exists().where(scope_clause(principal)))) is True
    return TicketQueue(rows=rows, matched=matched, limit=limit, any_tickets=any_tickets, as_of=now, filters=filters,
                       can_act=can_act_on_tickets(principal))


def ticket_rows(session: Session, principal: Principal, filters: TicketFilters, ticket_ids: list[int], *,
                now: datetime | None = None) -> TicketRowsUpdate:
    """For live patches: each asked ticket's row if it (still) matches ``filters``, else None."""
    now = now or utcnow()
    found = {row.id: _ticket_row(row, principal, now) for row in session.execute(
        _rows_select(principal).where(Ticket.id.in_(ticket_ids), *_filter_clauses(principal, filters)))}
    return TicketRowsUpdate(rows={ticket_id: found.get(ticket_id) for ticket_id in ticket_ids}, as_of=now,
                            can_act=can_act_on_tickets(principal))


def tickets_page_setup(session: Session, principal: Principal) -> TicketPageSetup:
    return TicketPageSetup(sites=tuple(site_options(session, principal)), site_locked=principal.site_id is not None,
                           can_act=can_act_on_tickets(principal))


def assignable_users(session: Session, principal: Principal, site_id: int | None) -> tuple[UserOption, ...]:
    """Active users of the tenant who can work a ticket of ``site_id``: not wall-display viewers,
    and tenant-wide or scoped to that site."""
    reach = User.site_id.is_(None) if site_id is None else sa.or_(User.site_id.is_(None), User.site_id == site_id)
    rows = session.execute(sa.select(User.id, User.name, User.role).where(
        User.tenant_id == principal.tenant_id, User.active.is_(True), User.role != Role.VIEWER, reach)
        .order_by(User.name, User.id))
    return tuple(UserOption(id=r.id, name=r.name, role=Role(r.role)) for r in rows)


_ACTIONS_WITH_NOTES = ("resolved", "needs_info")


def _history_summary(action: str, data: dict[str, Any], names: dict[int, str]) -> str:
    parts: list[str] = []
    if action == "occurrence":
        parts.append(f"occurrence {data.get('occurrences', '?')}")
    if action == "assigned":
        to = data.get("to_user_id")
        parts.append(f"to {names.get(to, 'someone') if isinstance(to, int) else 'nobody'}")
    if isinstance(disposition := data.get("disposition"), str) and disposition in Disposition.__members__.values():
        parts.append(disposition.replace("_", " "))
    if action in _ACTIONS_WITH_NOTES and isinstance(note := data.get("note"), str) and note:
        parts.append(f"“{note}”")
    if data.get("bulk"):
        parts.append("bulk")
    return " · ".join(parts)


def ticket_detail(session: Session, principal: Principal, ticket_id: int, *,
                  now: datetime | None = None) -> TicketDetail | None:
    """One ticket with its comments and history, or None if the principal may not see it."""
    now = now or utcnow()
    row = session.execute(_rows_select(principal).where(Ticket.id == ticket_id)).first()
    if row is None:
        return None
    ticket = _ticket_row(row, principal, now)
    tenant = principal.tenant_id
    author = aliased(User, name="author")
    comments = tuple(TicketCommentView(id=c.id, author=c.name or "someone", body=c.body, created_at=c.created_at)
                     for c in session.execute(
                         sa.select(TicketComment.id, TicketComment.body, TicketComment.created_at, author.name)
                         .outerjoin(author, sa.and_(author.id == TicketComment.user_id, author.tenant_id == tenant))
                         .where(TicketComment.tenant_id == tenant, TicketComment.ticket_id == ticket_id)
                         .order_by(TicketComment.id))) if not ticket.redacted else ()
    history_rows = session.execute(
        sa.select(TicketHistory.id, TicketHistory.action, TicketHistory.from_state, TicketHistory.to_state,
                  TicketHistory.data, TicketHistory.created_at, TicketHistory.actor_user_id, author.name)
        .outerjoin(author, sa.and_(author.id == TicketHistory.actor_user_id, author.tenant_id == tenant))
        .where(TicketHistory.tenant_id == tenant, TicketHistory.ticket_id == ticket_id)
        .order_by(TicketHistory.id)).all()  # insertion order is the order things happened
    can_act = can_act_on_tickets(principal)
    assignable = assignable_users(session, principal, ticket.site_id) if can_act else ()
    assignees = {d for h in history_rows if isinstance(d := (h.data or {}).get("to_user_id"), int)}
    names = dict(session.execute(sa.select(User.id, User.name).where(
        User.tenant_id == tenant, User.id.in_(assignees))).all()) if assignees else {}
    history = tuple(TicketHistoryEntry(
        id=h.id, action=h.action, actor=h.name if h.actor_user_id is not None else None,
        from_state=h.from_state, to_state=h.to_state,
        summary="" if ticket.redacted else _history_summary(h.action, h.data or {}, names),
        created_at=h.created_at) for h in history_rows)
    return TicketDetail(ticket=ticket, comments=comments, history=history, assignable=assignable, can_act=can_act,
                        as_of=now, my_user_id=principal.user_id)
