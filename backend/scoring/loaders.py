"""Everything the features of one batch of check-ins/outs read, in a fixed number of
set-based queries (one per input, whatever the batch size; never one per event):

the events; their sites; the persons' punches of the 30 days before; punches on the same
phones in the 12 h before; the persons' shifts around the batch; their confirmed cases; their
location fixes and the sites' tour scans of the 16 h before (a duty's length); the sites'
tours; and, for the reasons' sentences, the owners of the phones punched from that are not
the puncher's and the names of everyone a reason may cite (read here, with the rest, so that
scoring a loaded batch touches no database). Windows are relative to the batch's earliest and
latest event; the features then cut each event's own window out of them, so a feature never
depends on how events were batched.

Statements are ``sql.Query`` objects (compiled once); the large reads return numbers only,
straight into numpy."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.enums import AttendanceKind
from backend.models import AttendanceEvent, CheckpointScan, LocationPing, Person, Shift, Site, Tour
from backend.scoring.labels import fraud_case_times
from backend.scoring.sql import Query, at_epoch, f8, i8, in_list, param, t8

HOUR = 3600.0
DAY = 86_400.0
HISTORY_S = 30 * DAY        # punches and confirmed cases a person's history looks back on
DEVICE_LOOKBACK_S = 12 * HOUR
DUTY_MAX_S = 16 * HOUR      # a check-out's matching check-in is at most this far back
SHIFT_MARGIN_S = 2 * DAY    # shifts that may still run, or start within a day
# Upper bounds get a second of slack: SQLite compares stored text to millisecond precision.
# Rows at or after an event never enter its own windows (they are cut at t' < t).
_SLACK_S = 1.0


class Columns(dict[str, np.ndarray]):
    """Equally long numpy columns: one loaded input."""

    @property
    def size(self) -> int:
        return len(next(iter(self.values()))) if dict.__len__(self) else 0


@dataclass
class Sites:
    """Site id -> position, geofence, time zone (sorted by id for vectorised lookup)."""
    id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    radius: np.ndarray
    tz: np.ndarray    # object array of zone names

    def index(self, site_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.id, site_ids)


@dataclass
class Events:
    """The batch, ordered by id. Float columns are NaN where the device sent nothing."""
    id: np.ndarray
    person: np.ndarray
    site: np.ndarray
    is_out: np.ndarray
    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    accuracy: np.ndarray
    biometric: np.ndarray
    mock: np.ndarray
    battery: np.ndarray
    signal: np.ndarray
    received: np.ndarray
    foreign: np.ndarray       # 1: punched from a phone other than the person's registered one
    device: np.ndarray        # device code within this batch (-1: no device id)
    site_lat: np.ndarray
    site_lon: np.ndarray
    site_radius: np.ndarray
    site_tz: np.ndarray

    def __len__(self) -> int:
        return len(self.id)


@dataclass
class BatchInputs:
    events: Events
    sites: Sites
    history: Columns        # person, site, is_out, t, lat, lon, biometric, mock, foreign
    devices: Columns        # device, person, t: punches on the batch's phones
    shifts: Columns         # person, start, end
    cases: Columns          # person, known
    pings: Columns          # person, t, lat, lon
    scans: Columns          # site, t
    tours: dict[int, list[tuple[int, int, str, str]]]   # site -> (interval min, checkpoints, from, to)
    device_owner: np.ndarray  # per event: whom its phone is registered to if not the puncher (else -1)
    names: dict[int, str]     # person id -> name: the batch's persons, their phones' other users and owners


_EVENT_COLUMNS = ("id", "person", "site", "is_out", "t", "lat", "lon", "accuracy", "biometric", "mock",
                  "battery", "signal", "received", "foreign")
_A = AttendanceEvent
_BIG = sa.BigInteger()


def _is_out() -> Any:
    return sa.case((_A.kind == AttendanceKind.CHECK_OUT, 1), else_=0)


def _foreign() -> Any:
    """"Another phone": the punch's device differs from the person's registered one."""
    return sa.case((sa.and_(_A.device_id.is_not(None), Person.device_id.is_not(None),
                            _A.device_id != Person.device_id), 1), else_=0)


def _in_window(column: Any) -> Any:
    return sa.and_(column >= at_epoch(param("since")), column < at_epoch(param("until")))


_EVENTS = Query(lambda: sa.select(
    i8(_A.id), i8(_A.person_id), i8(_A.site_id), f8(_is_out()), t8(_A.ts), f8(_A.lat), f8(_A.lon),
    f8(_A.gps_accuracy_m), f8(_A.biometric_quality), f8(sa.case((_A.mock_location, 1), else_=0)), f8(_A.battery_pct),
    f8(_A.signal_dbm), t8(_A.received_at), f8(_foreign()))
    .join(Person, Person.id == _A.person_id)
    .where(_A.tenant_id == param("tenant"), in_list(_A.id, "ids", _BIG)),
    ("i8", "i8", "i8", "f8", "t8") + ("f8",) * 7 + ("t8", "f8"))

_HISTORY = Query(lambda: sa.select(
    i8(_A.person_id), i8(_A.site_id), f8(_is_out()), t8(_A.ts), f8(_A.lat), f8(_A.lon),
    f8(_A.biometric_quality), f8(sa.case((_A.mock_location, 1), else_=0)), f8(_foreign()))
    .join(Person, Person.id == _A.person_id)
    .where(_A.tenant_id == param("tenant"), in_list(_A.person_id, "persons", _BIG), _in_window(_A.ts)),
    ("i8", "i8", "f8", "t8") + ("f8",) * 5)


def _devices_select() -> Any:
    """Punches from the batch's phones (the batch's own included), each phone numbered."""
    phones = sa.select(_A.device_id).where(_A.tenant_id == param("tenant"), _A.device_id.is_not(None),
                                            in_list(_A.id, "ids", _BIG))
    return (sa.select(i8(_A.id), i8(sa.func.dense_rank().over(order_by=_A.device_id)), i8(_A.person_id),
                      t8(_A.ts))
            .where(_A.tenant_id == param("tenant"), _A.device_id.in_(phones.scalar_subquery()), _in_window(_A.ts)))


_DEVICES = Query(_devices_select, ("i8", "i8", "i8", "t8"))

_SITES = Query(lambda: sa.select(Site.id, Site.lat, Site.lon, Site.geofence_radius_m, Site.timezone)
               .where(Site.tenant_id == param("tenant"), in_list(Site.id, "sites", _BIG)).order_by(Site.id))

_SHIFTS = Query(lambda: sa.select(i8(Shift.person_id), t8(Shift.starts_at), t8(Shift.ends_at))
                .where(Shift.tenant_id == param("tenant"), Shift.person_id.is_not(None),
                       in_list(Shift.person_id, "persons", _BIG),
                       Shift.starts_at < at_epoch(param("until")), Shift.ends_at > at_epoch(param("since"))),
                ("i8", "t8", "t8"))

_PINGS = Query(lambda: sa.select(i8(LocationPing.person_id), t8(LocationPing.ts), f8(LocationPing.lat),
                                 f8(LocationPing.lon))
               .where(LocationPing.tenant_id == param("tenant"), in_list(LocationPing.person_id, "persons", _BIG),
                      _in_window(LocationPing.ts)), ("i8", "t8", "f8", "f8"))

# Only columns of the (tenant_id, site_id, ts) index: PostgreSQL answers from the index alone.
_SCANS = Query(lambda: sa.select(i8(CheckpointScan.site_id), t8(CheckpointScan.ts))
               .where(CheckpointScan.tenant_id == param("tenant"), in_list(CheckpointScan.site_id, "sites", _BIG),
                      _in_window(CheckpointScan.ts)), ("i8", "t8"))

_TOURS = Query(lambda: sa.select(Tour.site_id, Tour.interval_minutes, Tour.checkpoint_ids, Tour.active_from,
                                 Tour.active_to)
               .where(Tour.tenant_id == param("tenant"), in_list(Tour.site_id, "sites", _BIG)))


# Runs a read in a session of its own, on another connection, while the caller goes on.
ReadAside = Callable[[Callable[[Session], Columns]], Future[Columns]]


def load_batch(session: Session, tenant_id: int, ids: list[int], carried: Carried | None = None,
               aside: ReadAside | None = None) -> BatchInputs | None:
    """``carried``: what the earlier parts of the same call read (see ``PersonWindow``).
    ``aside``: where the location fixes are read, concurrently with the other inputs (the
    largest read, ~40% of a part's read time; PostgreSQL runs each connection's statements on
    one core)."""
    if not ids:
        return None
    raw = Columns(zip(_EVENT_COLUMNS, _EVENTS.arrays(session, tenant=tenant_id, ids=list(ids)), strict=True))
    if not raw.size:
        return None
    order = np.argsort(raw["id"], kind="stable")
    raw = Columns({name: column[order] for name, column in raw.items()})
    t0, t1 = float(raw["t"].min()), float(raw["t"].max()) + _SLACK_S
    persons = np.unique(raw["person"]).tolist()
    batch_sites = np.unique(raw["site"]).tolist()
    carried = carried or Carried()
    fixes = carried.fixes

    def read_fixes(reading: Session) -> Columns:
        return fixes.read(reading, tenant_id, persons, t0 - DUTY_MAX_S, t1)

    pings = aside(read_fixes) if aside else None
    history = carried.punches.read(session, tenant_id, persons, t0 - HISTORY_S, t1)
    sites = _sites(session, tenant_id, np.unique(np.concatenate([raw["site"], history["site"]])).tolist())
    devices = Columns(zip(("id", "device", "person", "t"), _DEVICES.arrays(
        session, tenant=tenant_id, ids=list(ids), since=t0 - DEVICE_LOOKBACK_S, until=t1), strict=True))
    case_person, case_known = fraud_case_times(session, tenant_id, persons, t0 - HISTORY_S, t1)
    owners = device_owners(session, tenant_id, raw["id"][raw["foreign"] >= 1].tolist())
    cited = set(persons) | set(devices["person"].tolist()) | set(owners.values())
    return BatchInputs(
        events=_assemble(raw, sites, devices), sites=sites, history=history,
        devices=Columns(device=devices["device"], person=devices["person"], t=devices["t"]),
        shifts=Columns(zip(("person", "start", "end"), _SHIFTS.arrays(
            session, tenant=tenant_id, persons=persons, since=t0 - SHIFT_MARGIN_S, until=t1 + SHIFT_MARGIN_S),
            strict=True)),
        cases=Columns(person=case_person, known=case_known),
        pings=pings.result() if pings else read_fixes(session),
        scans=Columns(zip(("site", "t"), _SCANS.arrays(
            session, tenant=tenant_id, sites=batch_sites, since=t0 - DUTY_MAX_S, until=t1), strict=True)),
        tours=_tours(session, tenant_id, batch_sites),
        device_owner=np.array([owners.get(event, -1) for event in raw["id"].tolist()], dtype=np.int64),
        names=names_of(session, tenant_id, cited))


class PersonWindow:
    """Rows of one per-person input (punches, location fixes) read for the earlier parts of a
    scoring call, so that a part reads only the persons and the time they did not: consecutive
    parts' windows overlap (the punches' 30 days almost entirely: re-reading them was ~55% of
    the punches a sweeper chunk read). Holds every row of ``persons`` in [``since``,
    ``until``); used by one thread at a time (the call's reader).

    Rows carried from an earlier part were read a moment earlier than the rest: as if the
    whole call had been loaded at once, which no feature can tell apart."""

    def __init__(self, query: Query, columns: tuple[str, ...]) -> None:
        self.query, self.columns = query, columns
        self.rows: Columns | None = None
        self.persons: set[int] = set()
        self.since = self.until = 0.0

    def read(self, session: Session, tenant_id: int, persons: list[int], since: float, until: float) -> Columns:
        """Rows of ``persons`` in [since, until)."""
        if self.rows is None or since < self.since:     # nothing carried, or older than what is carried
            self.rows = self._fetch(session, tenant_id, persons, since, until)
            self.persons, self.since, self.until = set(persons), since, until
            return self.rows
        reads = [self.rows]
        newcomers = sorted(set(persons) - self.persons)
        end = max(until, self.until)
        if newcomers:   # from ``since``: what starts before it is pruned below
            reads.append(self._fetch(session, tenant_id, newcomers, since, end))
        if until > self.until and self.persons:
            reads.append(self._fetch(session, tenant_id, sorted(self.persons), self.until, until))
        rows = Columns({name: np.concatenate([r[name] for r in reads]) for name in self.columns})
        # Parts come in time order: what starts before this window will not be asked for again
        # (if it is, the window is read afresh).
        current = rows["t"] >= since
        self.rows = Columns({name: column[current] for name, column in rows.items()})
        self.persons.update(newcomers)
        self.since, self.until = since, end
        wanted = self.rows["t"] < until
        if not self.persons.issubset(persons):
            wanted &= np.isin(self.rows["person"], persons)
        return Columns({name: column[wanted] for name, column in self.rows.items()})

    def _fetch(self, session: Session, tenant_id: int, persons: list[int], since: float, until: float) -> Columns:
        return Columns(zip(self.columns, self.query.arrays(session, tenant=tenant_id, persons=persons, since=since,
                                                           until=until), strict=True))


class Carried:
    """What a scoring call's parts carry from one to the next (see ``PersonWindow``)."""

    def __init__(self) -> None:
        self.punches = PersonWindow(_HISTORY, ("person", "site", "is_out", "t", "lat", "lon", "biometric", "mock",
                                               "foreign"))
        self.fixes = PersonWindow(_PINGS, ("person", "t", "lat", "lon"))


def _assemble(raw: Columns, sites: Sites, devices: Columns) -> Events:
    at = sites.index(raw["site"])
    # Each event's own row is among the device rows (same phone, inside the window).
    device = np.full(len(raw["id"]), -1, dtype=np.int64)
    if devices.size:
        order = np.argsort(devices["id"])
        found = np.minimum(np.searchsorted(devices["id"][order], raw["id"]), len(order) - 1)
        hit = devices["id"][order][found] == raw["id"]
        device[hit] = devices["device"][order][found[hit]]
    return Events(**{name: raw[name] for name in _EVENT_COLUMNS}, device=device,
                  site_lat=sites.lat[at], site_lon=sites.lon[at], site_radius=sites.radius[at], site_tz=sites.tz[at])


def _sites(session: Session, tenant_id: int, site_ids: list[int]) -> Sites:
    rows = _SITES.rows(session, tenant=tenant_id, sites=site_ids)
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 5
    return Sites(id=np.array(cols[0], dtype=np.int64), lat=np.array(cols[1], dtype=np.float64),
                 lon=np.array(cols[2], dtype=np.float64), radius=np.array(cols[3], dtype=np.float64),
                 tz=np.array(cols[4], dtype=object))


def _tours(session: Session, tenant_id: int, sites: list[int]) -> dict[int, list[tuple[int, int, str, str]]]:
    tours: dict[int, list[tuple[int, int, str, str]]] = {}
    for site, interval, checkpoints, active_from, active_to in _TOURS.rows(session, tenant=tenant_id, sites=sites):
        if interval and interval > 0 and checkpoints:
            tours.setdefault(site, []).append((int(interval), len(checkpoints), active_from, active_to))
    return tours


# -- for the reasons' sentences ---------------------------------------------------------------

_NAMES = Query(lambda: sa.select(Person.id, Person.name).where(Person.tenant_id == param("tenant"),
                                                                in_list(Person.id, "persons", _BIG)))
_OWNERS = Query(lambda: sa.select(_A.id, sa.func.min(Person.id))
                .join(Person, sa.and_(Person.tenant_id == _A.tenant_id, Person.device_id == _A.device_id,
                                      Person.id != _A.person_id))
                .where(_A.tenant_id == param("tenant"), in_list(_A.id, "ids", _BIG)).group_by(_A.id))


def names_of(session: Session, tenant_id: int, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    return {person: name for person, name in _NAMES.rows(session, tenant=tenant_id, persons=sorted(person_ids))}


def device_owners(session: Session, tenant_id: int, event_ids: list[int]) -> dict[int, int]:
    """Attendance event id -> the person the event's phone is registered to (lowest id if
    several), for events punched from someone else's phone."""
    if not event_ids:
        return {}
    return {event_id: owner for event_id, owner in _OWNERS.rows(session, tenant=tenant_id, ids=event_ids)}
