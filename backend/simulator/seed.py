"""Writing the demo world into the database: bulk Core inserts in one transaction (a crash
half-way leaves no half-seeded tenant), ``ensure_demo_world`` for the launcher, and
``extend_demo_roster``, which keeps the roster ``future_days`` ahead for the live feed (the
launcher on every start, a daily cron job in between)."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.auth.tokens import create_api_token, create_wallboard_token
from backend.auth.users import create_user
from backend.config import Settings
from backend.enums import AttendanceKind, Role
from backend.models import (ApiToken, AttendanceEvent, Checkpoint, CheckpointScan, Client, GroundTruth,
                            LocationPing, NocAlert, Person, PhoneActivity, Shift, Site, Tour, utcnow)
from backend.runtime import Runtime
from backend.simulator.behaviour import Duties
from backend.simulator.history import (ACTIVITIES, ALERT_KINDS, SCAN_METHODS, SEVERITIES, Columns, History,
                                       generate_history)
from backend.simulator.schedule import Roster, build_roster
from backend.simulator.world import World, WorldParams, build_world
from backend.tenancy import create_tenant, tenant_by_slug

log = logging.getLogger(__name__)

DEMO_PASSWORD = "noc-demo"   # every demo login (see the package docstring); printed at start
LIVE_TOKEN_NAME = "demo live feed"
WALLBOARD_TOKEN_NAME = "demo wall display"
USER_LOGINS: dict[Role, str] = {Role.VIEWER: "viewer", Role.OPERATOR: "operator",
                                Role.SECURITY_MANAGER: "manager", Role.SUPERVISOR: "supervisor",
                                Role.ADMIN: "admin"}
CHUNK = 20_000          # rows per driver executemany: bounded memory
BULK_MIN_ROWS = 5_000   # smaller tables take the plain Core path


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str


@dataclass(frozen=True)
class DemoInfo:
    """What the launcher prints, and the token the live feed posts with."""
    tenant_id: int
    slug: str
    seeded: bool                      # False: the world already existed
    password: str
    logins: tuple[DemoLogin, ...]
    api_token: str | None             # fresh (older live-feed tokens revoked), if asked for
    wallboard_token: str | None       # only when just seeded (stored hashed; not shown again)
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"Demo tenant '{self.slug}' " + (f"seeded in {self.seconds:.1f} s ({sum(self.rows.values()):,} rows)"
                                                 if self.seeded else "already seeded")]
        out += [f"  {login.role.value:<17} {login.email}" for login in self.logins]
        out.append(f"  password for all: {self.password}")
        if self.wallboard_token:
            out.append(f"  wall display (read-only, no login): /wall?kiosk=1&wallboard_token={self.wallboard_token}")
        return out


def demo_logins(slug: str) -> tuple[DemoLogin, ...]:
    return tuple(DemoLogin(role, f"{local}@{slug}.noc") for role, local in USER_LOGINS.items())


def demo_params(settings: Settings) -> WorldParams:
    """The demo world the settings describe (seeded once, then regenerated to extend its roster)."""
    return WorldParams(seed=settings.demo_seed, n_sites=settings.demo_sites, n_guards=settings.demo_guards,
                       days=settings.demo_days)


def ensure_demo_world(runtime: Runtime, params: WorldParams | None = None, *,
                      end: datetime | None = None, live_token: bool = True) -> DemoInfo:
    """Seed the demo world unless its tenant exists, else extend its roster to ``future_days``
    ahead of ``end`` (default: now); then (``live_token``) issue a fresh API token for the live
    feed and revoke the older ones: one feed posts at a time."""
    params = params or demo_params(runtime.settings)
    started = time.perf_counter()
    seeded, wallboard = False, None
    rows: dict[str, int] = {}
    for attempt in range(2):
        try:
            with runtime.transaction() as session:
                tenant = tenant_by_slug(session, params.slug)
                if tenant is None:
                    tenant_id, rows, wallboard = seed_world(session, params, end=end)
                    seeded = True
                else:
                    tenant_id = tenant.id
                api_token = _fresh_live_token(session, tenant_id) if live_token else None
            break
        except IntegrityError:
            # Another process seeded the same slug at the same moment: theirs won, use it.
            if attempt:
                raise
    if not seeded:
        # Started again weeks later: the roster seeded back then has run out.
        _extend_roster(runtime, tenant_id, params, end or utcnow())
    return DemoInfo(tenant_id=tenant_id, slug=params.slug, seeded=seeded, password=DEMO_PASSWORD,
                    logins=demo_logins(params.slug), api_token=api_token, wallboard_token=wallboard,
                    seconds=time.perf_counter() - started, rows=rows)


def _fresh_live_token(session: Session, tenant_id: int) -> str:
    session.execute(sa.update(ApiToken).where(
        ApiToken.tenant_id == tenant_id, ApiToken.name == LIVE_TOKEN_NAME, ApiToken.revoked_at.is_(None),
    ).values(revoked_at=utcnow()))
    return create_api_token(session, tenant_id, LIVE_TOKEN_NAME)


# -- keeping the roster ahead -----------------------------------------------------------------


def extend_demo_roster(runtime: Runtime, params: WorldParams | None = None, *, now: datetime | None = None) -> int:
    """Store the demo roster's shifts starting from ``now`` (default: the current time) up to
    ``roster_horizon``; returns how many were new (0 without the demo tenant: production).

    The roster is regenerated from the world's params (shift codes are deterministic) and
    written with INSERT ... ON CONFLICT (tenant_id, code) DO NOTHING, so it is idempotent and
    safe to run concurrently (the launcher, the cron job, several machines). Queries: the
    tenant, its sites, its guards, then the insert (a few multi-row statements)."""
    params = params or demo_params(runtime.settings)
    with runtime.read() as session:
        tenant = tenant_by_slug(session, params.slug)
    if tenant is None:
        return 0
    return _extend_roster(runtime, tenant.id, params, now or utcnow())


def roster_horizon(now: datetime, future_days: int) -> datetime:
    """Where the roster kept ahead ends: UTC midnight ``future_days`` after ``now``'s day. A day
    boundary rather than now + future_days, so every run of one day wants the same shifts: the
    launcher's run just after seeding adds nothing, and the daily cron moves it by a day."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=future_days)


