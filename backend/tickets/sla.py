"""SLA due times by priority (how soon a ticket must be acknowledged and resolved), and where a
ticket stands against them: on time, due soon, breached, or (resolved) met.

The state has one definition, in two forms that a test keeps equal: ``sla_status`` for one
ticket (Python; the tickets page) and ``sla_state_sql`` for counting many in the database (a
CASE; the wall's tiles)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from backend.enums import OPEN_TICKET_STATES, SlaState, TicketPriority, TicketState


@dataclass(frozen=True)
class Sla:
    acknowledge: timedelta
    resolve: timedelta


SLAS: dict[TicketPriority, Sla] = {
    TicketPriority.P1: Sla(timedelta(minutes=15), timedelta(hours=4)),
    TicketPriority.P2: Sla(timedelta(hours=1), timedelta(hours=24)),
    TicketPriority.P3: Sla(timedelta(hours=4), timedelta(days=3)),
    TicketPriority.P4: Sla(timedelta(hours=24), timedelta(days=7)),
}

# "Due soon" = the pending deadline is less than this share of its SLA away (a P1 ticket has
# under 3m45s left to be acknowledged, a P4 under 6 h): proportional, so it means the same
# urgency for every priority.
DUE_SOON_SHARE = 0.25


def due_times(priority: TicketPriority, opened_at: datetime) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by) for a ticket opened at ``opened_at``."""
    sla = SLAS[priority]
    return opened_at + sla.acknowledge, opened_at + sla.resolve


def _due_soon_margin(priority: TicketPriority, state: TicketState) -> timedelta:
    sla = SLAS[priority]
    return (sla.acknowledge if state is TicketState.OPEN else sla.resolve) * DUE_SOON_SHARE


@dataclass(frozen=True)
class SlaStatus:
    state: SlaState
    target: str | None          # "acknowledge" or "resolve": what is (or was) due
    due_at: datetime | None


def sla_status(priority: TicketPriority, state: TicketState, ack_due_at: datetime | None,
               resolve_due_at: datetime | None, resolved_at: datetime | None, now: datetime) -> SlaStatus:
    """The SLA state of a ticket at ``now``: an open ticket answers to its acknowledge due time
    (it comes first), an acknowledged one to its resolve due time; a resolved one met it or not."""
    if state not in OPEN_TICKET_STATES:
        if resolve_due_at is None:
            return SlaStatus(SlaState.MET, None, None)
        late = resolved_at is not None and resolved_at > resolve_due_at
        return SlaStatus(SlaState.BREACHED if late else SlaState.MET, "resolve", resolve_due_at)
    target, due = ("acknowledge", ack_due_at) if state is TicketState.OPEN else ("resolve", resolve_due_at)
    if due is None:
        return SlaStatus(SlaState.ON_TIME, None, None)
    if due <= now:
        return SlaStatus(SlaState.BREACHED, target, due)
    soon = due < now + _due_soon_margin(TicketPriority(priority), state)
    return SlaStatus(SlaState.DUE_SOON if soon else SlaState.ON_TIME, target, due)


def sla_state_sql(priority: Any, state: Any, ack_due_at: Any, resolve_due_at: Any, now: datetime,
                  time_type: sa.types.TypeEngine[datetime]) -> ColumnElement[str]:
    """``sla_status(...).state`` of an OPEN ticket as a SQL CASE over ticket columns (for GROUP
    BY). ``time_type`` is the columns' type, so the bound times compare as stored (SQLite stores
    naive UTC text)."""
    def at(value: datetime) -> ColumnElement[datetime]:
        return sa.literal(value, time_type)

    is_open = state == TicketState.OPEN.value
    due = sa.case((is_open, ack_due_at), else_=resolve_due_at)
    due_soon_before = sa.case(
        *[(sa.and_(priority == p.value, is_open), at(now + _due_soon_margin(p, TicketState.OPEN)))
          for p in TicketPriority],
        *[(priority == p.value, at(now + _due_soon_margin(p, TicketState.ACKNOWLEDGED))) for p in TicketPriority],
        else_=at(now))
    return sa.case((due.is_(None), SlaState.ON_TIME.value),
                   (due <= at(now), SlaState.BREACHED.value),
                   (due < due_soon_before, SlaState.DUE_SOON.value),
                   else_=SlaState.ON_TIME.value)
