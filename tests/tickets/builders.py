"""Tickets for tests, opened the way scoring and audits open them (``open_or_add_occurrence``)."""
from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backend.auth.principal import Principal
from backend.auth.users import create_user, principal_of
from backend.enums import Role, Severity, TicketPriority, TicketSource
from backend.models import User
from backend.runtime import Runtime
from backend.tickets import TicketSpec, open_or_add_occurrence
from tests.factories import PASSWORD, World

_keys = itertools.count(1)


def open_ticket(runtime: Runtime, world: World, *, site: str | None = "S1", person: str | None = "P1",
                source: TicketSource = TicketSource.FRAUD, priority: TicketPriority = TicketPriority.P2,
                title: str = "GPS spoofing suspected", type: str = "gps_spoofing",
                details: dict[str, Any] | None = None, now: datetime | None = None) -> int:
    spec = TicketSpec(tenant_id=world.tenant_id, source=source, type=type, dedup_key=f"test:{next(_keys)}",
                      title=title, priority=priority, severity=Severity.HIGH,
                      site_id=world.site_ids[site] if site else None,
                      person_id=world.person_ids[person] if person else None, details=details or {})
    with runtime.transaction() as session:
        return open_or_add_occurrence(session, runtime.events, spec, now=now).ticket_id


def principal(runtime: Runtime, world: World, role: Role) -> Principal:
    with runtime.read() as session:
        user = session.scalars(sa.select(User).where(User.email == world.users[role])).one()
        return principal_of(user)


def add_user(runtime: Runtime, world: World, role: Role, name: str, site: str | None = None) -> Principal:
    """Another user of ``world`` (e.g. a second supervisor, or one scoped to a site)."""
    email = f"{name.lower().replace(' ', '.')}.{next(_keys)}@{world.slug}.test"
    with runtime.transaction() as session:
        user = create_user(session, world.tenant_id, email, name, PASSWORD, role,
                           site_id=world.site_ids[site] if site else None)
        return principal_of(user)