def _extend_roster(runtime: Runtime, tenant_id: int, params: WorldParams, now: datetime) -> int:
    # Generated before the transaction: on SQLite no writer waits for numpy.
    world = build_world(params)
    horizon = roster_horizon(now, params.future_days)
    # Shifts starting from now only: one under way that nobody clocked into would read as a
    # late arrival, and past ones as no-shows; the days the demo was off simply stay empty.
    roster = build_roster(world, now.timestamp(), horizon.timestamp())
    with runtime.transaction() as session:
        ids = _stored_world_ids(session, tenant_id, world)
        if ids is None:
            log.warning("demo tenant %r was seeded with other settings (seed, sites or guards): its roster is not "
                        "extended; delete the tenant (embedded: var/noc.db) to seed it afresh", params.slug)
            return 0
        # In code order: concurrent runs take the unique index's locks in the same order (no deadlock).
        rows = sorted(_rows(_shift_columns(tenant_id, roster, np.arange(len(roster)), *ids)),
                      key=lambda row: row["code"])
        added = _insert_new_shifts(session, rows)
    log.info("demo roster %r: %d of %d shifts up to %s were new", params.slug, added, len(rows), horizon)
    return added


def _stored_world_ids(session: Session, tenant_id: int, world: World) -> tuple[np.ndarray, np.ndarray] | None:
    """Database ids of the world's sites and guards (by world index), or None if the stored
    world is not the one ``world`` regenerates: its rota would send guards to sites that are
    not theirs. A guard's home site is the test (renaming a site or a new phone is fine)."""
    site_ids = dict(session.execute(sa.select(Site.code, Site.id).where(Site.tenant_id == tenant_id)).all())
    if any(site.code not in site_ids for site in world.sites):
        return None
    sites = np.array([site_ids[site.code] for site in world.sites], dtype=np.int64)
    stored = {code: (person_id, home) for code, person_id, home in session.execute(
        sa.select(Person.code, Person.id, Person.home_site_id).where(Person.tenant_id == tenant_id))}
    if any(stored.get(p.code, (None, None))[1] != sites[p.home_site] for p in world.persons):
        return None
    return sites, np.array([stored[p.code][0] for p in world.persons], dtype=np.int64)


_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}   # the generic insert has no ON CONFLICT


