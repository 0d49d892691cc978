"""SLA due times by priority (how soon a ticket must be acknowledged and resolved), and the
SLA state of an open ticket: on track, at risk (due soon) or breached.

The state has one definition, in two forms that a test keeps equal: ``sla_state`` for one
ticket (Python) and ``sla_state_sql`` for counting many in the database (a CASE)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from backend.enums import TicketPriority, TicketState


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

# "At risk" = the pending deadline is less than this share of its SLA away (a P1 ticket has
# under 3m45s left to be acknowledged, a P4 under 6 h): proportional, so it means the same
# urgency for every priority.
AT_RISK_SHARE = 0.25


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


def due_times(priority: TicketPriority, opened_at: datetime) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by) for a ticket opened at ``opened_at``."""
    sla = SLAS[priority]
    return opened_at + sla.acknowledge, opened_at + sla.resolve


def _margin(priority: TicketPriority, state: TicketState) -> timedelta:
    sla = SLAS[priority]
    return (sla.acknowledge if state is TicketState.OPEN else sla.resolve) * AT_RISK_SHARE


def sla_state(priority: TicketPriority, state: TicketState, ack_due_at: datetime | None,
              resolve_due_at: datetime | None, now: datetime) -> SlaState:
    """The SLA state of an open ticket. The pending deadline is the acknowledgement while the
    ticket is ``open`` (it comes before the resolution), the resolution once acknowledged."""
    due = ack_due_at if state is TicketState.OPEN else resolve_due_at
    if due is None:
        return SlaState.ON_TRACK
    if due < now:
        return SlaState.BREACHED
    return SlaState.AT_RISK if due < now + _margin(priority, state) else SlaState.ON_TRACK


def sla_state_sql(priority: Any, state: Any, ack_due_at: Any, resolve_due_at: Any, now: datetime,
                  time_type: sa.types.TypeEngine[datetime]) -> ColumnElement[str]:
    """``sla_state`` as a SQL CASE over ticket columns (for GROUP BY). ``time_type`` is the
    columns' type, so the bound times compare as stored (SQLite stores naive UTC text)."""
    def at(value: datetime) -> ColumnElement[datetime]:
        return sa.literal(value, time_type)

    is_open = state == TicketState.OPEN.value
    due = sa.case((is_open, ack_due_at), else_=resolve_due_at)
    at_risk_before = sa.case(
        *[(sa.and_(priority == p.value, is_open), at(now + _margin(p, TicketState.OPEN))) for p in TicketPriority],
        *[(priority == p.value, at(now + _margin(p, TicketState.ACKNOWLEDGED))) for p in TicketPriority],
        else_=at(now))
    return sa.case((due.is_(None), SlaState.ON_TRACK.value),
                   (due < at(now), SlaState.BREACHED.value),
                   (due < at_risk_before, SlaState.AT_RISK.value),
                   else_=SlaState.ON_TRACK.value)
