"""Planting fraud and misconduct into the honest history, and labelling every case.

Cases are spread evenly over the history (one per time segment per kind), so a time-based
train/holdout split finds every kind in its last days; most are committed by a set of
repeat offenders (each with one or two favourite kinds), so per-person history is a signal.
Each duty carries at most one case. See the package docstring for the kinds and rates."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.enums import FraudKind
from backend.simulator import sensors
from backend.simulator.behaviour import HOUR, MINUTE, Behaviour, Bools, Duties, Mode, PrePings, point_at
from backend.simulator.geo import offset
from backend.local_time import local_date, local_instant
from backend.simulator.schedule import Ints, Roster, Rounds
from backend.simulator.world import World

# Cases per kind as a share of completed rostered shifts in the history (off-roster: extra
# punches). Together ~4.5% of duties; the per-check-in kinds are ~2.5% of check-ins.
RATES: dict[FraudKind, float] = {
    FraudKind.BUDDY_PUNCHING: 0.006,
    FraudKind.GPS_SPOOFING: 0.006,
    FraudKind.OFF_ROSTER: 0.004,
    FraudKind.GEOFENCE_VIOLATION: 0.006,
    FraudKind.SCAN_STUFFING: 0.006,
    FraudKind.CHECK_IN_AND_LEAVE: 0.006,
    FraudKind.SILENT_DEVICE: 0.005,
    FraudKind.NO_SHOW: 0.005,
}
# How each pattern looks, shared by the history and the live feed (minutes unless named).
BUDDY_MINUTES_AFTER_OWNER = (1.0, 6.0)       # the colleague's phone clocks the absent guard in
BUDDY_ARRIVAL_MIN = (40.0, 150.0)            # ... who turns up this late, if at all
SPOOF_DISTANCE_M = (20_000.0, 60_000.0)      # where the spoofer really is
SPOOF_MOCK_SHARE, SPOOF_TELEPORT_SHARE, SPOOF_PERFECT_FIX_SHARE = 0.6, 0.7, 0.6
SPOOF_ARRIVAL_MIN = (30.0, 120.0)
SPOOF_TELEPORT_BEFORE_MIN = (2.0, 8.0)       # the real-location ping before the spoofed check-in
GEOFENCE_DISTANCE_M = (500.0, 3500.0)        # and at least 4 geofence radii
GEOFENCE_ARRIVAL_MIN = (15.0, 60.0)
LEAVE_AFTER_MIN = (10.0, 45.0)               # after the check-in
LEAVE_BACK_BEFORE_MIN = (10.0, 40.0)         # before the check-out
LEAVE_DISTANCE_M = (2000.0, 15000.0)
LEAVE_ALERT_SHARE = 0.5                      # the phone reports the geofence exit
SILENT_MINUTES = (120.0, 300.0)
SILENT_ALERT_SHARE = 0.8                     # the MDM reports the device offline
STUFFED_SCAN_GAP_S = (3.0, 10.0)             # every tag of a round within a minute

MIN_CASES_PER_KIND = 6      # small test worlds still get every kind, in every part of the history
OFFENDER_SHARE = 0.10       # of guards are repeat offenders
REPEAT_SHARE = 0.65         # of each kind's cases are committed by its repeat offenders


@dataclass(frozen=True)
class Case:
    """One planted case: what ``ground_truth`` stores (keys are client event ids)."""
    kind: FraudKind
    duty: int
    person: int
    site: int
    window_start: float
    window_end: float
    event_key: str | None            # the labelled attendance event, if the case is per-event
    details: dict[str, Any] = field(default_factory=dict)


def choose_offenders(world: World, rng: np.random.Generator) -> dict[FraudKind, frozenset[int]]:
    n = len(world.persons)
    chosen = rng.choice(n, size=max(len(FraudKind), round(OFFENDER_SHARE * n)), replace=False)
    kinds = list(FraudKind)
    by_kind: dict[FraudKind, set[int]] = {k: set() for k in kinds}
    for i, person in enumerate(chosen):
        # Every kind gets at least one offender; then one or two favourites each.
        favourites = {kinds[i % len(kinds)]} if i < len(kinds) else set()
        favourites.update(kinds[j] for j in rng.choice(len(kinds), size=int(rng.integers(1, 3)), replace=False))
        for kind in favourites:
            by_kind[kind].add(int(person))
    return {k: frozenset(v) for k, v in by_kind.items()}


def _count(kind: FraudKind, n_shifts: int) -> int:
    return max(MIN_CASES_PER_KIND, round(RATES[kind] * n_shifts))


def _pick(rng: np.random.Generator, candidates: Ints, persons: Ints, offenders: frozenset[int]) -> int | None:
    if not len(candidates):
        return None
    if rng.random() < REPEAT_SHARE:
        repeat = candidates[np.isin(persons[candidates], list(offenders))]
        if len(repeat):
            return int(rng.choice(repeat))
    return int(rng.choice(candidates))


def plan_off_roster(world: World, roster: Roster, offenders: dict[FraudKind, frozenset[int]],
                    h0: float, h1: float, rng: np.random.Generator
                    ) -> tuple[list[str], Ints, Ints, np.ndarray, np.ndarray]:
    """Extra duties nobody rostered: a guard clocks in at their home site on a day off (at
    least 4 h from any shift of theirs) and out 3-7 h later. Returns them as duty columns."""
    n = _count(FraudKind.OFF_ROSTER, int(np.count_nonzero((roster.start >= h0) & (roster.end < h1))))
    edges = np.linspace(h0 + HOUR, h1 - 9 * HOUR, n + 1)
    codes: list[str] = []
    sites: list[int] = []
    persons: list[int] = []
    starts: list[float] = []
    ends: list[float] = []
    everyone = np.arange(len(world.persons))
    for j in range(n):
        for _attempt in range(100):
            person = _pick(rng, everyone, everyone, offenders[FraudKind.OFF_ROSTER])
            assert person is not None
            site = world.persons[person].home_site
            tz = world.sites[site].timezone
            day = local_date(rng.uniform(edges[j], edges[j + 1]), tz)
            start = local_instant(day, f"{int(rng.integers(7, 20)):02d}:{int(rng.choice([0, 15, 30, 45])):02d}", tz)
            end = start + rng.uniform(3, 7) * HOUR
            own = roster.person == person
            clash = (roster.start[own] < end + 4 * HOUR) & (roster.end[own] > start - 4 * HOUR)
            mine = [k for k, p in enumerate(persons) if p == person]
            clash_extra = any(starts[k] < end + 4 * HOUR and ends[k] > start - 4 * HOUR for k in mine)
            if h0 + HOUR <= start and end < h1 - HOUR and not clash.any() and not clash_extra:
                codes.append(f"OR{j + 1:03d}-{world.persons[person].code}")
                sites.append(site)
                persons.append(person)
                starts.append(start)
                ends.append(end)
                break
    return (codes, np.array(sites, dtype=np.int64), np.array(persons, dtype=np.int64),
            np.array(starts, dtype=float), np.array(ends, dtype=float))


class Planter:
    """Rewrites honest duties into planted cases, kind by kind."""

    def __init__(self, world: World, duties: Duties, rounds: Rounds, b: Behaviour,
                 offenders: dict[FraudKind, frozenset[int]], h0: float, h1: float,
                 rng: np.random.Generator) -> None:
        self.world, self.duties, self.rounds, self.b = world, duties, rounds, b
        self.offenders, self.h0, self.h1, self.rng = offenders, h0, h1, rng
        rostered = np.arange(len(duties)) < duties.n_rostered
        self.base: Bools = (rostered & b.worked & ~np.isnan(b.check_out) & (duties.start >= h0 + HOUR)
                            & (b.win_mode == Mode.NONE) & (b.ci_device == duties.person)
                            & (b.check_out - b.check_in >= 6 * HOUR))
        self.n_shifts = int(np.count_nonzero(rostered & b.worked & ~np.isnan(b.check_out)))
        self.cases: list[Case] = []

    def plant_all(self) -> list[Case]:
        self._off_roster()
        planters: dict[FraudKind, tuple[Bools, Callable[[int], Case | None]]] = {
            FraudKind.BUDDY_PUNCHING: (self._buddy_candidates(), self._buddy),
            FraudKind.SCAN_STUFFING: (self._stuffing_candidates(), self._stuffing),
            FraudKind.GPS_SPOOFING: (self.base, self._spoofing),
            FraudKind.GEOFENCE_VIOLATION: (self.base, self._geofence),
            FraudKind.CHECK_IN_AND_LEAVE: (self.base, self._leave),
            FraudKind.SILENT_DEVICE: (self.base, self._silent),
            FraudKind.NO_SHOW: (self.base, self._no_show),
        }
        for kind, (eligible, plant) in planters.items():
            n = _count(kind, self.n_shifts)
            last = float(self.duties.start[eligible].max()) + 1 if eligible.any() else self.h1
            edges = np.linspace(self.h0, last, n + 1)
            owed = 0   # cases a segment without a fitting duty passes on to the next one
            for j in range(n):
                owed += 1
                for _ in range(owed):
                    in_segment = eligible & ~self.b.planted & (self.duties.start >= edges[j]) & (
                        self.duties.start < edges[j + 1])
                    duty = _pick(self.rng, np.flatnonzero(in_segment), self.duties.person, self.offenders[kind])
                    if duty is None or (case := plant(duty)) is None:
                        break
                    self.b.planted[duty] = True
                    self.cases.append(case)
                    owed -= 1
        return self.cases

    # -- helpers --------------------------------------------------------------------------

    def _case(self, kind: FraudKind, duty: int, start: float, end: float, event_key: str | None,
              **details: Any) -> Case:
        d = self.duties
        shift = d.code[duty] if duty < d.n_rostered else None
        return Case(kind=kind, duty=duty, person=int(d.person[duty]), site=int(d.site[duty]),
                    window_start=float(start), window_end=float(end), event_key=event_key,
                    details={"shift": shift, "check_in_event": d.check_in_key(duty),
                             "check_out_event": d.check_out_key(duty)
                             if not np.isnan(self.b.check_out[duty]) else None, **details})

    def _site_pin(self, duty: int) -> tuple[float, float]:
        site = self.world.sites[self.duties.site[duty]]
        lat, lon = offset(site.lat, site.lon, self.rng.uniform(0, 15), self.rng.uniform(0, 2 * np.pi))
        return float(lat), float(lon)

    # -- kinds ----------------------------------------------------------------------------

    def _off_roster(self) -> None:
        for duty in range(self.duties.n_rostered, len(self.duties)):
            if not self.b.worked[duty]:
                continue
            self.b.planted[duty] = True
            end = self.b.check_out[duty] if not np.isnan(self.b.check_out[duty]) else self.duties.end[duty]
            self.cases.append(self._case(FraudKind.OFF_ROSTER, duty, self.b.check_in[duty], end,
                                         self.duties.check_in_key(duty)))

    def _buddy_candidates(self) -> Bools:
        """Duties with a colleague starting on another post of the same site at the same time."""
        d = self.duties
        key = d.site * 10_000_000_000 + d.start.astype(np.int64)
        _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        return self.base & (counts[inverse] > 1)

    def _buddy(self, duty: int) -> Case | None:
        """The absent guard's check-in comes from the colleague's phone a few minutes after the
        colleague's own, with a poor face match; the absent guard turns up 40-150 min late."""
        d, b = self.duties, self.b
        partners = np.flatnonzero((d.site == d.site[duty]) & (d.start == d.start[duty]) & self.base
                                  & ~b.planted & (np.arange(len(d)) != duty))
        if not len(partners):
            return None
        partner = int(self.rng.choice(partners))
        b.planted[partner] = True  # the accomplice's own duty stays honest
        minutes_after = self.rng.uniform(*BUDDY_MINUTES_AFTER_OWNER)
        b.check_in[duty] = b.check_in[partner] + minutes_after * MINUTE
        b.ci_device[duty] = d.person[partner]
        b.ci_lat[duty], b.ci_lon[duty] = (float(v) for v in offset(b.ci_lat[partner], b.ci_lon[partner],
                                                                   self.rng.uniform(0, 4), self.rng.uniform(0, 6.3)))
        b.ci_accuracy[duty] = b.ci_accuracy[partner]
        b.ci_biometric[duty] = sensors.impostor_biometric_quality(self.rng, 1)[0]
        b.battery_start[duty] = max(5.0, b.battery_start[partner] - 1)
        b.signal[duty] = b.signal[partner]
        b.pre_pings[duty] = PrePings.NONE
        arrival = d.start[duty] + self.rng.uniform(*BUDDY_ARRIVAL_MIN) * MINUTE
        # The absent guard's own phone is not on duty until they arrive.
        b.set_window(duty, b.check_in[duty], arrival, Mode.SILENT, depart=-np.inf)
        return self._case(FraudKind.BUDDY_PUNCHING, duty, b.check_in[duty], arrival, d.check_in_key(duty),
                          device_owner=self.world.persons[d.person[partner]].code,
                          owner_check_in_event=d.check_in_key(partner),
                          minutes_after_owner=round(minutes_after, 1), arrived_at=arrival)

    def _spoofing(self, duty: int) -> Case | None:
        """A mock-location app puts the check-in on the site pin while the guard is 20-60 km
        away: the mock flag is set (60%) and/or a ping from the real place minutes earlier
        makes the check-in a teleport (70%). The guard arrives 30-120 min into the shift."""
        d, b, rng = self.duties, self.b, self.rng
        mock = bool(rng.random() < SPOOF_MOCK_SHARE)
        teleport = bool(rng.random() < SPOOF_TELEPORT_SHARE) or not mock
        distance = rng.uniform(*SPOOF_DISTANCE_M)
        b.far_lat[duty], b.far_lon[duty] = point_at(self.world, int(d.site[duty]), distance, rng)
        b.far_speed[duty] = 12.0
        b.ci_lat[duty], b.ci_lon[duty] = self._site_pin(duty)
        if rng.random() < SPOOF_PERFECT_FIX_SHARE:    # crude apps report a perfect fix; better ones randomise it
            b.ci_accuracy[duty] = sensors.spoofed_accuracy_m(rng, 1)[0]
        b.ci_mock[duty] = mock
        b.pre_pings[duty] = PrePings.TELEPORT if teleport else PrePings.NONE
        arrival = d.start[duty] + rng.uniform(*SPOOF_ARRIVAL_MIN) * MINUTE
        # With the mock app still on, pings sit on the site pin; without it, they show the drive in.
        b.set_window(duty, b.check_in[duty], arrival, Mode.SPOOF if mock else Mode.FAR, depart=-np.inf)
        return self._case(FraudKind.GPS_SPOOFING, duty, b.check_in[duty] - 10 * MINUTE, arrival,
                          d.check_in_key(duty), mock_location=mock, teleport=teleport,
                          real_distance_m=round(distance), arrived_at=arrival)

    def _geofence(self, duty: int) -> Case | None:
        """Checks in from 0.5-3.5 km away (the café, the car park down the road), then walks or
        drives over 15-60 min later."""
        d, b, rng = self.duties, self.b, self.rng
        radius = self.world.sites[d.site[duty]].radius_m
        distance = rng.uniform(max(4 * radius, GEOFENCE_DISTANCE_M[0]), GEOFENCE_DISTANCE_M[1])
        far_lat, far_lon = point_at(self.world, int(d.site[duty]), distance, rng)
        b.far_lat[duty], b.far_lon[duty] = far_lat, far_lon
        b.far_speed[duty] = 1.4 if distance < 1500 else 8.0
        lat, lon = sensors.gps_fix(rng, np.array([far_lat]), np.array([far_lon]), np.array([b.ci_accuracy[duty]]))
        b.ci_lat[duty], b.ci_lon[duty] = float(lat[0]), float(lon[0])
        arrival = b.check_in[duty] + rng.uniform(*GEOFENCE_ARRIVAL_MIN) * MINUTE
        b.set_window(duty, b.check_in[duty], arrival, Mode.FAR, depart=-np.inf)
        return self._case(FraudKind.GEOFENCE_VIOLATION, duty, b.check_in[duty], arrival, d.check_in_key(duty),
                          distance_m=round(distance), radius_m=radius)

    def _leave(self, duty: int) -> Case | None:
        """Checks in on site, leaves 10-45 min later for somewhere 2-15 km away, comes back
        10-40 min before clocking out. Labelled on the check-out: that is when it shows."""
        d, b, rng = self.duties, self.b, self.rng
        leave = b.check_in[duty] + rng.uniform(*LEAVE_AFTER_MIN) * MINUTE
        back = b.check_out[duty] - rng.uniform(*LEAVE_BACK_BEFORE_MIN) * MINUTE
        distance = rng.uniform(*LEAVE_DISTANCE_M)
        b.far_lat[duty], b.far_lon[duty] = point_at(self.world, int(d.site[duty]), distance, rng)
        b.far_speed[duty] = 9.0
        b.set_window(duty, leave, back, Mode.FAR, alert=bool(rng.random() < LEAVE_ALERT_SHARE))
        return self._case(FraudKind.CHECK_IN_AND_LEAVE, duty, leave, back, d.check_out_key(duty),
                          distance_m=round(distance))

    def _silent(self, duty: int) -> Case | None:
        """The phone goes quiet for 2-5 h mid-shift (switched off, asleep in the car)."""
        b, rng = self.b, self.rng
        span = b.check_out[duty] - b.check_in[duty]
        start = b.check_in[duty] + rng.uniform(0.1, 0.4) * span
        end = min(start + rng.uniform(*SILENT_MINUTES) * MINUTE, b.check_out[duty] - 20 * MINUTE)
        b.set_window(duty, start, end, Mode.SILENT, alert=bool(rng.random() < SILENT_ALERT_SHARE))
        return self._case(FraudKind.SILENT_DEVICE, duty, start, end, None,
                          minutes=round((end - start) / MINUTE))

    def _no_show(self, duty: int) -> Case | None:
        self.b.worked[duty] = False
        self.b.check_out[duty] = np.nan
        d = self.duties
        return Case(kind=FraudKind.NO_SHOW, duty=duty, person=int(d.person[duty]), site=int(d.site[duty]),
                    window_start=float(d.start[duty]), window_end=float(d.end[duty]), event_key=None,
                    details={"shift": d.code[duty]})

    def _stuffing_rounds(self, duty: int) -> np.ndarray:
        r, b = self.rounds, self.b
        return np.flatnonzero((r.shift == duty) & (r.scheduled >= b.check_in[duty] + 20 * MINUTE)
                              & (r.scheduled < b.check_out[duty] - 30 * MINUTE))

    def _stuffing_candidates(self) -> Bools:
        counts = np.bincount(self.rounds.shift[self.rounds.shift >= 0], minlength=len(self.duties))
        return self.base & (self.duties.post == 0) & (counts >= 3)

    def _stuffing(self, duty: int) -> Case | None:
        """Stays in the guard house and scans every checkpoint of the tour from copies of the
        tags within a minute, for 2+ consecutive rounds."""
        rounds = self._stuffing_rounds(duty)
        if len(rounds) < 2:
            return None
        first = int(self.rng.integers(0, len(rounds) - 1))
        last = int(self.rng.integers(first + 1, len(rounds)))
        scheduled = self.rounds.scheduled[rounds[first:last + 1]]
        self.b.stuffed_from[duty], self.b.stuffed_to[duty] = scheduled[0], scheduled[-1]
        tour = self.world.tours[self.rounds.tour[rounds[0]]]
        return self._case(FraudKind.SCAN_STUFFING, duty, scheduled[0],
                          scheduled[-1] + tour.interval_minutes * MINUTE, None,
                          tour=tour.code, rounds=len(scheduled))
