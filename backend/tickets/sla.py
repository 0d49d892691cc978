"""SLA due times by priority: how soon a ticket must be acknowledged and resolved, and where a
ticket stands against them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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


def due_times(priority: TicketPriority, opened_at: datetime) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by) for a ticket opened at ``opened_at``."""
    sla = SLAS[priority]
    return opened_at + sla.acknowledge, opened_at + sla.resolve


DUE_SOON_SHARE = 0.25  # "due soon" once less than this share of the target's span is left


@dataclass(frozen=True)
class SlaStatus:
    state: SlaState
    target: str | None          # "acknowledge" or "resolve": what is (or was) due
    due_at: datetime | None


def sla_status(state: TicketState, created_at: datetime, ack_due_at: datetime | None,
               resolve_due_at: datetime | None, resolved_at: datetime | None, now: datetime) -> SlaStatus:
    """The SLA state a ticket is in at ``now``: an open ticket answers to its acknowledge due
    time, an acknowledged one to its resolve due time; a resolved one met its SLA or not."""
    if state not in OPEN_TICKET_STATES:
        if resolve_due_at is None:
            return SlaStatus(SlaState.MET, None, None)
        late = resolved_at is not None and resolved_at > resolve_due_at
        return SlaStatus(SlaState.BREACHED if late else SlaState.MET, "resolve", resolve_due_at)
    target, due = ("acknowledge", ack_due_at) if state is TicketState.OPEN else ("resolve", resolve_due_at)
    if due is None:
        return SlaStatus(SlaState.ON_TIME, None, None)
    if now >= due or (resolve_due_at is not None and now >= resolve_due_at):
        return SlaStatus(SlaState.BREACHED, target, due)
    span = (due - created_at).total_seconds()
    left = (due - now).total_seconds()
    return SlaStatus(SlaState.DUE_SOON if span > 0 and left < span * DUE_SOON_SHARE else SlaState.ON_TIME,
                     target, due)
