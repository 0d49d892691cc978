"""The page registry as a principal sees it: a page registered with ``min_role="<role>"`` is
for that role and above. Menus and the wall's page rotation list only what the principal may
open (the page and its services still check the role: this keeps menus honest and spares users
dead ends)."""
from __future__ import annotations

from typing import Any

from backend.auth.principal import Principal
from backend.enums import Role


def may_open(page: dict[str, Any], principal: Principal | None) -> bool:
    min_role = page.get("min_role")
    return min_role is None or (principal is not None and principal.at_least(Role(min_role)))
