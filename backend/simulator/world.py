"""The demo world's reference data, generated deterministically from a seed: clients, sites in
several cities and time zones, checkpoints, guards with their devices and home sites, tours.

Pure data (indexes, not database ids): ``backend.simulator.seed`` writes it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.simulator.geo import offset, scatter_in_disk
from backend.simulator.places import CHECKPOINT_NAMES, CITIES, CLIENTS, SITE_TYPES, SiteType

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Security Co."

# Independent random streams (numpy seeds ``[seed, stream]``): changing how one part is
# generated never reshuffles the others.
STREAM_WORLD, STREAM_HISTORY, STREAM_FRAUD = 1, 2, 3

# A guard works ~4.5 shifts a week on average: the number of posts is tuned to that.
SHIFTS_PER_GUARD_PER_WEEK = 4.5


@dataclass(frozen=True)
class WorldParams:
    """Size of the demo world. The defaults are the demo; tests pass smaller ones."""
    seed: int = 7
    n_sites: int = 40
    n_guards: int = 400
    days: int = 30           # history length, ending "now"
    future_days: int = 14    # roster ahead of now, for the live feed
    slug: str = DEMO_SLUG
    name: str = DEMO_NAME

    def __post_init__(self) -> None:
        if self.n_sites < 1 or self.days < 1 or self.future_days < 0:
            raise ValueError("n_sites and days must be >= 1, future_days >= 0")
        if self.n_guards < 3 * self.n_sites:
            raise ValueError("n_guards: at least 3 per site (a rota needs more guards than posts)")


@dataclass(frozen=True)
class SiteSpec:
    code: str
    name: str
    city: str
    timezone: str
    lat: float
    lon: float
    radius_m: float
    client: int
    type: SiteType
    posts: int
    signal_base_dbm: float

    @property
    def schedule(self) -> dict[str, Any]:
        return {"type": self.type.label, "posts": self.posts, "shifts": self.type.hours_label}


@dataclass(frozen=True)
class CheckpointSpec:
    code: str
    site: int
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class PersonSpec:
    code: str
    name: str
    device_id: str
    home_site: int


@dataclass(frozen=True)
class TourSpec:
    code: str
    site: int
    name: str
    checkpoints: tuple[int, ...]   # checkpoint indexes, in walking order
    interval_minutes: int
    active_from: str
    active_to: str
    grace_minutes: int = 10


@dataclass(frozen=True)
class World:
    params: WorldParams
    clients: tuple[tuple[str, str], ...]
    sites: tuple[SiteSpec, ...]
    checkpoints: tuple[CheckpointSpec, ...]
    persons: tuple[PersonSpec, ...]
    tours: tuple[TourSpec, ...]
    site_guards: tuple[tuple[int, ...], ...]      # per site: its guards in rota order
    arrays: dict[str, np.ndarray] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # Per-site columns the vectorised history reads by index.
        self.arrays.update(
            site_lat=np.array([s.lat for s in self.sites]),
            site_lon=np.array([s.lon for s in self.sites]),
            site_radius=np.array([s.radius_m for s in self.sites]),
            site_signal=np.array([s.signal_base_dbm for s in self.sites]),
            cp_lat=np.array([c.lat for c in self.checkpoints]),
            cp_lon=np.array([c.lon for c in self.checkpoints]),
        )


def build_world(params: WorldParams) -> World:
    rng = np.random.default_rng([params.seed, STREAM_WORLD])
    n_clients = min(len(CLIENTS), max(2, params.n_sites // 7))
    sites = _sites(rng, params, n_clients)
    checkpoints, tours = _checkpoints_and_tours(rng, sites)
    persons, site_guards = _persons(rng, params, sites)
    return World(params=params, clients=CLIENTS[:n_clients], sites=sites, checkpoints=checkpoints,
                 persons=persons, tours=tours, site_guards=site_guards)


def _sites(rng: np.random.Generator, params: WorldParams, n_clients: int) -> tuple[SiteSpec, ...]:
    drafts: list[dict[str, Any]] = []
    per_city: dict[str, int] = {}
    for i in range(params.n_sites):
        city = CITIES[i % len(CITIES)]   # round-robin: even a small world spans time zones
        k = per_city[city.code] = per_city.get(city.code, 0) + 1
        district, district_lat, district_lon = city.districts[(k - 1) % len(city.districts)]
        # Beyond the catalogue's districts, spread wider so two sites never share a spot.
        lat, lon = scatter_in_disk(rng, district_lat, district_lon, 500.0 if k <= len(city.districts) else 2500.0)
        site_type = SITE_TYPES[int(rng.integers(len(SITE_TYPES)))]
        client = int(rng.integers(n_clients))
        drafts.append(dict(
            code=f"{city.code}-{k:02d}", city=city.name, timezone=city.timezone,
            name=f"{CLIENTS[client][1].split()[0]} {site_type.label} {district}",
            lat=round(float(lat), 6), lon=round(float(lon), 6), client=client, type=site_type,
            radius_m=float(np.round(rng.uniform(*site_type.radius_m), -1)),
            posts=int(rng.integers(site_type.posts[0], site_type.posts[1] + 1)),
            signal_base_dbm=site_type.signal_base_dbm + float(np.round(rng.normal(0, 4)))))
    _tune_posts(rng, drafts, params.n_guards)
    return tuple(SiteSpec(**d) for d in drafts)


def _slots_per_day(draft: dict[str, Any]) -> int:
    return draft["posts"] * len(draft["type"].shifts)


def _tune_posts(rng: np.random.Generator, drafts: list[dict[str, Any]], n_guards: int) -> None:
    """Add or remove posts until the guards can staff the rota at ~4.5 shifts a week each."""
    target = n_guards * SHIFTS_PER_GUARD_PER_WEEK / 7
    for _ in range(10 * len(drafts)):
        total = sum(_slots_per_day(d) for d in drafts)
        if total > 1.08 * target:
            candidates = [d for d in drafts if d["posts"] > 1]
            step = -1
        elif total < 0.92 * target:
            candidates = [d for d in drafts if d["posts"] < d["type"].posts[1] + 1]
            step = 1
        else:
            return
        if not candidates:
            return
        candidates[int(rng.integers(len(candidates)))]["posts"] += step


def _checkpoints_and_tours(rng: np.random.Generator, sites: tuple[SiteSpec, ...]
                           ) -> tuple[tuple[CheckpointSpec, ...], tuple[TourSpec, ...]]:
    checkpoints: list[CheckpointSpec] = []
    tours: list[TourSpec] = []
    for s_idx, site in enumerate(sites):
        n = int(rng.integers(site.type.checkpoints[0], site.type.checkpoints[1] + 1))
        # Around the site at 30-85% of the geofence, ordered by bearing: the patrol walks a loop.
        bearings = np.sort(rng.uniform(0, 2 * np.pi, n))
        lats, lons = offset(np.full(n, site.lat), np.full(n, site.lon),
                            site.radius_m * rng.uniform(0.3, 0.85, n), bearings)
        names = [CHECKPOINT_NAMES[j] for j in rng.permutation(len(CHECKPOINT_NAMES))[:n]]
        first = len(checkpoints)
        checkpoints.extend(CheckpointSpec(code=f"{site.code}-CP{j + 1}", site=s_idx, name=names[j],
                                          lat=round(float(lats[j]), 6), lon=round(float(lons[j]), 6))
                           for j in range(n))
        active_from, active_to = site.type.tour_hours
        round_the_clock = (active_from, active_to) == ("00:00", "24:00")
        tours.append(TourSpec(
            code=f"{site.code}-T1", site=s_idx,
            name="Round-the-clock patrol" if round_the_clock else "Night patrol",
            checkpoints=tuple(range(first, first + n)),
            interval_minutes=int(rng.choice(site.type.tour_interval_min)),
            active_from=active_from, active_to=active_to))
    return tuple(checkpoints), tuple(tours)


def _persons(rng: np.random.Generator, params: WorldParams, sites: tuple[SiteSpec, ...]
             ) -> tuple[tuple[PersonSpec, ...], tuple[tuple[int, ...], ...]]:
    """Guards per site in proportion to its shifts a day, and always more than its posts on
    duty at once, so the rota never puts one guard on two posts (see schedule.build_roster)."""
    slots = np.array([s.posts * len(s.type.shifts) for s in sites], dtype=float)
    counts = np.maximum(np.floor(slots / slots.sum() * params.n_guards).astype(int), slots.astype(int) + 1)
    while counts.sum() < params.n_guards:      # largest remainder, one at a time
        counts[int(np.argmax(slots / slots.sum() * params.n_guards - counts))] += 1
    while counts.sum() > params.n_guards:
        spare = np.flatnonzero(counts > slots + 1)
        counts[spare[int(np.argmax(counts[spare] - slots[spare]))]] -= 1
    cities = {c.name: c for c in CITIES}
    drafts: list[tuple[str, int]] = []   # (name, home site)
    used: set[str] = set()
    for s_idx, (site, count) in enumerate(zip(sites, counts, strict=True)):
        city = cities[site.city]
        for _ in range(count):
            for _attempt in range(20):     # unique names read better on a dashboard
                name = f"{rng.choice(city.first_names)} {rng.choice(city.last_names)}"
                if name not in used:
                    break
            used.add(name)
            drafts.append((name, s_idx))
    order = rng.permutation(len(drafts))   # codes are not grouped by site
    persons = []
    for number, draft_idx in enumerate(order, start=1):
        name, home = drafts[draft_idx]
        platform = "android" if rng.random() < 0.7 else "ios"
        persons.append(PersonSpec(code=f"G{number:04d}", name=name, home_site=home,
                                  device_id=f"{platform}-{int(rng.integers(16 ** 10)):010x}"))
    site_guards = tuple(tuple(int(p) for p in rng.permutation(
        [i for i, person in enumerate(persons) if person.home_site == s_idx])) for s_idx in range(len(sites)))
    return tuple(persons), site_guards