def _insert_new_shifts(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert shifts whose code the tenant does not have yet; a concurrent run's rows win
    quietly. Returns how many this call inserted."""
    if not rows:
        return 0
    table = Shift.__table__
    statement = (_INSERT[session.get_bind().dialect.name](table)
                 .on_conflict_do_nothing(index_elements=["tenant_id", "code"]).returning(table.c.id))
    return len(session.execute(statement, rows).all())


# -- seeding ------------------------------------------------------------------------------------


def seed_world(session: Session, params: WorldParams, *, end: datetime | None = None
               ) -> tuple[int, dict[str, int], str]:
    """Generate and insert the whole world in the caller's transaction. ``end`` (default: now,
    to the minute) is the end of the history. Returns the tenant id, rows per table and the
    wallboard token."""
    end = end or utcnow().replace(second=0, microsecond=0)
    t0 = time.perf_counter()
    world = build_world(params)
    history = generate_history(world, end.timestamp())
    t1 = time.perf_counter()
    writer = _Writer(session, world, history)
    tenant_id = writer.reference_data(params)
    wallboard = create_wallboard_token(session, tenant_id, WALLBOARD_TOKEN_NAME)
    writer.events()
    t2 = time.perf_counter()
    log.info("demo world %r: generated in %.1f s, written in %.1f s (%s rows)", params.slug, t1 - t0, t2 - t1,
             f"{sum(writer.rows.values()):,}")
    return tenant_id, writer.rows, wallboard


# -- writing --------------------------------------------------------------------------------


def _utc(values: np.ndarray) -> list[datetime]:
    return [datetime.fromtimestamp(v, UTC) for v in np.round(values, 3).tolist()]


def _nullable(values: np.ndarray) -> list[Any]:
    return [None if v != v else v for v in np.asarray(values, dtype=float).tolist()]  # NaN -> NULL


def _ids(id_of: np.ndarray, index: np.ndarray) -> list[int | None]:
    """Database ids for indexes (-1 -> NULL)."""
    index = np.asarray(index)
    mapped = np.where(index >= 0, id_of[np.clip(index, 0, None)], -1).tolist()
    return [None if v < 0 else v for v in mapped]


def _round(values: np.ndarray, digits: int) -> list[float]:
    return np.round(np.asarray(values, dtype=float), digits).tolist()


def _rows(columns: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Column lists -> one dict per row (Core executemany parameters)."""
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _shift_columns(tenant_id: int, shifts: Roster | Duties, index: np.ndarray, site_ids: np.ndarray,
                   person_ids: np.ndarray) -> dict[str, Sequence[Any]]:
    """Shift rows for roster positions ``index``; ``site_ids``/``person_ids``: database id by world index."""
    return {"tenant_id": [tenant_id] * len(index), "code": [shifts.code[i] for i in index.tolist()],
            "site_id": site_ids[shifts.site[index]].tolist(), "person_id": person_ids[shifts.person[index]].tolist(),
            "post": [f"post-{p + 1}" for p in shifts.post[index].tolist()],
            "starts_at": _utc(shifts.start[index]), "ends_at": _utc(shifts.end[index])}


