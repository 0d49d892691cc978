"""Who sees which events: the tenant, the site scope and the role of a socket's principal.

Sockets with equal audiences get the very same frames (encoded once); the replay from the log
applies the same rule in SQL, so live and replayed events can never differ in what they show."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from backend.auth.principal import Principal
from backend.config import Settings
from backend.enums import EventType, Role
from backend.live.envelopes import LiveEvent
from backend.models import EventLogEntry

# Events about the tenant as a whole (no site): a site-scoped user sees these too. Any other
# event without a site is withheld from site-scoped users (it may concern another site).
TENANT_WIDE_TYPES = frozenset({EventType.MODEL_TRAINED.value, EventType.MODEL_ACTIVATED.value,
                               EventType.MODEL_TRAINING.value, EventType.SYSTEM.value})


@dataclass(frozen=True)
class Audience:
    tenant_id: int
    site_id: int | None   # set: this site (and tenant-wide events) only
    redacted: bool        # viewers: person-level fraud events without the person

    @classmethod
    def of(cls, principal: Principal, settings: Settings) -> "Audience":
        return cls(tenant_id=principal.tenant_id, site_id=principal.site_id,
                   redacted=principal.role is Role.VIEWER and not settings.live_viewer_person_details)

    def sees(self, event: LiveEvent) -> bool:
        if event.tenant != self.tenant_id:
            return False
        if self.site_id is None:
            return True
        return event.site == self.site_id or (event.site is None and event.type in TENANT_WIDE_TYPES)

    def log_filter(self) -> ColumnElement[bool]:
        """The same rule as ``sees``, for queries on the event log."""
        clause = EventLogEntry.tenant_id == self.tenant_id
        if self.site_id is not None:
            clause = sa.and_(clause, sa.or_(
                EventLogEntry.site_id == self.site_id,
                sa.and_(EventLogEntry.site_id.is_(None),
                        EventLogEntry.type.in_([EventType(t) for t in TENANT_WIDE_TYPES]))))
        return clause
