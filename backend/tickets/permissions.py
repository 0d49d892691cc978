"""Who may act on tickets: supervisors and admins signed in as users (a wallboard token never
acts). The one rule, read by the actions (which refuse) and the page (which hides the buttons)."""
from __future__ import annotations

from backend.auth.principal import Principal
from backend.enums import Role

ACTING_ROLE = Role.SUPERVISOR


def can_act_on_tickets(principal: Principal) -> bool:
    return principal.user_id is not None and principal.at_least(ACTING_ROLE)