class _Writer:
    def __init__(self, session: Session, world: World, history: History) -> None:
        self.session, self.world, self.history = session, world, history
        self.rows: dict[str, int] = {}

    def _insert(self, model: type, columns: dict[str, Sequence[Any]]) -> None:
        """Bulk insert of column lists. Small tables: a Core executemany. Big ones skip
        SQLAlchemy's per-row parameter handling (it cost more than the database itself):
        binary COPY on PostgreSQL with psycopg 3, else the driver's executemany on values
        converted column by column with the columns' own bind processors (so the stored
        format is exactly SQLAlchemy's). See ``tests/bench/bench_seed.py`` for the figures."""
        keys = list(columns)
        table = model.__table__  # type: ignore[attr-defined]
        values = list(columns.values())
        n = len(values[0]) if values else 0
        connection = self.session.connection()
        if n < BULK_MIN_ROWS:
            if n:
                self.session.execute(sa.insert(table), _rows(columns))
        elif connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
            _copy_binary(connection.connection.driver_connection, table.name, keys, values)
        else:
            _executemany(connection, table, keys, values)
        self.rows[table.name] = self.rows.get(table.name, 0) + n

    def _id_map(self, model: Any, codes: Iterable[str]) -> np.ndarray:
        found: dict[str, int] = dict(self.session.execute(sa.select(model.code, model.id).where(model.tenant_id == self.tenant_id)).all())
        return np.array([found[c] for c in codes], dtype=np.int64)

    def reference_data(self, params: WorldParams) -> int:
        w, s = self.world, self.session
        self.tenant_id = tenant_id = create_tenant(s, params.slug, params.name).id
        self.rows["tenants"] = 1
        self._insert(Client, {"tenant_id": [tenant_id] * len(w.clients), "code": [c[0] for c in w.clients],
                              "name": [c[1] for c in w.clients]})
        client_ids = self._id_map(Client, [c[0] for c in w.clients])
        self._insert(Site, {
            "tenant_id": [tenant_id] * len(w.sites), "client_id": client_ids[[x.client for x in w.sites]].tolist(),
            "code": [x.code for x in w.sites], "name": [x.name for x in w.sites], "city": [x.city for x in w.sites],
            "timezone": [x.timezone for x in w.sites], "lat": [x.lat for x in w.sites],
            "lon": [x.lon for x in w.sites], "geofence_radius_m": [x.radius_m for x in w.sites],
            "schedule": [x.schedule for x in w.sites], "active": [True] * len(w.sites)})
        self.site_ids = self._id_map(Site, [x.code for x in w.sites])
        self._insert(Checkpoint, {
            "tenant_id": [tenant_id] * len(w.checkpoints), "site_id": self.site_ids[[c.site for c in w.checkpoints]].tolist(),
            "code": [c.code for c in w.checkpoints], "name": [c.name for c in w.checkpoints],
            "lat": [c.lat for c in w.checkpoints], "lon": [c.lon for c in w.checkpoints]})
        self.checkpoint_ids = self._id_map(Checkpoint, [c.code for c in w.checkpoints])
        self._insert(Person, {
            "tenant_id": [tenant_id] * len(w.persons), "code": [p.code for p in w.persons],
            "name": [p.name for p in w.persons], "device_id": [p.device_id for p in w.persons],
            "home_site_id": self.site_ids[[p.home_site for p in w.persons]].tolist(), "active": [True] * len(w.persons)})
        self.person_ids = self._id_map(Person, [p.code for p in w.persons])
        self._insert(Tour, {
            "tenant_id": [tenant_id] * len(w.tours), "code": [t.code for t in w.tours],
            "site_id": self.site_ids[[t.site for t in w.tours]].tolist(), "name": [t.name for t in w.tours],
            "checkpoint_ids": [self.checkpoint_ids[list(t.checkpoints)].tolist() for t in w.tours],
            "interval_minutes": [t.interval_minutes for t in w.tours],
            "grace_minutes": [t.grace_minutes for t in w.tours],
            "active_from": [t.active_from for t in w.tours], "active_to": [t.active_to for t in w.tours]})
        self.tour_ids = self._id_map(Tour, [t.code for t in w.tours])
        self._insert(Shift, _shift_columns(tenant_id, self.history.duties, np.arange(self.history.n_rostered),
                                           self.site_ids, self.person_ids))
        for role, local in USER_LOGINS.items():
            create_user(s, tenant_id, f"{local}@{params.slug}.noc", f"Demo {role.value.replace('_', ' ').title()}",
                        DEMO_PASSWORD, role)
        self.rows["users"] = len(USER_LOGINS)
        return tenant_id

    def _common(self, cols: Columns, device_of_person: bool = True) -> dict[str, Sequence[Any]]:
        n = len(cols["ts"])
        devices = cols["device"] if not device_of_person else [self.world.persons[p].device_id
                                                                for p in cols["device"].tolist()]
        return {"tenant_id": [self.tenant_id] * n, "client_event_id": cols["key"], "ts": _utc(cols["ts"]),
                "received_at": _utc(cols["received"]), "device_id": devices}

    def events(self) -> None:
        h = self.history
        a = h.attendance
        kinds = [AttendanceKind.CHECK_IN, AttendanceKind.CHECK_OUT]
        self._insert(AttendanceEvent, {
            **self._common(a), "kind": [kinds[k].value for k in a["kind"].tolist()],
            "person_id": _ids(self.person_ids, a["person"]), "site_id": _ids(self.site_ids, a["site"]),
            "lat": _round(a["lat"], 6), "lon": _round(a["lon"], 6), "gps_accuracy_m": _round(a["accuracy"], 1),
            "biometric_quality": _nullable(a["biometric"]), "mock_location": a["mock"].tolist(),
            "battery_pct": _round(a["battery"], 0), "signal_dbm": _round(a["signal"], 0)})
        # (The insert trigger queues them all in unscored_attendance: the worker scores the history too.)
        p = h.pings
        self._insert(LocationPing, {
            **self._common(p), "person_id": _ids(self.person_ids, p["person"]), "site_id": _ids(self.site_ids, p["site"]),
            "lat": _round(p["lat"], 6), "lon": _round(p["lon"], 6), "accuracy_m": _round(p["accuracy"], 1),
            "speed_mps": p["speed"].tolist(), "mock_location": p["mock"].tolist(), "battery_pct": _round(p["battery"], 0)})
        sc = h.scans
        self._insert(CheckpointScan, {
            **self._common(sc), "person_id": _ids(self.person_ids, sc["person"]),
            "site_id": _ids(self.site_ids, sc["site"]), "checkpoint_id": _ids(self.checkpoint_ids, sc["checkpoint"]),
            "tour_id": _ids(self.tour_ids, sc["tour"]), "method": [SCAN_METHODS[m].value for m in sc["method"].tolist()],
            "lat": _round(sc["lat"], 6), "lon": _round(sc["lon"], 6)})
        ac = h.activity
        self._insert(PhoneActivity, {
            **self._common(ac), "person_id": _ids(self.person_ids, ac["person"]),
            "site_id": _ids(self.site_ids, ac["site"]), "activity": [ACTIVITIES[k].value for k in ac["activity"].tolist()],
            "value": _nullable(ac["value"])})
        al = h.alerts
        self._insert(NocAlert, {
            **self._common(al, device_of_person=False), "kind": [ALERT_KINDS[k].value for k in al["kind"].tolist()],
            "severity": [SEVERITIES[k].value for k in al["severity"].tolist()],
            "site_id": _ids(self.site_ids, al["site"]), "person_id": _ids(self.person_ids, al["person"]),
            "message": al["message"]})
        self._ground_truth()

    def _ground_truth(self) -> None:
        cases = self.history.cases
        wanted = [c.event_key for c in cases if c.event_key]
        event_ids = dict(self.session.execute(
            sa.select(AttendanceEvent.client_event_id, AttendanceEvent.id).where(
                AttendanceEvent.tenant_id == self.tenant_id, AttendanceEvent.client_event_id.in_(wanted))).all())
        self._insert(GroundTruth, {
            "tenant_id": [self.tenant_id] * len(cases), "kind": [c.kind.value for c in cases],
            "site_id": [int(self.site_ids[c.site]) for c in cases],
            "person_id": [int(self.person_ids[c.person]) for c in cases],
            "attendance_event_id": [event_ids[c.event_key] if c.event_key else None for c in cases],
            "window_start": _utc(np.array([c.window_start for c in cases])),
            "window_end": _utc(np.array([c.window_end for c in cases])),
            "source": ["simulator"] * len(cases),
            "details": [_jsonable(c.details) for c in cases]})


