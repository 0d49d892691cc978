"""What the sites table and the site page show: plain, frozen values (no SQLAlchemy, no Dash),
so components can take them. Times are UTC; ``local`` turns them into the site's time zone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.audit.schemas import FindingItem, SiteSignals
from backend.enums import TicketPriority
from backend.queries.schemas import site_zone


def local(ts: datetime | None, timezone: str | None) -> datetime | None:
    """``ts`` in the site's time zone (None stays None)."""
    return ts.astimezone(site_zone(timezone)) if ts is not None else None


@dataclass(frozen=True, slots=True)
class TourCompliance:
    """One tour's rounds judged over the compliance window (24 h)."""
    tour_id: int
    site_id: int
    name: str
    checkpoints: int
    interval_minutes: int
    active_from: str              # site-local HH:MM
    active_to: str
    due: int                      # rounds whose slot ended in the window
    compliant: int                # of which the tour checks found nothing wrong
    missed: int
    late: int
    incomplete: int
    suspicious: int               # scan stuffing, scans far from their tags

    @property
    def rate(self) -> float | None:
        return self.compliant / self.due if self.due else None


@dataclass(frozen=True, slots=True)
class SiteRow:
    """One line of the sites table (and the header of the site page)."""
    site_id: int
    code: str
    name: str
    city: str | None
    timezone: str
    risk: float | None            # backend.queries.risk: highest fraud score in 24 h
    flagged: int                  # check-ins scored at or above the anomaly threshold
    scored: int
    open_tickets: int
    open_by_priority: dict[TicketPriority, int]
    compliance: float | None      # compliant rounds / rounds due in 24 h; None: no round due
    rounds_due: int
    last_activity: datetime | None    # newest input of any kind at the site (UTC)

    @property
    def local_last_activity(self) -> datetime | None:
        return local(self.last_activity, self.timezone)


@dataclass(frozen=True, slots=True)
class IncidentItem:
    id: int
    severity: str
    title: str
    window_start: datetime
    window_end: datetime
    person_id: int | None
    person_name: str | None
    alerts: int
    findings: int


@dataclass(frozen=True, slots=True)
class TicketItem:
    id: int
    title: str                    # "Fraud ticket" for viewers: a fraud ticket's title names the guard
    priority: TicketPriority
    severity: str
    state: str
    source: str
    created_at: datetime
    occurrences: int
    person_id: int | None
    person_name: str | None


@dataclass(frozen=True, slots=True)
class PersonOnSite:
    """Someone rostered at the site now, or who punched in or out there in the last 24 h."""
    person_id: int
    code: str
    name: str
    on_shift: bool                # a shift at this site covers now
    shift_end: datetime | None    # the end of that shift
    last_punch: str | None        # check_in / check_out (newest at this site in 24 h)
    last_punch_at: datetime | None
    risk: float | None            # backend.queries.risk (None: nothing scored, or hidden)
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SiteDetail:
    summary: SiteRow
    lat: float
    lon: float
    geofence_radius_m: float
    signals: SiteSignals | None               # None when not asked for (live refreshes)
    findings: tuple[FindingItem, ...]
    incidents: tuple[IncidentItem, ...]
    tickets: tuple[TicketItem, ...]           # open first, then the recently closed
    persons: tuple[PersonOnSite, ...]
    tours: tuple[TourCompliance, ...]
    scores_hidden: bool                       # viewers: no person-level fraud details
    generated_at: datetime
    flag_score: float = 0.5                   # the anomaly threshold the risk colours use
    since: datetime | None = None             # findings/incidents/tickets shown from here
