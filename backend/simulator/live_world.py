"""What the live feed needs to know about the demo world, read from the database at start
and again now and then (the roster grows while the feed runs): sites, guards, tours and the
roster from now on (by their external codes, which is all the public ingestion API speaks)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from backend.enums import AttendanceKind
from backend.models import AttendanceEvent, Checkpoint, Person, Shift, Site, Tour
from backend.runtime import Runtime
from backend.simulator.world import DEMO_SLUG
from backend.tenancy import tenant_by_slug


@dataclass(frozen=True)
class LiveSite:
    code: str
    lat: float
    lon: float
    radius_m: float
    timezone: str


@dataclass(frozen=True)
class LiveCheckpoint:
    code: str
    lat: float
    lon: float


@dataclass(frozen=True)
class LiveTour:
    code: str
    site: str
    checkpoints: tuple[LiveCheckpoint, ...]
    interval_minutes: int
    active_from: str
    active_to: str


@dataclass(frozen=True)
class LivePerson:
    code: str
    device_id: str
    home_site: str | None


@dataclass(frozen=True)
class LiveShift:
    code: str
    site: str
    person: str
    post: str
    starts: float   # epoch seconds
    ends: float

    @property
    def walks_tours(self) -> bool:
        return self.post == "post-1"


@dataclass(frozen=True)
class LiveWorld:
    tenant_id: int
    sites: dict[str, LiveSite]
    persons: dict[str, LivePerson]
    tours: tuple[LiveTour, ...]
    shifts: tuple[LiveShift, ...]        # ending after the read time, by start
    clocked_in: frozenset[str]           # shifts under way whose guard has already clocked in


class DemoWorldMissing(LookupError):
    pass


def load_live_world(runtime: Runtime, slug: str = DEMO_SLUG, now: datetime | None = None) -> LiveWorld:
    now = now or datetime.now(UTC)
    with runtime.read() as session:   # read-only: on SQLite, no write lock
        tenant = tenant_by_slug(session, slug)
        if tenant is None:
            raise DemoWorldMissing(f"no tenant {slug!r}: seed the demo world first")
        tid = tenant.id
        site_rows = session.execute(sa.select(Site.id, Site.code, Site.lat, Site.lon, Site.geofence_radius_m,
                                              Site.timezone).where(Site.tenant_id == tid, Site.active)).all()
        site_code = {r.id: r.code for r in site_rows}
        person_rows = session.execute(sa.select(Person.id, Person.code, Person.device_id, Person.home_site_id)
                                      .where(Person.tenant_id == tid, Person.active)).all()
        person_code = {r.id: r.code for r in person_rows}
        checkpoints = {r.id: LiveCheckpoint(r.code, r.lat, r.lon) for r in session.execute(
            sa.select(Checkpoint.id, Checkpoint.code, Checkpoint.lat, Checkpoint.lon).where(Checkpoint.tenant_id == tid))}
        tours = tuple(
            LiveTour(code=r.code, site=site_code[r.site_id], interval_minutes=r.interval_minutes,
                     checkpoints=tuple(checkpoints[c] for c in r.checkpoint_ids if c in checkpoints),
                     active_from=r.active_from, active_to=r.active_to)
            for r in session.execute(sa.select(Tour).where(Tour.tenant_id == tid)).scalars()
            if r.site_id in site_code)
        shift_rows = session.execute(
            sa.select(Shift.code, Shift.site_id, Shift.person_id, Shift.post, Shift.starts_at, Shift.ends_at)
            .where(Shift.tenant_id == tid, Shift.ends_at > now, Shift.person_id.is_not(None))
            .order_by(Shift.starts_at)).all()
        shifts = tuple(LiveShift(code=r.code, site=site_code[r.site_id], person=person_code[r.person_id],
                                 post=r.post, starts=r.starts_at.timestamp(), ends=r.ends_at.timestamp())
                       for r in shift_rows if r.site_id in site_code and r.person_id in person_code)
        # Who is clocked in right now: the last check-in/out of each person in the last day.
        last: dict[int, tuple[datetime, AttendanceKind]] = {}
        for person_id, ts, kind in session.execute(
                sa.select(AttendanceEvent.person_id, AttendanceEvent.ts, AttendanceEvent.kind)
                .where(AttendanceEvent.tenant_id == tid, AttendanceEvent.ts >= now - timedelta(hours=24))
                .order_by(AttendanceEvent.ts)):
            last[person_id] = (ts, kind)
    in_since = {person_code[p]: ts.timestamp() for p, (ts, kind) in last.items()
                if kind is AttendanceKind.CHECK_IN and p in person_code}
    clocked_in = frozenset(s.code for s in shifts if s.starts <= now.timestamp()
                           and s.person in in_since and in_since[s.person] >= s.starts - 2 * 3600)
    return LiveWorld(
        tenant_id=tid,
        sites={r.code: LiveSite(r.code, r.lat, r.lon, r.geofence_radius_m, r.timezone) for r in site_rows},
        persons={r.code: LivePerson(r.code, r.device_id or f"device-{r.code}", site_code.get(r.home_site_id))
                 for r in person_rows},
        tours=tours, shifts=shifts, clocked_in=clocked_in)
