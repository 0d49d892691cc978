"""Site-local wall-clock times as UTC instants (epoch seconds), and the scheduled rounds of a
tour: one definition for the simulator that plants rounds and the audits that check them."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_instant(day: date, hhmm: str, timezone: str) -> float:
    """Epoch seconds of a site-local wall-clock time ("24:00" = the next midnight)."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    extra_day, hours = divmod(hours, 24)
    local = datetime.combine(day + timedelta(days=extra_day), time(hours, minutes), tzinfo=_zone(timezone))
    return local.timestamp()


def local_date(ts: float, timezone: str) -> date:
    return datetime.fromtimestamp(ts, _zone(timezone)).date()


def round_times(active_from: str, active_to: str, interval_minutes: int, timezone: str,
                t0: float, t1: float) -> list[float]:
    """Scheduled starts of a tour's rounds in [t0, t1): every ``interval_minutes`` from
    ``active_from`` until ``active_to`` (site-local; an end before the start runs past midnight)."""
    times: list[float] = []
    day = local_date(t0, timezone) - timedelta(days=1)
    last = local_date(t1, timezone)
    overnight = active_to <= active_from
    while day <= last:
        begin = local_instant(day, active_from, timezone)
        finish = local_instant(day + timedelta(days=1) if overnight else day, active_to, timezone)
        t = begin
        while t < finish:
            if t0 <= t < t1:
                times.append(t)
            t += interval_minutes * 60
        day += timedelta(days=1)
    return times
