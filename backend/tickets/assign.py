"""Who a new ticket goes to by default: an active user of the tenant with the role the ticket
asks for, preferring one scoped to the ticket's site, then a tenant-wide one, then any other
(a manager of another site still beats nobody). Ties go to the longest-standing user (lowest
id), so the choice is stable. Supervisors reassign in the UI.

The candidates are read once (``assignee_candidates``, a handful of users) and picked from per
ticket (``pick_assignee``), so a batch of tickets costs one query, whatever its sites."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.enums import Role
from backend.models import User

Candidate = tuple[int, int | None]     # user id, the site the user is scoped to (None: tenant-wide)


def assignee_candidates(session: Session, tenant_id: int, role: Role) -> list[Candidate]:
    return [(user_id, site_id) for user_id, site_id in session.execute(
        sa.select(User.id, User.site_id).where(User.tenant_id == tenant_id, User.role == role,
                                               User.active.is_(True)).order_by(User.id))]


def pick_assignee(candidates: list[Candidate], site_id: int | None) -> int | None:
    def preference(candidate: Candidate) -> tuple[int, int]:
        user_id, scope = candidate
        return (0 if site_id is not None and scope == site_id else 1 if scope is None else 2), user_id
    return min(candidates, key=preference)[0] if candidates else None
