"""What the read queries return: plain, frozen, display-ready values.

Components import these (and only these) from the backend, so this module must stay free of
SQLAlchemy, Redis and Dash."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.enums import InputType


@lru_cache(maxsize=512)
def site_zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo of a site's time zone name; UTC when unknown (a bad name must not break a page)."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One ingested input, ready to show: ``key`` is unique across the typed input tables."""
    key: str                      # "<type>:<row id>", stable across refreshes
    type: InputType
    ts: datetime                  # when it happened, timezone-aware UTC
    summary: str                  # one line, e.g. "check-in · 38.7012, -9.1401 · ±8 m"
    site_id: int | None = None    # pings and phone activity may come without a site
    site_code: str | None = None
    site_name: str | None = None
    site_timezone: str | None = None
    person_code: str | None = None
    person_name: str | None = None
    alert: bool = False           # deserves attention: a NOC alert, a mock location, …

    @property
    def local_ts(self) -> datetime:
        """``ts`` in the site's time zone (UTC for events without a site)."""
        return self.ts.astimezone(site_zone(self.site_timezone))


@dataclass(frozen=True, slots=True)
class SiteOption:
    id: int
    code: str
    name: str
    timezone: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"

