"""Synthetic inputs for focused audit scenarios: rows written as ingestion stores them (the
same tables and columns), for a factory world (tests/factories.py)."""
from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa

from backend.enums import AlertKind, AttendanceKind, PhoneActivityKind, Severity
from backend.models import AttendanceEvent, LocationPing, NocAlert, PhoneActivity, Shift, Site
from backend.runtime import Runtime
from tests.factories import World

_ids = itertools.count(1)


def _key(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def site_position(runtime: Runtime, site_id: int) -> tuple[float, float]:
    with runtime.read() as session:
        site = session.get(Site, site_id)
        assert site is not None
        return site.lat, site.lon


def add_shift(runtime: Runtime, tenant_id: int, site_id: int, person_id: int | None, start: datetime,
              end: datetime) -> int:
    with runtime.transaction() as session:
        shift = Shift(tenant_id=tenant_id, code=_key("shift"), site_id=site_id, person_id=person_id, starts_at=start,
                      ends_at=end)
        session.add(shift)
        session.flush()
        return shift.id


def add_punch(runtime: Runtime, tenant_id: int, site_id: int, person_id: int, ts: datetime,
              kind: AttendanceKind = AttendanceKind.CHECK_IN) -> None:
    lat, lon = site_position(runtime, site_id)
    with runtime.transaction() as session:
        session.add(AttendanceEvent(tenant_id=tenant_id, client_event_id=_key("punch"), ts=ts, kind=kind,
                                    person_id=person_id, site_id=site_id, lat=lat, lon=lon, gps_accuracy_m=8.0))


def add_pings(runtime: Runtime, tenant_id: int, site_id: int, person_id: int, times: Iterable[datetime]) -> None:
    lat, lon = site_position(runtime, site_id)
    rows = [{"tenant_id": tenant_id, "client_event_id": _key("ping"), "ts": t, "received_at": t,
             "person_id": person_id, "site_id": site_id, "lat": lat, "lon": lon, "accuracy_m": 8.0}
            for t in times]
    if rows:
        with runtime.transaction() as session:
            session.execute(sa.insert(LocationPing), rows)


def add_phone_activity(runtime: Runtime, tenant_id: int, site_id: int, person_id: int, times: Iterable[datetime],
                       kind: PhoneActivityKind = PhoneActivityKind.SCREEN_ON, value: float | None = None) -> None:
    rows = [{"tenant_id": tenant_id, "client_event_id": _key("act"), "ts": t, "received_at": t,
             "person_id": person_id, "site_id": site_id, "activity": kind, "value": value} for t in times]
    if rows:
        with runtime.transaction() as session:
            session.execute(sa.insert(PhoneActivity), rows)


def add_alert(runtime: Runtime, tenant_id: int, site_id: int, person_id: int | None, ts: datetime, kind: AlertKind,
              severity: Severity) -> int:
    with runtime.transaction() as session:
        alert = NocAlert(tenant_id=tenant_id, client_event_id=_key("alert"), ts=ts, kind=kind, severity=severity,
                         site_id=site_id, person_id=person_id, message=kind.value)
        session.add(alert)
        session.flush()
        return alert.id


def busy_site_history(runtime: Runtime, world: World, site: str, person: str, until: datetime, night_rate: float,
                      seed: int, weeks: int = 3) -> None:
    """``weeks`` of a guarded site (3: 36 samples per hour of week, the baselines judge): busy
    days (08:00-20:00 UTC: ~24 fixes and ~20 phone events an hour), nights at ``night_rate``
    fixes an hour (0: nobody patrols at night)."""
    rng = np.random.default_rng(seed)
    pings, activity = [], []
    start = until - timedelta(weeks=weeks)
    hour = start.replace(minute=0)
    while hour < until:
        day = 8 <= hour.hour < 20
        for rate, out in ((24.0 if day else night_rate, pings), (20.0 if day else 0.0, activity)):
            for offset in np.sort(rng.uniform(0, 3600, rng.poisson(rate))):
                t = hour + timedelta(seconds=float(offset))
                if start <= t < until:
                    out.append(t)
        hour += timedelta(hours=1)
    tenant, site_id, person_id = world.tenant_id, world.site_ids[site], world.person_ids[person]
    add_pings(runtime, tenant, site_id, person_id, pings)
    add_phone_activity(runtime, tenant, site_id, person_id, activity, PhoneActivityKind.SCREEN_ON)
