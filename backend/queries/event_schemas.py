"""What the event log search takes and returns: plain, frozen values (no SQLAlchemy, no Dash).

``EventQuery`` round-trips through a URL query string (``from_query`` / ``to_query``), so a
search can be shared as a link; anything malformed in it is dropped, never trusted."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from backend.enums import EventType
from backend.queries.schemas import site_zone

MAX_PERSON_TEXT = 100


def _one(value: Any) -> str | None:
    # Dash's page router gives a repeated key as a list and a single one as a string.
    if isinstance(value, list):
        value = value[-1] if value else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _many(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [part.strip() for v in values if isinstance(v, str) for part in v.split(",") if part.strip()]


def _positive_int(value: Any) -> int | None:
    text = _one(value)
    return int(text) if text is not None and text.isdigit() and 0 < len(text) <= 18 else None


def _local_datetime(value: Any) -> datetime | None:
    """A naive wall-clock time (``2026-11-21T08:00`` or a date): interpreted in the zone the
    search names (see ``EventQuery.zone``)."""
    text = _one(value)
    if text is None or len(text) > 32:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None, second=0, microsecond=0)


@dataclass(frozen=True)
class EventQuery:
    """A search of the event log. ``since``/``until`` are wall-clock times in the selected
    site's time zone (UTC when no site is selected); ``before`` is the keyset cursor (the
    oldest id of the previous page; None: the newest page)."""
    types: tuple[EventType, ...] = ()
    site_id: int | None = None
    person: str | None = None        # part of a person's code or name, case-insensitive
    since: datetime | None = None    # naive, inclusive
    until: datetime | None = None    # naive, exclusive
    before: int | None = None

    @classmethod
    def from_query(cls, query: dict[str, Any]) -> "EventQuery":
        known = {t.value for t in EventType}
        types = tuple(sorted({EventType(t) for t in _many(query.get("type")) if t in known}))
        person = _one(query.get("person"))
        return cls(types=types, site_id=_positive_int(query.get("site")),
                   person=person[:MAX_PERSON_TEXT] if person else None,
                   since=_local_datetime(query.get("since")), until=_local_datetime(query.get("until")),
                   before=_positive_int(query.get("before")))

    def to_query(self) -> str:
        """The URL query string (with its ``?``; empty for no criteria at all)."""
        pairs: list[tuple[str, str]] = []
        if self.types:
            pairs.append(("type", ",".join(t.value for t in self.types)))
        if self.site_id is not None:
            pairs.append(("site", str(self.site_id)))
        if self.person:
            pairs.append(("person", self.person))
        if self.since:
            pairs.append(("since", self.since.strftime("%Y-%m-%dT%H:%M")))
        if self.until:
            pairs.append(("until", self.until.strftime("%Y-%m-%dT%H:%M")))
        if self.before is not None:
            pairs.append(("before", str(self.before)))
        return "?" + urlencode(pairs) if pairs else ""

    def newest(self) -> "EventQuery":
        return replace(self, before=None)

    def older_than(self, event_id: int) -> "EventQuery":
        return replace(self, before=event_id)

    @property
    def filtered(self) -> bool:
        return bool(self.types or self.site_id is not None or self.person or self.since or self.until)


def span_utc(since: datetime | None, until: datetime | None, timezone: str | None,
             ) -> tuple[datetime | None, datetime | None]:
    """The search's wall-clock bounds as UTC instants, in the given zone."""
    zone = site_zone(timezone)
    return (since.replace(tzinfo=zone) if since else None, until.replace(tzinfo=zone) if until else None)


@dataclass(frozen=True, slots=True)
class EventItem:
    """One event of the log, ready to show (redacted for viewers like the live channel)."""
    id: int
    type: EventType
    severity: str | None
    created_at: datetime             # UTC
    site_id: int | None
    site_code: str | None
    site_name: str | None
    site_timezone: str | None
    person_id: int | None
    person_code: str | None
    person_name: str | None
    title: str                       # ``backend.queries.event_text``: e.g. "Ticket #7 acknowledged"
    summary: str                     # ... and one line of what happened

    @property
    def local_time(self) -> datetime:
        return self.created_at.astimezone(site_zone(self.site_timezone))


@dataclass(frozen=True)
class EventPage:
    """One page of a search, newest first. ``older`` is the cursor of the next (older) page,
    None at the end of the log."""
    items: tuple[EventItem, ...]
    query: EventQuery
    older: int | None
    site_timezone: str | None        # the zone ``since``/``until`` were read in (None: UTC)
    unknown_site: bool = False       # the search named a site the user cannot see
    matched_persons: int | None = None   # persons the person text matched (None: no person text)