def _copy_binary(connection: Any, table: str, keys: list[str], values: list[Sequence[Any]]) -> None:
    """Binary COPY (the server parses no text timestamps); column types come from the catalog."""
    types = dict(connection.execute(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (table,)).fetchall())
    with connection.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(keys)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([types[key] for key in keys])
        for row in zip(*values, strict=True):
            copy.write_row(row)


def _executemany(connection: sa.Connection, table: sa.Table, keys: list[str], values: list[Sequence[Any]]) -> None:
    dialect = connection.dialect
    placeholder = {"qmark": "?", "format": "%s", "pyformat": "%s"}[dialect.paramstyle]
    converted = []
    for key, column in zip(keys, values, strict=True):
        process = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
        converted.append(column if process is None else [process(v) for v in column])
    statement = f"INSERT INTO {table.name} ({', '.join(keys)}) VALUES ({', '.join([placeholder] * len(keys))})"
    rows = list(zip(*converted, strict=True))
    for lo in range(0, len(rows), CHUNK):
        connection.exec_driver_sql(statement, rows[lo:lo + CHUNK])


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    """Details as JSON: instants as ISO strings, numpy scalars as Python numbers."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if key.endswith("_at") and isinstance(value, float):
            value = datetime.fromtimestamp(round(value, 3), UTC).isoformat()
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out
