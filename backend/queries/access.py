"""Who may read person-level fraud detail, and who may export it.

The live channel hides who and why of fraud events from viewers (wall displays: screens in a
control room, README "Live channel"); the pages follow the same rule, so a viewer account gets
neither the names nor the reasons by opening /fraud or /persons. Operators and above read them;
exporting a person's evidence (a file that leaves the system, for HR) takes a security manager."""
from __future__ import annotations

from backend.auth.principal import Principal
from backend.enums import Role

FRAUD_READER = Role.OPERATOR
EVIDENCE_EXPORTER = Role.SECURITY_MANAGER


class NotAllowed(PermissionError):
    """The principal's role may not read this; pages show it, routes answer 403."""

    def __init__(self, needed: Role) -> None:
        super().__init__(f"needs the {needed.value} role or higher")
        self.needed = needed


def require_role(principal: Principal, needed: Role) -> None:
    if not principal.at_least(needed):
        raise NotAllowed(needed)


def may_read_fraud(principal: Principal) -> bool:
    return principal.at_least(FRAUD_READER)


def may_export_evidence(principal: Principal) -> bool:
    return principal.at_least(EVIDENCE_EXPORTER)
