"""The time span one audit cycle looks at, and site-local hour-of-week.

A cycle is named by its window end, a multiple of the interval: re-running the same window
re-evaluates exactly the same things. It judges the state *as of* the window end minus the
lateness (uploads arrive late; judging later means judging on complete data), and re-checks
every deadline that fell in the lookback before that, so a missed cycle is caught up by the
next one. All times here are epoch seconds (UTC)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from backend.audit.rules import AuditRules

HOURS_PER_WEEK = 168


@dataclass(frozen=True)
class AuditWindow:
    window_end: float
    as_of: float          # the state is judged as of this instant
    since: float          # deadlines in (since, as_of] are evaluated
    signal_start: float   # activity signals: [signal_start, as_of)

    def due(self, deadline: float | np.ndarray) -> bool | np.ndarray:
        """Whether a deadline is judged by this cycle."""
        return (deadline > self.since) & (deadline <= self.as_of)

    @property
    def signal_mid(self) -> float:
        return (self.signal_start + self.as_of) / 2


def align(t: float, interval_s: float) -> float:
    return math.floor(t / interval_s) * interval_s


def audit_window(window_end: datetime | float, rules: AuditRules, lookback_s: float | None = None) -> AuditWindow:
    end = window_end.timestamp() if isinstance(window_end, datetime) else float(window_end)
    end = align(end, rules.interval_s)
    as_of = end - rules.lateness_s
    return AuditWindow(window_end=end, as_of=as_of, since=as_of - (lookback_s or rules.lookback_s),
                       signal_start=as_of - rules.signal_window_s)


def at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def iso(t: float) -> str:
    return at(t).isoformat()


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def hour_of_week(t: float, timezone: str) -> int:
    """0 = Monday 00:00-01:00 in the site's time zone."""
    local = datetime.fromtimestamp(t, _zone(timezone))
    return local.weekday() * 24 + local.hour


def hours_of_week(t: np.ndarray, timezone: str) -> np.ndarray:
    """Vectorised ``hour_of_week`` (DST-aware)."""
    local = pd.DatetimeIndex(pd.to_datetime(np.asarray(t, dtype=float), unit="s", utc=True)).tz_convert(timezone)
    return (local.day_of_week * 24 + local.hour).to_numpy(dtype=np.int64)


def local_time(t: float, timezone: str) -> str:
    """``"Mon 07:00"`` in the site's time zone, for finding summaries."""
    return datetime.fromtimestamp(t, _zone(timezone)).strftime("%a %H:%M")
