"""Who a new ticket goes to by default: an active user of the tenant with the role the ticket
asks for, preferring one scoped to the ticket's site, then a tenant-wide one, then any other
(a manager of another site still beats nobody). Ties go to the longest-standing user (lowest
id), so the choice is stable. Supervisors reassign in the UI."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.enums import Role
from backend.models import User


def default_assignee(session: Session, tenant_id: int, role: Role, site_id: int | None) -> int | None:
    preference = sa.case((User.site_id == site_id, 0), (User.site_id.is_(None), 1), else_=2) \
        if site_id is not None else sa.case((User.site_id.is_(None), 0), else_=1)
    return session.scalar(sa.select(User.id)
                          .where(User.tenant_id == tenant_id, User.role == role, User.active.is_(True))
                          .order_by(preference, User.id).limit(1))
