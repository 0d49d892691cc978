"""Who is asking: a logged-in user or a wallboard token, with tenant, role and site scope.

Every backend read takes a ``Principal`` (or its tenant id) explicitly."""
from __future__ import annotations

from dataclasses import dataclass

from backend.enums import ROLE_RANK, Role


@dataclass(frozen=True)
class Principal:
    tenant_id: int
    role: Role
    name: str
    user_id: int | None = None            # None for a wallboard token
    site_id: int | None = None            # set = may see this site only
    wallboard_token_id: int | None = None

    # Flask-Login's protocol.
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return f"u:{self.user_id}" if self.user_id is not None else f"w:{self.wallboard_token_id}"

    def at_least(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]
