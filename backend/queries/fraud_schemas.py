"""What the fraud and person read services return: plain, frozen, display-ready values
(components import these; no SQLAlchemy, Redis or Dash here). Person and site risk themselves
are ``backend.queries.risk.PersonRisk`` / ``SiteRisk``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from backend.enums import AttendanceKind, FraudKind, Scorer, Severity, TicketPriority, TicketState
from backend.queries.risk_schemas import PersonRisk, SiteRisk
from backend.queries.schemas import site_zone

SCORE_BINS = 20            # the score histogram: bins of 0.05 from 0 to 1


def score_bin(score: float) -> int:
    """The histogram bin of a score (1.0 falls in the last bin)."""
    return min(SCORE_BINS - 1, max(0, int(score * SCORE_BINS)))


@dataclass(frozen=True, slots=True)
class DailyScores:
    """Scores of one day: check-ins counted on their site's local date."""
    day: date
    scored: int
    flagged: int                   # at or above the anomaly threshold
    max_score: float | None        # None: nothing scored that day
    mean_score: float | None


@dataclass(frozen=True, slots=True)
class SiteHourCell:
    """Flagged check-ins of one site in one site-local hour of the day, over the trend window."""
    site_id: int
    site_name: str
    hour: int                      # 0..23, site-local
    flagged: int


@dataclass(frozen=True, slots=True)
class FraudOverview:
    threshold: float
    high_risk: tuple[PersonRisk, ...]     # score ≥ threshold in the last 24 h, riskiest first
    bins: tuple[int, ...]                 # SCORE_BINS counts of the last 24 h's scores
    trend: tuple[DailyScores, ...]        # the last ``days`` days, oldest first, empty days included
    site_hours: tuple[SiteHourCell, ...]  # non-empty cells only
    sites: tuple[SiteRisk, ...]           # every visible site with its 24 h risk
    days: int

    @property
    def scored_24h(self) -> int:
        return sum(self.bins)


@dataclass(frozen=True, slots=True)
class Reason:
    feature: str
    text: str                      # the sentence a manager reads ("mock-location flag set")
    weight: float
    doc: str                       # what the feature measures (backend.scoring.catalog)


@dataclass(frozen=True, slots=True)
class Anomaly:
    type: FraudKind
    severity: Severity


@dataclass(frozen=True, slots=True)
class CheckIn:
    """One check-in/out of a person with its score and what was found on it."""
    event_id: int
    ts: datetime                   # UTC
    kind: AttendanceKind
    site_id: int
    site_code: str
    site_name: str
    site_timezone: str
    lat: float
    lon: float
    gps_accuracy_m: float | None
    biometric_quality: float | None
    mock_location: bool
    device_id: str | None
    battery_pct: float | None
    signal_dbm: float | None
    score: float | None            # None: not scored yet
    scorer: Scorer | None
    model_version_id: int | None
    reasons: tuple[Reason, ...]
    anomalies: tuple[Anomaly, ...]

    @property
    def local_ts(self) -> datetime:
        return self.ts.astimezone(site_zone(self.site_timezone))


@dataclass(frozen=True, slots=True)
class SiteArea:
    """A site's position and geofence, drawn under a person's trail."""
    site_id: int
    name: str
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class PersonTicket:
    id: int
    title: str
    type: str
    state: TicketState
    priority: TicketPriority
    severity: Severity
    disposition: str | None
    created_at: datetime           # UTC
    site_name: str | None
    site_timezone: str | None

    @property
    def local_created_at(self) -> datetime:
        return self.created_at.astimezone(site_zone(self.site_timezone))


@dataclass(frozen=True, slots=True)
class PersonSummary:
    """A person in the list, with their risk of the last 24 h."""
    person_id: int
    code: str
    name: str
    active: bool
    home_site_name: str | None
    risk: float | None             # highest score in 24 h; None: nothing scored
    flagged: int                   # check-ins at or above the threshold in 24 h
    scored: int
    top_reason: str | None         # of the highest-scoring check-in


@dataclass(frozen=True, slots=True)
class PersonList:
    persons: tuple[PersonSummary, ...]
    truncated: bool                # more persons match than are shown
    search: str
    threshold: float


@dataclass(frozen=True, slots=True)
class PersonDetail:
    summary: PersonSummary
    device_id: str | None
    threshold: float
    days: int
    checkins: tuple[CheckIn, ...]   # newest first, the last ``days`` days
    trend: tuple[DailyScores, ...]  # oldest first
    tickets: tuple[PersonTicket, ...]
    sites: tuple[SiteArea, ...]     # where the check-ins happened
    may_export: bool                # the evidence CSV is offered (security manager and above)
