"""The live demo feed's simulation: the demo world's guards going about their current shifts
in real time, as wire-format events (``backend.ingest.schemas``) due at each moment.

Pure (no I/O): ``LiveSimulator.step(now)`` returns the events whose time has come, so the
feed loop (``backend.simulator.live``) only posts them and tests can drive a clock.

Rate: shift changes, tour scans, alerts and location pings (every 10-15 min per guard on
duty, as in the history, so the fraud features and baselines see the same cadence live) come
at their natural times; phone activity (screen, app, motion, steps, calls: naturally chatty)
fills up to ``rate`` events/s, each guard's phone reporting as often as that takes (at least
every 30 min). Planted misconduct happens on ~``fraud_rate`` of the shifts,
with the same patterns as the history (``backend.simulator.fraud``); it is not labelled."""
from __future__ import annotations

import heapq
import itertools
import math
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from backend.enums import AlertKind, FraudKind, InputType, PhoneActivityKind, ScanMethod, Severity
from backend.simulator import fraud, sensors
from backend.simulator.behaviour import HOUR, MINUTE, Mode
from backend.geo import haversine_m
from backend.simulator.geo import offset, scatter_in_disk, trip_position
from backend.simulator.history import (COMMUTE_BEFORE_MIN, COMMUTE_SPEED_MPS, LOW_BATTERY_PCT,
                                       PERSONAL_ALARMS_PER_DAY, PING_GAP_S, SITE_ALARMS_PER_SITE_DAY)
from backend.simulator.live_world import LivePerson, LiveShift, LiveSite, LiveTour, LiveWorld
from backend.local_time import round_times

STREAM_LIVE = 4
# Phone activity per guard: as chatty as the rate needs (a load test may ask for thousands of
# events/s), but at least every 30 min.
ACTIVITY_INTERVAL_S = (0.01, 1800.0)
ADMIT_AHEAD_S = 30 * MINUTE          # shifts enter the simulation this long before they start
SITE_SIGNAL_DBM = -90.0              # the DB keeps no per-site coverage; one typical value
SHIFT_KINDS = tuple(k for k in FraudKind if k is not FraudKind.OFF_ROSTER)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


