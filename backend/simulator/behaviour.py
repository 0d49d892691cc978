"""How each duty of the history is lived: when the guard clocks in and out, what the phone
reads at check-in, and one optional *window* in which the guard is not (really) on site.

Honest behaviour is drawn here for every duty; ``backend.simulator.fraud`` then rewrites the
duties it plants misconduct on. ``backend.simulator.history`` turns the result into events,
so every stream (pings, scans, phone activity, alerts) agrees with what happened."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from backend.simulator import sensors
from backend.simulator.geo import Floats, offset, scatter_in_disk
from backend.simulator.schedule import Ints, Roster
from backend.simulator.world import World

Bools = NDArray[np.bool_]
MINUTE = 60.0
HOUR = 3600.0


class Mode(IntEnum):
    """What the guard's phone shows during a duty's window."""
    NONE = 0
    FAR = 1      # away from site (pings from elsewhere, travelling there and back)
    SILENT = 2   # nothing: phone off, asleep, or not the phone that clocked in
    SPOOF = 3    # pings at the site pin with the mock-location flag, body elsewhere


class PrePings(IntEnum):
    """Pings sent shortly before the check-in (the app is already open on the way)."""
    NONE = 0
    COMMUTE = 1   # on the way at a plausible speed
    TELEPORT = 2  # from far away minutes before a check-in on site: impossible speed


@dataclass(frozen=True)
class Duties:
    """Who is due on site when: the rostered shifts (first ``n_rostered``, same index as the
    roster) followed by off-roster punches, which have no shift."""
    code: list[str]
    site: Ints
    person: Ints
    post: Ints
    start: Floats
    end: Floats
    n_rostered: int

    def __len__(self) -> int:
        return len(self.code)

    @classmethod
    def of(cls, roster: Roster, extra_code: list[str], extra_site: Ints, extra_person: Ints,
           extra_start: Floats, extra_end: Floats) -> "Duties":
        return cls(code=roster.code + extra_code,
                   site=np.concatenate([roster.site, extra_site]).astype(np.int64),
                   person=np.concatenate([roster.person, extra_person]).astype(np.int64),
                   post=np.concatenate([roster.post, np.full(len(extra_code), -1)]).astype(np.int64),
                   start=np.concatenate([roster.start, extra_start]),
                   end=np.concatenate([roster.end, extra_end]), n_rostered=len(roster))

    def check_in_key(self, i: int) -> str:
        return f"hist-in-{self.code[i]}"

    def check_out_key(self, i: int) -> str:
        return f"hist-out-{self.code[i]}"


@dataclass
class Behaviour:
    """Per-duty arrays (index = duty). NaN means "none" for times and overrides."""
    worked: Bools           # False: outside the history, or a no-show
    check_in: Floats
    check_out: Floats       # NaN: never clocked out (forgot, or still on shift at the end)
    telemetry_end: Floats   # the phone stops reporting for this duty
    # Check-in readings (fraud rewrites some).
    ci_lat: Floats
    ci_lon: Floats
    ci_accuracy: Floats
    ci_biometric: Floats    # NaN: the device has no biometric check
    ci_mock: Bools
    ci_device: Ints         # index of the person whose phone made the check-in
    battery_start: Floats
    battery_drain: Floats   # % per hour
    signal: Floats
    pre_pings: Ints         # PrePings
    # The one window of the duty in which the guard is not on site.
    win_start: Floats
    win_end: Floats
    win_mode: Ints          # Mode
    win_depart: Floats      # when the trip away starts (-inf: already away at the window's start)
    win_alert: Bools        # the device/integration raises an alert for it
    far_lat: Floats
    far_lon: Floats
    far_speed: Floats       # m/s travelling to/from the far point
    stuffed_from: Floats    # tour rounds scheduled in [from, to] are stuffed
    stuffed_to: Floats
    planted: Bools          # already carries a planted case (one per duty)

    def set_window(self, i: int, start: float, end: float, mode: Mode, *, depart: float | None = None,
                   alert: bool = False) -> None:
        self.win_start[i], self.win_end[i], self.win_mode[i] = start, end, mode
        self.win_depart[i] = start if depart is None else depart
        self.win_alert[i] = alert

    def in_window(self, duty: Ints, t: Floats) -> Bools:
        return (t >= self.win_start[duty]) & (t < self.win_end[duty])

    def present(self, duty: Ints, t: Floats) -> Bools:
        """The guard is physically on site and reporting at ``t``."""
        return (self.worked[duty] & (t >= self.check_in[duty]) & (t < self.telemetry_end[duty])
                & ~self.in_window(duty, t))


def honest_behaviour(world: World, duties: Duties, h0: float, h1: float, rng: np.random.Generator) -> Behaviour:
    """Mostly punctual guards with the noise real operations have: a few late arrivals, early
    leavers, forgotten check-outs, phones that drop off for half an hour, coffee runs."""
    n = len(duties)
    nan = np.full(n, np.nan)
    worked = (duties.start >= h0) & (duties.start < h1)

    u = rng.random(n)
    offset_min = np.where(u < 0.85, rng.normal(-7, 4, n),
                          np.where(u < 0.97, rng.normal(4, 3, n), rng.uniform(15, 45, n)))
    check_in = duties.start + offset_min * MINUTE
    worked &= check_in < h1   # a shift starting right at the end may not have begun yet
    u = rng.random(n)
    out_offset_min = np.where(u < 0.96, rng.normal(3, 4, n), -rng.uniform(15, 60, n))
    check_out = duties.end + out_offset_min * MINUTE
    check_out[(rng.random(n) < 0.01) | (check_out >= h1) | ~worked] = np.nan
    telemetry_end = np.minimum(np.where(np.isnan(check_out), duties.end, check_out), h1)

    site_lat, site_lon = world.arrays["site_lat"][duties.site], world.arrays["site_lon"][duties.site]
    radius = world.arrays["site_radius"][duties.site]
    true_lat, true_lon = scatter_in_disk(rng, site_lat, site_lon, 0.9 * radius)  # entrances can be at the edge
    accuracy = sensors.gps_accuracy_m(rng, n)
    ci_lat, ci_lon = sensors.gps_fix(rng, true_lat, true_lon, accuracy)
    biometric = sensors.biometric_quality(rng, n)
    biometric[rng.random(n) < 0.03] = np.nan

    behaviour = Behaviour(
        worked=worked, check_in=check_in, check_out=check_out, telemetry_end=telemetry_end,
        ci_lat=ci_lat, ci_lon=ci_lon, ci_accuracy=accuracy, ci_biometric=biometric,
        ci_mock=np.zeros(n, dtype=bool), ci_device=duties.person.copy(),
        battery_start=sensors.battery_start_pct(rng, n), battery_drain=sensors.battery_drain_pct_per_h(rng, n),
        signal=sensors.signal_dbm(rng, world.arrays["site_signal"][duties.site]),
        pre_pings=np.where(rng.random(n) < 0.3, PrePings.COMMUTE, PrePings.NONE).astype(np.int64),
        win_start=nan.copy(), win_end=nan.copy(), win_mode=np.zeros(n, dtype=np.int64),
        win_depart=nan.copy(), win_alert=np.zeros(n, dtype=bool),
        far_lat=nan.copy(), far_lon=nan.copy(), far_speed=np.full(n, 1.4),
        stuffed_from=nan.copy(), stuffed_to=nan.copy(), planted=np.zeros(n, dtype=bool))
    _honest_gaps(behaviour, world, duties, rng)
    _borrowed_phones(behaviour, duties, rng)
    return behaviour


def _borrowed_phones(b: Behaviour, duties: Duties, rng: np.random.Generator) -> None:
    """0.2% of guards clock in on a colleague's phone (theirs is flat or broken) a few minutes
    after the colleague, with their own face: the device signal of buddy punching, honestly."""
    key = duties.site * 10_000_000_000 + duties.start.astype(np.int64)
    for i in np.flatnonzero(b.worked & (rng.random(len(duties)) < 0.002)).tolist():
        colleagues = np.flatnonzero((key == key[i]) & b.worked & (np.arange(len(duties)) != i))
        if len(colleagues):
            lender = int(rng.choice(colleagues))
            b.ci_device[i] = duties.person[lender]
            b.check_in[i] = b.check_in[lender] + rng.uniform(1, 10) * MINUTE


def _honest_gaps(b: Behaviour, world: World, duties: Duties, rng: np.random.Generator) -> None:
    """Short honest absences: a phone offline for 25-45 min (1.5% of duties), a 5-20 min step
    outside the geofence (0.7%). Planted misconduct is longer and farther; audits and the
    model must tell them apart."""
    n = len(duties)
    span = np.nan_to_num(b.telemetry_end - b.check_in, nan=0.0)
    u = rng.random(n)
    alert = rng.random(n) < 0.8
    for i in np.flatnonzero(b.worked & (span > 3 * HOUR) & (u < 0.022)).tolist():
        start = b.check_in[i] + rng.uniform(0.2, 0.7) * span[i]
        if u[i] < 0.015:
            b.set_window(i, start, start + rng.uniform(25, 45) * MINUTE, Mode.SILENT, alert=bool(alert[i]))
        else:
            site = int(duties.site[i])
            away = world.sites[site].radius_m + rng.uniform(150, 500)
            b.far_lat[i], b.far_lon[i] = point_at(world, site, away, rng)
            b.far_speed[i] = 1.4
            b.set_window(i, start, start + rng.uniform(5, 20) * MINUTE + 2 * away / 1.4, Mode.FAR,
                         alert=bool(alert[i]) and rng.random() < 0.6)


def point_at(world: World, site: int, distance_m: float, rng: np.random.Generator) -> tuple[float, float]:
    """A point ``distance_m`` from the site in a random direction."""
    lat, lon = offset(world.sites[site].lat, world.sites[site].lon, distance_m, rng.uniform(0, 2 * np.pi))
    return float(lat), float(lon)
