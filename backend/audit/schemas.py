"""What the audit read services return to pages: plain frozen dataclasses (no ORM rows)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SignalPoint:
    """One hour of one metric at a site, against that hour of week's baseline."""
    start: datetime               # the hour (UTC); shown in the site's time zone
    value: float
    centre: float | None          # None: no baseline for this hour of week yet
    lower: float | None           # centre -/+ threshold x spread
    upper: float | None
    samples: int
    active: bool                  # enough samples to flag anything
    anomalous: bool               # below the band on an active baseline


@dataclass(frozen=True)
class MetricSeries:
    metric: str
    label: str
    points: tuple[SignalPoint, ...]


@dataclass(frozen=True)
class AnomalousWindow:
    start: datetime
    end: datetime
    metrics: tuple[str, ...]
    finding_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SiteSignals:
    site_id: int
    site_name: str
    timezone: str
    start: datetime
    end: datetime
    series: tuple[MetricSeries, ...]
    anomalous_windows: tuple[AnomalousWindow, ...]


@dataclass(frozen=True)
class FindingItem:
    id: int
    type: str
    label: str
    severity: str
    site_id: int
    site_name: str
    site_timezone: str
    person_id: int | None
    person_name: str | None
    window_start: datetime
    window_end: datetime
    summary: str
    created_at: datetime
    evidence: dict[str, Any] = field(default_factory=dict)
