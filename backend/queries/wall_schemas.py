"""What the wall display shows: plain, frozen, display-ready values (components import these).

Free of SQLAlchemy, Redis and Dash, like ``backend.queries.schemas``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from backend.enums import EventType, Severity, TicketPriority
from backend.queries.schemas import site_zone


@dataclass(frozen=True, slots=True)
class TicketCounts:
    """Open tickets of one priority by SLA state (``backend.tickets.sla``)."""
    priority: TicketPriority
    on_time: int = 0
    due_soon: int = 0
    breached: int = 0

    @property
    def total(self) -> int:
        return self.on_time + self.due_soon + self.breached


@dataclass(frozen=True, slots=True)
class WallTiles:
    """The KPI tiles. Windows: anomalies over the last hour, risk over the last 24 h, tour
    rounds judged in the last 24 h, guards on duty right now."""
    tickets: tuple[TicketCounts, ...]         # P1..P4, every priority present
    fraud_anomalies: int                      # check-ins scored ≥ the anomaly threshold, last hour
    audit_findings: int                       # audit findings raised in the last hour
    sites_at_risk: int                        # sites with a check-in scored ≥ the risk threshold (24 h)
    sites_total: int                          # active sites in view
    guards_on_duty: int                       # rostered now and clocked in for that shift
    guards_rostered: int                      # persons with a shift covering now
    tour_rounds_due: int                      # tour rounds due in the last 24 h (backend.queries.tours)
    tour_rounds_ok: int                       # ... that the audit's tour checks find nothing wrong with
    risk_threshold: float

    @property
    def open_tickets(self) -> int:
        return sum(c.total for c in self.tickets)

    @property
    def breached_tickets(self) -> int:
        return sum(c.breached for c in self.tickets)

    @property
    def anomalies(self) -> int:
        return self.fraud_anomalies + self.audit_findings

    @property
    def tour_compliance(self) -> float | None:
        """Share of the rounds due that were done as the audit demands; None when none was due."""
        return self.tour_rounds_ok / self.tour_rounds_due if self.tour_rounds_due else None


@dataclass(frozen=True, slots=True)
class WallPerson:
    """A high-risk guard. ``name`` and ``reasons`` are None/empty for viewers unless the
    tenant lets wall displays show person details (NOC_LIVE_VIEWER_PERSON_DETAILS)."""
    person_id: int
    code: str
    name: str | None
    score: float
    flagged: int
    site_name: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WallSite:
    site_id: int
    code: str
    name: str
    timezone: str
    lat: float
    lon: float
    risk: float | None          # highest fraud score in 24 h; None: nothing scored
    flagged: int
    scored: int


@dataclass(frozen=True, slots=True)
class WallEvent:
    """One broadcast event (README "Event envelope") as a feed line."""
    id: int
    type: EventType
    severity: Severity | None
    time: datetime                  # published (UTC, aware)
    title: str                      # ``backend.queries.event_text``: e.g. "New P1 ticket #3"
    summary: str                    # ... and one line of what happened
    site_id: int | None = None
    site_name: str | None = None
    site_timezone: str | None = None

    @property
    def local_time(self) -> datetime:
        return self.time.astimezone(site_zone(self.site_timezone))

    @property
    def urgent(self) -> bool:
        return self.severity in (Severity.HIGH, Severity.CRITICAL)


@dataclass(frozen=True, slots=True)
class WallView:
    tiles: WallTiles
    persons: tuple[WallPerson, ...]
    sites: tuple[WallSite, ...]
    events: tuple[WallEvent, ...] = field(default=())
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class WallFeed:
    events: tuple[WallEvent, ...]    # newest first
    as_of: datetime
