"""Tickets (with comments and append-only history) and the broadcast event log."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.enums import (Disposition, EventType, Severity, TicketPriority, TicketSource,
                           TicketState)
from backend.models.base import Base, BigId, StrEnumType, created_at_column, person_fk, site_fk, tenant_fk

_OPEN = "state IN ('open', 'acknowledged', 'in_progress')"


class Ticket(Base):
    """Work for a person. At most one *open* ticket per (tenant, dedup key): a partial unique
    index, so two racing escalations cannot both insert. ``version`` guards concurrent edits."""
    __tablename__ = "tickets"
    __table_args__ = (
        sa.Index("uq_tickets_open_dedup", "tenant_id", "dedup_key", unique=True,
                 postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN)),
        sa.Index("ix_tickets_tenant_state_priority", "tenant_id", "state", "priority"),
        sa.Index("ix_tickets_tenant_created", "tenant_id", "created_at"),
        sa.Index("ix_tickets_tenant_site_created", "tenant_id", "site_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    site_id: Mapped[int | None] = site_fk(nullable=True)
    person_id: Mapped[int | None] = person_fk(nullable=True)
    source: Mapped[TicketSource] = mapped_column(StrEnumType(TicketSource))
    type: Mapped[str] = mapped_column(sa.String(64))
    dedup_key: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str] = mapped_column(sa.String(300))
    priority: Mapped[TicketPriority] = mapped_column(StrEnumType(TicketPriority))
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    state: Mapped[TicketState] = mapped_column(StrEnumType(TicketState), default=TicketState.OPEN)
    assignee_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    disposition: Mapped[Disposition | None] = mapped_column(StrEnumType(Disposition))
    occurrences: Mapped[int] = mapped_column(sa.Integer, default=1)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ack_due_at: Mapped[datetime | None]
    resolve_due_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class TicketComment(Base):
    __tablename__ = "ticket_comments"
    __table_args__ = (sa.Index("ix_ticket_comments_ticket", "ticket_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()


class TicketHistory(Base):
    """Append-only: every change to a ticket, who made it, from what to what."""
    __tablename__ = "ticket_history"
    __table_args__ = (sa.Index("ix_ticket_history_ticket", "ticket_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[TicketState | None] = mapped_column(StrEnumType(TicketState))
    to_state: Mapped[TicketState | None] = mapped_column(StrEnumType(TicketState))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created_at_column()


class EventLogEntry(Base):
    """Every broadcast event, with a monotonic id clients resume from."""
    __tablename__ = "event_log"
    __table_args__ = (sa.Index("ix_event_log_tenant_id", "tenant_id", "id"),
                      sa.Index("ix_event_log_tenant_type_created", "tenant_id", "type", "created_at"),
                      sa.Index("ix_event_log_tenant_site_created", "tenant_id", "site_id", "created_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    type: Mapped[EventType] = mapped_column(StrEnumType(EventType))
    severity: Mapped[Severity | None] = mapped_column(StrEnumType(Severity))
    site_id: Mapped[int | None] = site_fk(nullable=True)
    person_id: Mapped[int | None] = person_fk(nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created_at_column()
