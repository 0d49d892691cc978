"""The tenant's reference data an audit needs (sites, tours, checkpoints, names): small,
read once per cycle in three queries."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.models import Checkpoint, Person, Site, Tour


@dataclass(frozen=True)
class SiteInfo:
    id: int
    code: str
    name: str
    timezone: str
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class TourInfo:
    id: int
    site_id: int
    name: str
    checkpoint_ids: tuple[int, ...]
    interval_minutes: int
    grace_minutes: int
    active_from: str
    active_to: str


@dataclass(frozen=True)
class Reference:
    sites: dict[int, SiteInfo]             # active sites only
    tours: tuple[TourInfo, ...]            # of active sites
    checkpoints: dict[int, tuple[float, float]]  # id -> (lat, lon)

    def site_name(self, site_id: int) -> str:
        site = self.sites.get(site_id)
        return site.name if site else f"site {site_id}"


def load_reference(session: Session, tenant_id: int) -> Reference:
    sites = {row.id: SiteInfo(row.id, row.code, row.name, row.timezone, row.lat, row.lon, row.geofence_radius_m)
             for row in session.execute(sa.select(Site.id, Site.code, Site.name, Site.timezone, Site.lat, Site.lon,
                                                  Site.geofence_radius_m)
                                        .where(Site.tenant_id == tenant_id, Site.active.is_(True)).order_by(Site.id))}
    tours = tuple(TourInfo(t.id, t.site_id, t.name, tuple(int(c) for c in t.checkpoint_ids or ()), t.interval_minutes,
                           t.grace_minutes, t.active_from, t.active_to)
                  for t in session.scalars(sa.select(Tour).where(Tour.tenant_id == tenant_id).order_by(Tour.id))
                  if t.site_id in sites and t.interval_minutes > 0)
    checkpoints = {row.id: (row.lat, row.lon) for row in session.execute(
        sa.select(Checkpoint.id, Checkpoint.lat, Checkpoint.lon).where(Checkpoint.tenant_id == tenant_id))}
    return Reference(sites=sites, tours=tours, checkpoints=checkpoints)


def person_names(session: Session, tenant_id: int, ids: Collection[int]) -> dict[int, str]:
    """Display names (``"G0012 Maria Silva"``) of the persons findings are about."""
    if not ids:
        return {}
    rows = session.execute(sa.select(Person.id, Person.code, Person.name)
                           .where(Person.tenant_id == tenant_id, Person.id.in_(sorted(ids))))
    return {row.id: f"{row.code} {row.name}" for row in rows}

