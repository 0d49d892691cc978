"""SLA due times by priority: how soon a ticket must be acknowledged and resolved."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.enums import TicketPriority


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
