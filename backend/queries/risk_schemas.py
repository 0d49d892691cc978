"""What the risk reads return (``backend/queries/risk.py``): plain frozen values that
components may import (no SQLAlchemy here)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.enums import Scorer


@dataclass(frozen=True, slots=True)
class PersonRisk:
    person_id: int
    person_code: str
    person_name: str
    score: float                 # the highest score in the window
    flagged: int                 # check-ins at or above ``min_score`` in the window
    last_flagged_at: datetime    # the newest of them (UTC)
    scored_at_ts: datetime       # when the highest-scoring check-in happened (UTC)
    scorer: Scorer
    reasons: tuple[str, ...]     # of the highest-scoring check-in, strongest first
    site_id: int                 # where the highest-scoring check-in happened
    site_name: str
    site_timezone: str


@dataclass(frozen=True, slots=True)
class SiteRisk:
    site_id: int
    site_code: str
    site_name: str
    site_timezone: str
    lat: float
    lon: float
    risk: float | None           # highest score in the window; None: nothing scored there
    flagged: int                 # check-ins at or above the threshold
    scored: int                  # check-ins scored in the window