@dataclass
class _Window:
    start: float
    end: float
    mode: Mode
    depart: float = -math.inf
    far_lat: float = math.nan
    far_lon: float = math.nan
    speed: float = 1.4

    def covers(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass
class _Duty:
    key: str
    person: LivePerson
    site: LiveSite
    shift: LiveShift | None          # None: off-roster
    check_in_at: float
    check_out_at: float
    kind: FraudKind | None = None
    clocked_in: bool = False
    battery: float = 80.0
    drain: float = 2.2
    low_battery_sent: bool = False
    next_ping: float = math.inf
    next_activity: float = math.inf
    window: _Window | None = None
    stuffing: bool = False

    def battery_at(self, t: float) -> float:
        return float(np.clip(round(self.battery - self.drain * (t - self.check_in_at) / HOUR), 2, 100))

    def mode_at(self, t: float) -> Mode:
        return self.window.mode if self.window and self.window.covers(t) else Mode.NONE


class LiveSimulator:
    def __init__(self, world: LiveWorld, *, seed: int, rate: float, now: float, fraud_rate: float = 0.03,
                 run_id: str | None = None) -> None:
        self.world, self.rate, self.fraud_rate = world, rate, fraud_rate
        self.rng = np.random.default_rng([seed, STREAM_LIVE])
        # Client event ids unique per run: a restarted feed never collides with an earlier one.
        self.run_id = run_id or secrets.token_hex(4)
        self._ids = itertools.count(1)
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._pending: deque[LiveShift] = deque()
        self._taken: dict[str, float] = {}       # code -> end of every shift taken in and not yet over
        self._duties: dict[str, _Duty] = {}
        self._tours_by_site: dict[str, list[LiveTour]] = {}
        self._next_round: dict[str, float] = {}
        self._started = now
        self._last_step = now
        self._emitted = 0
        self._activity_emitted = 0
        self._off_roster_seq = itertools.count(1)
        self._take_in(world, now)
        self._admit(now)
        # Recent rate of everything but phone activity (EMA, events/s), primed with the pings.
        self._base_rate = self.on_duty / sum(PING_GAP_S) * 2

    # -- the clock ------------------------------------------------------------------------

    def step(self, now: float) -> list[dict[str, Any]]:
        """Advance to ``now``; the events due by then, oldest first."""
        dt = max(now - self._last_step, 1e-3)
        self._last_step = now
        emitted, activity = self._emitted, self._activity_emitted
        self._admit(now)
        self._shift_changes(now)
        self._tours(now)
        self._random_events(now, dt)
        self._telemetry(now)
        base = (self._emitted - emitted) - (self._activity_emitted - activity)
        self._base_rate = 0.98 * self._base_rate + 0.02 * base / dt
        due = []
        while self._heap and self._heap[0][0] <= now:
            due.append(heapq.heappop(self._heap)[2])
        return due

    @property
    def on_duty(self) -> int:
        return sum(1 for d in self._duties.values() if d.clocked_in)

    @property
    def shifts_ahead(self) -> int:
        """Rostered shifts not yet begun (admitted ``ADMIT_AHEAD_S`` before their start)."""
        return len(self._pending)

    def refresh(self, world: LiveWorld, now: float) -> int:
        """Take in a newer read of the world (the roster is extended while the feed runs): shifts
        not seen before join the queue; those already queued or played keep their state.
        Returns how many shifts were new."""
        return self._take_in(world, now)

    def _take_in(self, world: LiveWorld, now: float) -> int:
        self.world = world
        # Forget shifts that are over (a reload no longer returns them): the memory stays bounded.
        self._taken = {code: ends for code, ends in self._taken.items() if ends > now}
        new = [s for s in world.shifts if s.code not in self._taken and s.ends > now]
        self._taken.update((s.code, s.ends) for s in new)
        self._pending = deque(sorted([*self._pending, *new], key=lambda s: s.starts))
        self._tours_by_site.clear()
        for tour in world.tours:
            self._tours_by_site.setdefault(tour.site, []).append(tour)
            if tour.code not in self._next_round:      # a tour already scheduled keeps its next round
                self._next_round[tour.code] = self._round_after(tour, now)
        shifts_per_day = sum(1 for s in self._pending if s.starts < now + 86_400)
        self._off_roster_per_s = self.fraud_rate * shifts_per_day / len(FraudKind) / 86_400
        return len(new)

    def _emit(self, ts: float, payload: dict[str, Any]) -> None:
        seq = next(self._ids)
        self._emitted += 1
        payload = {"id": f"live-{self.run_id}-{seq:08d}", "ts": _iso(ts), **payload}
        heapq.heappush(self._heap, (ts, seq, payload))

    def _u(self, bounds: tuple[float, float]) -> float:
        return float(self.rng.uniform(*bounds))

    # -- shifts ---------------------------------------------------------------------------

    def _admit(self, now: float) -> None:
        new: list[_Duty] = []
        while self._pending and self._pending[0].starts - ADMIT_AHEAD_S <= now:
            shift = self._pending.popleft()
            if shift.ends <= now or shift.person not in self.world.persons or shift.site not in self.world.sites:
                continue
            duty = self._new_duty(shift.code, self.world.persons[shift.person], self.world.sites[shift.site],
                                  shift, check_in_at=shift.starts + self.rng.normal(-7, 4) * MINUTE,
                                  check_out_at=shift.ends + self.rng.normal(3, 4) * MINUTE)
            if shift.starts <= self._started and shift.code in self.world.clocked_in:
                duty.clocked_in = True         # clocked in before the feed started (the history)
                duty.next_ping = now + self.rng.uniform(0, PING_GAP_S[1])
                duty.next_activity = now + self.rng.uniform(0, 20)
            else:
                duty.check_in_at = max(duty.check_in_at, now + self.rng.uniform(5, 120))
                new.append(duty)
            self._duties[duty.key] = duty
        reserved: set[str] = set()             # accomplices of buddy punching stay honest
        for duty in new:
            check_in: dict[str, Any] | None = {}
            if duty.key not in reserved and self.rng.random() < self.fraud_rate:
                kind = SHIFT_KINDS[int(self.rng.integers(len(SHIFT_KINDS)))]
                check_in = self._plant(duty, kind, new, reserved)
            if duty.kind is None and self.rng.random() < 0.3:
                self._commute_pings(duty)
            if check_in is not None:
                self._attendance(duty, InputType.CHECK_IN, duty.check_in_at, **check_in)

    def _new_duty(self, key: str, person: LivePerson, site: LiveSite, shift: LiveShift | None, *,
                  check_in_at: float, check_out_at: float) -> _Duty:
        return _Duty(key=key, person=person, site=site, shift=shift, check_in_at=check_in_at,
                     check_out_at=check_out_at, battery=float(sensors.battery_start_pct(self.rng, 1)[0]),
                     drain=float(sensors.battery_drain_pct_per_h(self.rng, 1)[0]))

    def _shift_changes(self, now: float) -> None:
        for key, duty in list(self._duties.items()):
            if duty.kind is FraudKind.NO_SHOW:
                if now >= duty.check_out_at:
                    del self._duties[key]
                continue
            if not duty.clocked_in and now >= duty.check_in_at:
                duty.clocked_in = True
                duty.next_ping = duty.check_in_at + self.rng.uniform(30, 300)
                duty.next_activity = duty.check_in_at + self.rng.uniform(30, 300)
            if duty.clocked_in and now >= duty.check_out_at:
                self._attendance(duty, InputType.CHECK_OUT, duty.check_out_at)
                del self._duties[key]

    def _attendance(self, duty: _Duty, kind: InputType, ts: float, *, device: str | None = None,
                    lat: float | None = None, lon: float | None = None, accuracy: float | None = None,
                    biometric: float | None = None, mock: bool = False) -> None:
        rng, site = self.rng, duty.site
        if accuracy is None:
            accuracy = float(sensors.gps_accuracy_m(rng, 1)[0])
        if lat is None or lon is None:
            true_lat, true_lon = scatter_in_disk(rng, np.array([site.lat]), np.array([site.lon]), 0.9 * site.radius_m)
            fix_lat, fix_lon = sensors.gps_fix(rng, true_lat, true_lon, np.array([accuracy]))
            lat, lon = float(fix_lat[0]), float(fix_lon[0])
        if biometric is None:
            biometric = float(sensors.biometric_quality(rng, 1)[0])
        self._emit(ts, {"type": kind.value, "person": duty.person.code, "site": site.code,
                        "device_id": device or duty.person.device_id, "lat": round(lat, 6), "lon": round(lon, 6),
                        "gps_accuracy_m": round(accuracy, 1), "biometric_quality": round(biometric, 3),
                        "mock_location": mock, "battery_pct": duty.battery_at(ts),
                        "signal_dbm": float(sensors.signal_dbm(rng, np.array([SITE_SIGNAL_DBM]))[0])})

    # -- planted misconduct (the history's patterns, parameters from backend.simulator.fraud) ---

    def _plant(self, duty: _Duty, kind: FraudKind, batch: list[_Duty], reserved: set[str]
               ) -> dict[str, Any] | None:
        """Turn ``duty`` into a case of ``kind``: the check-in's overrides, or None for no
        check-in at all. A kind that does not fit this shift leaves it honest."""
        rng, site, start = self.rng, duty.site, duty.check_in_at
        duty.kind = kind
        if kind is FraudKind.NO_SHOW:
            return None
        if kind is FraudKind.BUDDY_PUNCHING:
            owners = [d for d in batch if d is not duty and d.kind is None and d.site is site
                      and d.shift is not None and duty.shift is not None and d.shift.starts == duty.shift.starts]
            if not owners or duty.shift is None:
                duty.kind = None
                return {}
            owner = owners[int(rng.integers(len(owners)))]
            reserved.add(owner.key)
            duty.check_in_at = owner.check_in_at + self._u(fraud.BUDDY_MINUTES_AFTER_OWNER) * MINUTE
            duty.window = _Window(duty.check_in_at, duty.shift.starts + self._u(fraud.BUDDY_ARRIVAL_MIN) * MINUTE,
                                  Mode.SILENT)   # the absent guard's own phone is not on duty yet
            lat, lon = scatter_in_disk(rng, np.array([site.lat]), np.array([site.lon]), 0.5 * site.radius_m)
            return {"device": owner.person.device_id, "lat": float(lat[0]), "lon": float(lon[0]),
                    "biometric": float(sensors.impostor_biometric_quality(rng, 1)[0])}
        if kind is FraudKind.GPS_SPOOFING:
            mock = bool(rng.random() < fraud.SPOOF_MOCK_SHARE)
            teleport = bool(rng.random() < fraud.SPOOF_TELEPORT_SHARE) or not mock
            far_lat, far_lon = self._away(site, fraud.SPOOF_DISTANCE_M)
            duty.window = _Window(start, start + self._u(fraud.SPOOF_ARRIVAL_MIN) * MINUTE,
                                  Mode.SPOOF if mock else Mode.FAR, far_lat=far_lat, far_lon=far_lon, speed=12.0)
            if teleport:
                self._ping(duty, start - self._u(fraud.SPOOF_TELEPORT_BEFORE_MIN) * MINUTE, far_lat, far_lon,
                           site_code=None, speed=0.5)
            pin_lat, pin_lon = offset(site.lat, site.lon, rng.uniform(0, 15), rng.uniform(0, 2 * np.pi))
            perfect = rng.random() < fraud.SPOOF_PERFECT_FIX_SHARE
            return {"lat": float(pin_lat), "lon": float(pin_lon), "mock": mock,
                    "accuracy": float(sensors.spoofed_accuracy_m(rng, 1)[0]) if perfect else None}
        if kind is FraudKind.GEOFENCE_VIOLATION:
            low = max(4 * site.radius_m, fraud.GEOFENCE_DISTANCE_M[0])
            far_lat, far_lon = self._away(site, (low, fraud.GEOFENCE_DISTANCE_M[1]))
            distance = float(haversine_m(site.lat, site.lon, far_lat, far_lon))
            duty.window = _Window(start, start + self._u(fraud.GEOFENCE_ARRIVAL_MIN) * MINUTE, Mode.FAR,
                                  far_lat=far_lat, far_lon=far_lon, speed=1.4 if distance < 1500 else 8.0)
            return {"lat": far_lat, "lon": far_lon}
        if kind is FraudKind.CHECK_IN_AND_LEAVE:
            leave = start + self._u(fraud.LEAVE_AFTER_MIN) * MINUTE
            back = duty.check_out_at - self._u(fraud.LEAVE_BACK_BEFORE_MIN) * MINUTE
            far_lat, far_lon = self._away(site, fraud.LEAVE_DISTANCE_M)
            duty.window = _Window(leave, back, Mode.FAR, depart=leave, far_lat=far_lat, far_lon=far_lon, speed=9.0)
            if rng.random() < fraud.LEAVE_ALERT_SHARE:
                self._alert(duty, AlertKind.GEOFENCE_EXIT, Severity.MEDIUM, leave + site.radius_m / 9.0 + 30,
                            "Device left the site geofence while on duty")
            return {}
        if kind is FraudKind.SILENT_DEVICE:
            quiet = start + rng.uniform(0.1, 0.4) * (duty.check_out_at - start)
            end = min(quiet + self._u(fraud.SILENT_MINUTES) * MINUTE, duty.check_out_at - 20 * MINUTE)
            duty.window = _Window(quiet, end, Mode.SILENT)
            if rng.random() < fraud.SILENT_ALERT_SHARE:
                self._alert(duty, AlertKind.DEVICE_OFFLINE, Severity.MEDIUM, quiet + rng.uniform(15, 25) * MINUTE,
                            "No heartbeat from the device for 15 minutes")
            return {}
        # Scan stuffing: only the guard who walks the tours can stuff it.
        duty.stuffing = bool(duty.shift and duty.shift.walks_tours and site.code in self._tours_by_site)
        duty.kind = kind if duty.stuffing else None
        return {}

    def _away(self, site: LiveSite, distance_m: tuple[float, float]) -> tuple[float, float]:
        lat, lon = offset(site.lat, site.lon, self._u(distance_m), self.rng.uniform(0, 2 * np.pi))
        return float(lat), float(lon)

    def _commute_pings(self, duty: _Duty) -> None:
        """One or two pings on the way in, at a plausible speed (the app is already open)."""
        bearing, speed = self.rng.uniform(0, 2 * np.pi), self._u(COMMUTE_SPEED_MPS)
        for _ in range(1 + int(self.rng.random() < 0.5)):
            before = self._u(COMMUTE_BEFORE_MIN) * MINUTE
            lat, lon = offset(duty.site.lat, duty.site.lon, speed * before, bearing)
            self._ping(duty, duty.check_in_at - before, float(lat), float(lon), site_code=None, speed=speed)

    def _off_roster(self, now: float) -> None:
        """A guard with no shift around now clocks in at their home site for 3-7 h."""
        busy = {d.person.code for d in self._duties.values()}
        busy.update(s.person for s in self._pending if s.starts < now + 4 * HOUR)
        free = [p for p in self.world.persons.values() if p.code not in busy and p.home_site in self.world.sites]
        if not free:
            return
        person = free[int(self.rng.integers(len(free)))]
        assert person.home_site is not None
        check_in_at = now + self.rng.uniform(5, 120)
        duty = self._new_duty(f"off-roster-{next(self._off_roster_seq)}", person, self.world.sites[person.home_site],
                              None, check_in_at=check_in_at, check_out_at=check_in_at + self.rng.uniform(3, 7) * HOUR)
        duty.kind = FraudKind.OFF_ROSTER
        self._duties[duty.key] = duty
        self._attendance(duty, InputType.CHECK_IN, duty.check_in_at)

    # -- telemetry: pings and phone activity ------------------------------------------------

    def _activity_interval(self) -> float:
        budget = max(self.rate - self._base_rate, 0.0)
        return float(np.clip(max(self.on_duty, 1) / budget if budget > 0 else math.inf, *ACTIVITY_INTERVAL_S))

    def _telemetry(self, now: float) -> None:
        interval = self._activity_interval()
        for duty in self._duties.values():
            if not duty.clocked_in:
                continue
            while duty.next_ping <= now:
                t = duty.next_ping
                # After an outage, resume now rather than replaying what nobody sent.
                duty.next_ping = max(t + self.rng.uniform(*PING_GAP_S), now)
                mode = duty.mode_at(t)
                if t < duty.check_out_at and mode is not Mode.SILENT:
                    self._duty_ping(duty, t, mode)
                    self._low_battery(duty, t)
            while duty.next_activity <= now:
                t = duty.next_activity
                duty.next_activity = max(t + interval * self.rng.uniform(0.8, 1.2), now)
                mode = duty.mode_at(t)
                if t < duty.check_out_at and mode is not Mode.SILENT:
                    self._activity(duty, t, mode, interval)

    def _low_battery(self, duty: _Duty, t: float) -> None:
        battery = duty.battery_at(t)
        if battery < LOW_BATTERY_PCT and not duty.low_battery_sent:
            duty.low_battery_sent = True
            self._alert(duty, AlertKind.LOW_BATTERY, Severity.LOW, t + self.rng.uniform(1, 60),
                        f"Battery at {battery:.0f}%")

    def _duty_ping(self, duty: _Duty, t: float, mode: Mode) -> None:
        site, rng = duty.site, self.rng
        if mode is Mode.SPOOF:
            lat, lon = offset(site.lat, site.lon, rng.uniform(0, 15), rng.uniform(0, 2 * np.pi))
            self._ping(duty, t, float(lat), float(lon), site_code=site.code, speed=0.0, mock=True,
                       accuracy=float(sensors.spoofed_accuracy_m(rng, 1)[0]))
            return
        if mode is Mode.FAR and duty.window is not None:
            w = duty.window
            lat, lon, moving = trip_position(site.lat, site.lon, w.far_lat, w.far_lon, w.depart, w.end, w.speed, t)
            speed = w.speed * rng.uniform(0.7, 1.2) if bool(moving) else rng.uniform(0, 0.8)
        else:
            lat, lon = scatter_in_disk(rng, np.array([site.lat]), np.array([site.lon]), 0.7 * site.radius_m)
            speed = 0.0 if rng.random() < 0.6 else rng.uniform(0.3, 1.6)
        self._ping(duty, t, float(np.ravel(lat)[0]), float(np.ravel(lon)[0]), site_code=site.code, speed=speed)

    def _ping(self, duty: _Duty, t: float, lat: float, lon: float, *, site_code: str | None, speed: float,
              mock: bool = False, accuracy: float | None = None) -> None:
        if accuracy is None:
            accuracy = float(sensors.gps_accuracy_m(self.rng, 1)[0])
            fix_lat, fix_lon = sensors.gps_fix(self.rng, np.array([lat]), np.array([lon]), np.array([accuracy]))
            lat, lon = float(fix_lat[0]), float(fix_lon[0])
        payload: dict[str, Any] = {"type": InputType.LOCATION_PING.value, "person": duty.person.code,
                   "device_id": duty.person.device_id, "lat": round(lat, 6), "lon": round(lon, 6),
                   "accuracy_m": round(accuracy, 1), "speed_mps": round(float(speed), 2), "mock_location": mock,
                   "battery_pct": duty.battery_at(t)}
        if site_code:
            payload["site"] = site_code
        self._emit(t, payload)

    def _activity(self, duty: _Duty, t: float, mode: Mode, interval: float) -> None:
        kinds = (PhoneActivityKind.STEPS, PhoneActivityKind.SCREEN_ON, PhoneActivityKind.APP_FOREGROUND,
                 PhoneActivityKind.MOTION, PhoneActivityKind.CALL)
        kind = kinds[int(self.rng.choice(len(kinds), p=[0.35, 0.3, 0.2, 0.1, 0.05]))]
        value: float | None = None
        if kind is PhoneActivityKind.STEPS:
            per_hour = self.rng.normal(650, 250) if mode is Mode.NONE else self.rng.uniform(0, 120)
            value = float(round(max(per_hour, 0.0) * interval / HOUR))
        elif kind is PhoneActivityKind.CALL:
            value = float(round(self.rng.lognormal(np.log(60), 0.8)))
        payload: dict[str, Any] = {"type": InputType.PHONE_ACTIVITY.value, "person": duty.person.code, "site": duty.site.code,
                   "device_id": duty.person.device_id, "activity": kind.value}
        if value is not None:
            payload["value"] = value
        self._activity_emitted += 1
        self._emit(t, payload)

    # -- tours ------------------------------------------------------------------------------

    def _round_after(self, tour: LiveTour, t: float) -> float:
        site = self.world.sites.get(tour.site)
        if site is None:
            return math.inf
        times = round_times(tour.active_from, tour.active_to, tour.interval_minutes, site.timezone, t, t + 2 * 86_400)
        return times[0] if times else math.inf

    def _tours(self, now: float) -> None:
        for tour in self.world.tours:
            if self._next_round[tour.code] > now:
                continue
            self._next_round[tour.code] = self._round_after(tour, now + 1)
            walker = next((d for d in self._duties.values() if d.site.code == tour.site and d.clocked_in
                           and d.shift is not None and d.shift.walks_tours and d.mode_at(now) is Mode.NONE), None)
            if walker is None or not tour.checkpoints:
                continue            # missed round: nobody there to walk it
            if walker.stuffing:
                self._stuffed_round(walker, tour, now + self.rng.uniform(0, 10) * MINUTE)
            elif self.rng.random() >= 0.02:
                self._round(walker, tour, now + self.rng.uniform(0, 10) * MINUTE)

    def _scan(self, duty: _Duty, tour: LiveTour, code: str, t: float, lat: float, lon: float,
              method: ScanMethod) -> None:
        self._emit(t, {"type": InputType.CHECKPOINT_SCAN.value, "person": duty.person.code, "site": tour.site,
                       "checkpoint": code, "tour": tour.code, "method": method.value,
                       "device_id": duty.person.device_id, "lat": round(lat, 6), "lon": round(lon, 6)})

    def _round(self, duty: _Duty, tour: LiveTour, t: float) -> None:
        previous = None
        for cp in tour.checkpoints:
            if previous is not None:
                walk = float(haversine_m(previous.lat, previous.lon, cp.lat, cp.lon))
                t += walk / self.rng.uniform(0.9, 1.4) + self.rng.uniform(10, 45)
            accuracy = sensors.gps_accuracy_m(self.rng, 1)
            lat, lon = sensors.gps_fix(self.rng, np.array([cp.lat]), np.array([cp.lon]), accuracy)
            self._scan(duty, tour, cp.code, t, float(lat[0]), float(lon[0]), ScanMethod.NFC)
            previous = cp

    def _stuffed_round(self, duty: _Duty, tour: LiveTour, t: float) -> None:
        """Every tag from copies in the guard house, within a minute, all from one spot."""
        lat, lon = scatter_in_disk(self.rng, np.array([duty.site.lat]), np.array([duty.site.lon]), 8.0)
        for i, cp in enumerate(tour.checkpoints):
            if i:
                t += self._u(fraud.STUFFED_SCAN_GAP_S)
            self._scan(duty, tour, cp.code, t, float(lat[0]), float(lon[0]), ScanMethod.QR)

    # -- alerts and other random happenings -------------------------------------------------

    def _alert(self, duty: _Duty | None, kind: AlertKind, severity: Severity, t: float, message: str,
               site: LiveSite | None = None) -> None:
        site = site or (duty.site if duty else None)
        if site is None:
            return
        payload: dict[str, Any] = {"type": InputType.NOC_ALERT.value, "site": site.code, "kind": kind.value,
                                   "severity": severity.value, "message": message,
                                   "device_id": duty.person.device_id if duty else f"panel-{site.code}"}
        if duty is not None:
            payload["person"] = duty.person.code
        self._emit(t, payload)

    def _random_events(self, now: float, dt: float) -> None:
        """Poisson arrivals over the last ``dt`` seconds: site alarms, personal alarms, off-roster punches."""
        rng = self.rng
        sites = list(self.world.sites.values())
        for _ in range(rng.poisson(SITE_ALARMS_PER_SITE_DAY * len(sites) * dt / 86_400)):
            site = sites[int(rng.integers(len(sites)))]
            kind, severity = ((AlertKind.DOOR_FORCED, Severity.HIGH), (AlertKind.INTRUSION, Severity.HIGH),
                              (AlertKind.TAMPER, Severity.MEDIUM))[int(rng.choice(3, p=[0.45, 0.25, 0.3]))]
            self._alert(None, kind, severity, now, f"{kind.value.replace('_', ' ').capitalize()} alarm", site=site)
        on_duty = [d for d in self._duties.values() if d.clocked_in and d.mode_at(now) is Mode.NONE]
        scale = len(sites) / 40
        for kind, per_day in PERSONAL_ALARMS_PER_DAY.items():
            for _ in range(rng.poisson(per_day * scale * dt / 86_400)):
                if on_duty:
                    duty = on_duty[int(rng.integers(len(on_duty)))]
                    severity = Severity.HIGH if kind is AlertKind.MAN_DOWN else Severity.CRITICAL
                    self._alert(duty, kind, severity, now,
                                f"{kind.value.replace('_', ' ').capitalize()} button/sensor triggered")
        for _ in range(rng.poisson(self._off_roster_per_s * dt)):
            self._off_roster(now)
