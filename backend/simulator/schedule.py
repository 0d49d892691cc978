"""Rosters and tour rounds: site-local wall-clock times turned into UTC instants.

Shared by the history generator and the live feed, so both follow the same rota."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from numpy.typing import NDArray

from backend.local_time import local_date, local_instant, round_times
from backend.simulator.world import World

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Roster:
    """Shifts as columns, sorted by start time."""
    code: list[str]
    site: Ints
    person: Ints
    post: Ints          # 0-based; post 0 walks the tours
    start: Floats       # epoch seconds, UTC
    end: Floats

    def __len__(self) -> int:
        return len(self.code)


def build_roster(world: World, t0: float, t1: float) -> Roster:
    """Every shift starting in [t0, t1).

    Each site runs a rota: its slots of a day (sorted by start time, then post) take the
    site's guards in turn, continuing from day to day. With more guards than slots a day, a
    guard's next shift starts at least 24 h after the previous one: no overlaps, real rest."""
    rows: list[tuple[float, int, int, str, int, float]] = []
    for s_idx, site in enumerate(world.sites):
        guards = world.site_guards[s_idx]
        slots = [(template, post) for template in sorted(site.type.shifts, key=lambda t: t.start)
                 for post in range(site.posts)]
        day = local_date(t0, site.timezone) - timedelta(days=1)
        last = local_date(t1, site.timezone)
        while day <= last:
            for k, (template, post) in enumerate(slots):
                if template.weekdays is not None and day.weekday() not in template.weekdays:
                    continue
                start = local_instant(day, template.start, site.timezone)
                if not t0 <= start < t1:
                    continue
                person = guards[(day.toordinal() * len(slots) + k) % len(guards)]
                code = f"{site.code}-{day:%Y%m%d}-{template.start.replace(':', '')}-P{post + 1}"
                rows.append((start, s_idx, post, code, person, start + template.hours * 3600))
            day += timedelta(days=1)
    rows.sort()
    return Roster(code=[r[3] for r in rows],
                  site=np.array([r[1] for r in rows], dtype=np.int64),
                  person=np.array([r[4] for r in rows], dtype=np.int64),
                  post=np.array([r[2] for r in rows], dtype=np.int64),
                  start=np.array([r[0] for r in rows], dtype=float),
                  end=np.array([r[5] for r in rows], dtype=float))


@dataclass(frozen=True)
class Rounds:
    """Scheduled tour rounds and the post-0 shift (index into the roster, -1 = none) covering each."""
    tour: Ints
    site: Ints
    scheduled: Floats
    shift: Ints

    def __len__(self) -> int:
        return len(self.tour)


def build_rounds(world: World, roster: Roster, t0: float, t1: float) -> Rounds:
    tours, sites, times, shifts = [], [], [], []
    for t_idx, tour in enumerate(world.tours):
        site = world.sites[tour.site]
        scheduled = np.array(round_times(tour.active_from, tour.active_to, tour.interval_minutes,
                                         site.timezone, t0, t1))
        on_post = np.flatnonzero((roster.site == tour.site) & (roster.post == 0))
        # Shifts of one post never overlap: the covering one is the last that started before.
        pos = np.searchsorted(roster.start[on_post], scheduled, side="right") - 1
        candidate = on_post[np.clip(pos, 0, None)] if len(on_post) else np.zeros(len(scheduled), dtype=np.int64)
        covered = (pos >= 0) & (len(on_post) > 0)
        if len(on_post):
            covered &= scheduled < roster.end[candidate]
        tours.append(np.full(len(scheduled), t_idx))
        sites.append(np.full(len(scheduled), tour.site))
        times.append(scheduled)
        shifts.append(np.where(covered, candidate, -1))
    return Rounds(tour=np.concatenate(tours).astype(np.int64), site=np.concatenate(sites).astype(np.int64),
                  scheduled=np.concatenate(times).astype(float), shift=np.concatenate(shifts).astype(np.int64))
