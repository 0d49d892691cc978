"""30 days of history for the demo world, as column arrays (numpy, vectorised where volume
is): check-ins/outs, location pings, checkpoint scans, phone activity and NOC alerts.

Deterministic: the same world, seed and end instant give identical tables."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.enums import AlertKind, PhoneActivityKind, ScanMethod, Severity
from backend.simulator import sensors
from backend.simulator.behaviour import (HOUR, MINUTE, Behaviour, Duties, Mode, PrePings, honest_behaviour)
from backend.simulator.fraud import (SPOOF_TELEPORT_BEFORE_MIN, STUFFED_SCAN_GAP_S, Case, Planter,
                                     choose_offenders, plan_off_roster)
from backend.geo import haversine_m
from backend.simulator.geo import offset, scatter_in_disk, trip_position
from backend.simulator.schedule import Rounds, build_roster, build_rounds
from backend.simulator.world import STREAM_FRAUD, STREAM_HISTORY, World

DAY = 86_400.0
Columns = dict[str, Any]   # column name -> numpy array or list, all of one length

# Enum <-> small int codes inside the arrays.
SCAN_METHODS = list(ScanMethod)
ACTIVITIES = list(PhoneActivityKind)
ALERT_KINDS = list(AlertKind)
SEVERITIES = list(Severity)

PING_GAP_S = (600.0, 900.0)            # every 10-15 min while on duty
COMMUTE_BEFORE_MIN = (5.0, 25.0)       # honest pings on the way in, before clocking in
COMMUTE_SPEED_MPS = (4.0, 12.0)
ACTIVITY_PER_HOUR = 1.0                # screen/app/motion/call events, plus hourly step counts
LOW_BATTERY_PCT = 15.0
# Site alarms per site-day and personal alarms per world-day (scaled by the world's size).
SITE_ALARMS_PER_SITE_DAY = 0.06
PERSONAL_ALARMS_PER_DAY = {AlertKind.PANIC: 0.1, AlertKind.MAN_DOWN: 0.12, AlertKind.DURESS: 0.03}


@dataclass
class History:
    h0: float
    h1: float
    duties: Duties
    behaviour: Behaviour
    rounds: Rounds
    cases: list[Case]
    attendance: Columns
    pings: Columns
    scans: Columns
    activity: Columns
    alerts: Columns

    @property
    def n_rostered(self) -> int:
        return self.duties.n_rostered

    def counts(self) -> dict[str, int]:
        return {"attendance_events": len(self.attendance["ts"]), "location_pings": len(self.pings["ts"]),
                "checkpoint_scans": len(self.scans["ts"]), "phone_activities": len(self.activity["ts"]),
                "noc_alerts": len(self.alerts["ts"]), "shifts": self.n_rostered,
                "ground_truth": len(self.cases)}


def generate_history(world: World, end: float) -> History:
    params = world.params
    h1 = float(end)
    h0 = h1 - params.days * DAY
    roster = build_roster(world, h0, h1 + params.future_days * DAY)
    rounds = build_rounds(world, roster, h0, h1)
    rng = np.random.default_rng([params.seed, STREAM_HISTORY])
    fraud_rng = np.random.default_rng([params.seed, STREAM_FRAUD])
    offenders = choose_offenders(world, fraud_rng)
    duties = Duties.of(roster, *plan_off_roster(world, roster, offenders, h0, h1, fraud_rng))
    behaviour = honest_behaviour(world, duties, h0, h1, rng)
    cases = Planter(world, duties, rounds, behaviour, offenders, h0, h1, fraud_rng).plant_all()
    gen = _Generator(world, duties, behaviour, rounds, h0, h1, rng)
    pings, low_battery = gen.pings()
    return History(h0=h0, h1=h1, duties=duties, behaviour=behaviour, rounds=rounds, cases=cases,
                   attendance=gen.attendance(), pings=_finish(pings, "png", rng),
                   scans=_finish(gen.scans(), "scn", rng), activity=_finish(gen.activity(), "act", rng),
                   alerts=_finish(gen.alerts(low_battery), "alr", rng))


def _concat(parts: list[Columns]) -> Columns:
    keys = parts[0].keys()
    return {k: (sum((list(p[k]) for p in parts), []) if isinstance(parts[0][k], list)
                else np.concatenate([np.asarray(p[k]) for p in parts])) for k in keys}


def _take(cols: Columns, index: np.ndarray) -> Columns:
    return {k: ([v[i] for i in index] if isinstance(v, list) else np.asarray(v)[index]) for k, v in cols.items()}


def _finish(cols: Columns, prefix: str, rng: np.random.Generator) -> Columns:
    """Sort by time (then person), number the client event ids, add the receive time."""
    order = np.lexsort((cols["person"], cols["ts"]))
    cols = _take(cols, order)
    n = len(order)
    cols["key"] = [f"hist-{prefix}-{i:07d}" for i in range(n)]
    cols["received"] = cols["ts"] + sensors.upload_delay_s(rng, n)
    return cols


class _Generator:
    def __init__(self, world: World, duties: Duties, b: Behaviour, rounds: Rounds, h0: float, h1: float,
                 rng: np.random.Generator) -> None:
        self.world, self.d, self.b, self.rounds, self.h0, self.h1, self.rng = world, duties, b, rounds, h0, h1, rng
        self.site_lat = world.arrays["site_lat"]
        self.site_lon = world.arrays["site_lon"]
        self.site_radius = world.arrays["site_radius"]

    def _battery(self, duty: np.ndarray, t: np.ndarray) -> np.ndarray:
        hours = (t - self.b.check_in[duty]) / HOUR
        return np.round(np.clip(self.b.battery_start[duty] - self.b.battery_drain[duty] * hours, 2, 100))

    # -- attendance -----------------------------------------------------------------------

    def attendance(self) -> Columns:
        d, b, rng = self.d, self.b, self.rng
        ins = np.flatnonzero(b.worked)
        outs = np.flatnonzero(b.worked & ~np.isnan(b.check_out))
        n_out = len(outs)
        true_lat, true_lon = scatter_in_disk(rng, self.site_lat[d.site[outs]], self.site_lon[d.site[outs]],
                                             0.9 * self.site_radius[d.site[outs]])
        out_accuracy = sensors.gps_accuracy_m(rng, n_out)
        out_lat, out_lon = sensors.gps_fix(rng, true_lat, true_lon, out_accuracy)
        out_bio = sensors.biometric_quality(rng, n_out)
        out_bio[np.isnan(b.ci_biometric[outs])] = np.nan     # same phone, same capability
        out_ts = b.check_out[outs]
        cols = _concat([
            {"key": [d.check_in_key(i) for i in ins.tolist()], "kind": np.zeros(len(ins), dtype=np.int8),
             "duty": ins, "ts": b.check_in[ins], "lat": b.ci_lat[ins], "lon": b.ci_lon[ins],
             "accuracy": b.ci_accuracy[ins], "biometric": b.ci_biometric[ins], "mock": b.ci_mock[ins],
             "battery": b.battery_start[ins], "signal": b.signal[ins], "device": b.ci_device[ins]},
            {"key": [d.check_out_key(i) for i in outs.tolist()], "kind": np.ones(n_out, dtype=np.int8),
             "duty": outs, "ts": out_ts, "lat": out_lat, "lon": out_lon, "accuracy": out_accuracy,
             "biometric": out_bio, "mock": np.zeros(n_out, dtype=bool), "battery": self._battery(outs, out_ts),
             "signal": sensors.signal_dbm(rng, self.world.arrays["site_signal"][d.site[outs]]),
             "device": d.person[outs]},
        ])
        cols["person"] = d.person[cols["duty"]]
        cols["site"] = d.site[cols["duty"]]
        order = np.lexsort((cols["kind"], cols["person"], cols["ts"]))
        cols = _take(cols, order)
        cols["received"] = cols["ts"] + sensors.upload_delay_s(rng, len(order))
        return cols

    # -- pings ----------------------------------------------------------------------------

    def _far_position(self, duty: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Position and speed on the duty's trip away from site (and back)."""
        b, site = self.b, self.d.site[duty]
        lat, lon, moving = trip_position(self.site_lat[site], self.site_lon[site], b.far_lat[duty], b.far_lon[duty],
                                         b.win_depart[duty], b.win_end[duty], b.far_speed[duty], t)
        speed = np.where(moving, b.far_speed[duty] * self.rng.uniform(0.7, 1.2, len(duty)),
                         self.rng.uniform(0, 0.8, len(duty)))
        return lat, lon, speed

    def pings(self) -> tuple[Columns, Columns]:
        d, b, rng = self.d, self.b, self.rng
        duties = np.flatnonzero(b.worked)
        span = b.telemetry_end[duties] - b.check_in[duties]
        width = int(np.ceil(span.max() / PING_GAP_S[0])) + 1 if len(duties) else 1
        gaps = rng.uniform(*PING_GAP_S, (len(duties), width))
        gaps[:, 0] = rng.uniform(30, 300, len(duties))        # first fix right after clocking in
        times = b.check_in[duties, None] + np.cumsum(gaps, axis=1)
        keep = times < b.telemetry_end[duties, None]
        duty = np.repeat(duties, keep.sum(axis=1))
        t = times[keep]
        mode = np.where(b.in_window(duty, t), b.win_mode[duty], Mode.NONE)
        duty, t, mode = duty[mode != Mode.SILENT], t[mode != Mode.SILENT], mode[mode != Mode.SILENT]
        n = len(t)
        site = d.site[duty]
        # On site: anywhere within 70% of the geofence (patrols, the guard house).
        lat, lon = scatter_in_disk(rng, self.site_lat[site], self.site_lon[site], 0.7 * self.site_radius[site])
        speed = np.where(rng.random(n) < 0.6, 0.0, rng.uniform(0.3, 1.6, n))
        far = mode == Mode.FAR
        far_lat, far_lon, far_speed = self._far_position(duty[far], t[far])
        lat[far], lon[far], speed[far] = far_lat, far_lon, far_speed
        accuracy = sensors.gps_accuracy_m(rng, n)
        lat, lon = sensors.gps_fix(rng, lat, lon, accuracy)
        spoof = mode == Mode.SPOOF
        pin_lat, pin_lon = scatter_in_disk(rng, self.site_lat[site[spoof]], self.site_lon[site[spoof]], 15.0)
        lat[spoof], lon[spoof] = pin_lat, pin_lon
        accuracy[spoof] = sensors.spoofed_accuracy_m(rng, int(spoof.sum()))
        speed[spoof] = 0.0
        battery = self._battery(duty, t)
        on_duty = {"person": d.person[duty], "site": site, "device": d.person[duty], "ts": t, "lat": lat,
                   "lon": lon, "accuracy": accuracy, "speed": np.round(speed, 2), "mock": spoof,
                   "battery": battery}
        # The first ping of a duty under 15% raises the phone's low-battery alert.
        low = np.flatnonzero(battery < LOW_BATTERY_PCT)
        _, first = np.unique(duty[low], return_index=True)
        low = low[first]
        low_battery = {"duty": duty[low], "ts": t[low] + rng.uniform(1, 60, len(low)), "battery": battery[low]}
        return _concat([on_duty, self._pre_pings()]), low_battery

    def _pre_pings(self) -> Columns:
        """One or two pings before the check-in: on the way in (plausible speed) or, for a
        spoofed check-in, from 20-60 km away minutes before (impossible speed)."""
        d, b, rng = self.d, self.b, self.rng
        duties = np.flatnonzero(b.worked & (b.pre_pings != PrePings.NONE))
        duty = np.concatenate([duties, duties[rng.random(len(duties)) < 0.5]])
        n = len(duty)
        teleport = b.pre_pings[duty] == PrePings.TELEPORT
        before = np.where(teleport, rng.uniform(*SPOOF_TELEPORT_BEFORE_MIN, n), rng.uniform(*COMMUTE_BEFORE_MIN, n)) * MINUTE
        t = b.check_in[duty] - before
        site = d.site[duty]
        commute_speed = rng.uniform(*COMMUTE_SPEED_MPS, n)
        bearing = (duty * 2.399) % (2 * np.pi)   # one direction per duty: both pings on one road
        lat, lon = offset(self.site_lat[site], self.site_lon[site], commute_speed * before, bearing)
        lat[teleport], lon[teleport] = b.far_lat[duty[teleport]], b.far_lon[duty[teleport]]
        accuracy = sensors.gps_accuracy_m(rng, n)
        lat, lon = sensors.gps_fix(rng, lat, lon, accuracy)
        speed = np.where(teleport, rng.uniform(0, 1.5, n), commute_speed)
        return {"person": d.person[duty], "site": np.full(n, -1), "device": d.person[duty], "ts": t,
                "lat": lat, "lon": lon, "accuracy": accuracy, "speed": np.round(speed, 2),
                "mock": np.zeros(n, dtype=bool), "battery": np.minimum(100, b.battery_start[duty] + 1)}

    # -- phone activity -------------------------------------------------------------------

    def activity(self) -> Columns:
        d, b, rng = self.d, self.b, self.rng
        duties = np.flatnonzero(b.worked)
        span = b.telemetry_end[duties] - b.check_in[duties]
        # Hourly step counts...
        hours = np.floor(span / HOUR).astype(int)
        step_duty = np.repeat(duties, hours)
        step_k = np.concatenate([np.arange(1, h + 1) for h in hours]) if len(hours) else np.zeros(0)
        step_t = b.check_in[step_duty] + step_k * HOUR + rng.uniform(-30, 30, len(step_duty))
        steps = np.clip(rng.normal(650, 250, len(step_duty)), 0, None)
        # ...and screen / app / motion / call events at random moments.
        counts = rng.poisson(ACTIVITY_PER_HOUR * span / HOUR)
        ev_duty = np.repeat(duties, counts)
        ev_t = b.check_in[ev_duty] + rng.random(len(ev_duty)) * (b.telemetry_end[ev_duty] - b.check_in[ev_duty])
        kind = rng.choice([ACTIVITIES.index(k) for k in (PhoneActivityKind.SCREEN_ON, PhoneActivityKind.APP_FOREGROUND,
                                                         PhoneActivityKind.MOTION, PhoneActivityKind.CALL)],
                          size=len(ev_duty), p=[0.45, 0.35, 0.15, 0.05])
        value = np.where(kind == ACTIVITIES.index(PhoneActivityKind.CALL),
                         np.round(rng.lognormal(np.log(60), 0.8, len(ev_duty))), np.nan)
        duty = np.concatenate([step_duty, ev_duty])
        t = np.concatenate([step_t, ev_t])
        kind = np.concatenate([np.full(len(step_duty), ACTIVITIES.index(PhoneActivityKind.STEPS)), kind])
        value = np.concatenate([np.round(steps), value])
        mode = np.where(b.in_window(duty, t), b.win_mode[duty], Mode.NONE)
        # Away from site the phone is still used, but nobody walks a patrol.
        away = (mode != Mode.NONE) & (kind == ACTIVITIES.index(PhoneActivityKind.STEPS))
        value[away] = np.round(rng.uniform(0, 120, int(away.sum())))
        keep = (mode != Mode.SILENT) & (t < b.telemetry_end[duty])
        duty, t, kind, value = duty[keep], t[keep], kind[keep], value[keep]
        return {"person": d.person[duty], "site": d.site[duty], "device": d.person[duty], "ts": t,
                "activity": kind, "value": value}

    # -- checkpoint scans -----------------------------------------------------------------

    def scans(self) -> Columns:
        """Tour rounds walked by the post-0 guard on duty: checkpoints in order, 1-4 min apart.
        Rounds are missed when nobody is there (no-show, away, silent); honest guards miss 2%
        of rounds and skip a checkpoint in 3%. Stuffed rounds: every tag within a minute, all
        from the same spot (copies of the tags in the guard house)."""
        world, r, b, d, rng = self.world, self.rounds, self.b, self.d, self.rng
        site_method = np.where(rng.random(len(world.sites)) < 0.8, SCAN_METHODS.index(ScanMethod.NFC),
                               SCAN_METHODS.index(ScanMethod.QR))
        duty = np.where(r.shift >= 0, r.shift, 0)
        stuffed = (r.shift >= 0) & (r.scheduled >= b.stuffed_from[duty]) & (r.scheduled <= b.stuffed_to[duty])
        begin = r.scheduled + np.where(stuffed, rng.uniform(0, 10, len(r)), rng.uniform(-3, 10, len(r))) * MINUTE
        walked = (r.shift >= 0) & b.present(duty, begin) & (stuffed | (rng.random(len(r)) >= 0.02))
        cp_lat, cp_lon = self.world.arrays["cp_lat"], self.world.arrays["cp_lon"]
        rows: dict[str, list[Any]] = {k: [] for k in ("duty", "checkpoint", "tour", "ts", "stuffed")}
        for i in np.flatnonzero(walked):
            tour = world.tours[r.tour[i]]
            cps = np.array(tour.checkpoints)
            if not stuffed[i] and len(cps) > 2 and rng.random() < 0.03:
                cps = np.delete(cps, rng.integers(len(cps)))
            if stuffed[i]:
                gaps = rng.uniform(*STUFFED_SCAN_GAP_S, len(cps) - 1)
            else:
                walk = haversine_m(cp_lat[cps[:-1]], cp_lon[cps[:-1]], cp_lat[cps[1:]], cp_lon[cps[1:]])
                gaps = walk / rng.uniform(0.9, 1.4, len(walk)) + rng.uniform(10, 45, len(walk))
            rows["duty"].extend([duty[i]] * len(cps))
            rows["checkpoint"].extend(cps)
            rows["tour"].extend([r.tour[i]] * len(cps))
            rows["ts"].extend(begin[i] + np.concatenate([[0.0], np.cumsum(gaps)]))
            rows["stuffed"].extend([bool(stuffed[i])] * len(cps))
        scan_duty = np.array(rows["duty"], dtype=np.int64)
        checkpoint = np.array(rows["checkpoint"], dtype=np.int64)
        ts = np.array(rows["ts"], dtype=float)
        is_stuffed = np.array(rows["stuffed"], dtype=bool)
        n = len(ts)
        accuracy = sensors.gps_accuracy_m(rng, n)
        lat, lon = sensors.gps_fix(rng, cp_lat[checkpoint], cp_lon[checkpoint], accuracy)
        site = d.site[scan_duty]
        # Stuffed scans all come from one spot: the guard house by the site's pin.
        house_lat, house_lon = scatter_in_disk(rng, self.site_lat[site[is_stuffed]],
                                               self.site_lon[site[is_stuffed]], 8.0)
        lat[is_stuffed], lon[is_stuffed] = house_lat, house_lon
        method = np.where(is_stuffed, SCAN_METHODS.index(ScanMethod.QR), site_method[site])
        keep = ts < np.minimum(b.telemetry_end[scan_duty], self.h1)
        cols = {"person": d.person[scan_duty], "site": site, "device": d.person[scan_duty], "ts": ts,
                "checkpoint": checkpoint, "tour": np.array(rows["tour"], dtype=np.int64), "method": method,
                "lat": lat, "lon": lon}
        return _take(cols, np.flatnonzero(keep))

    # -- NOC alerts -----------------------------------------------------------------------

    def alerts(self, low_battery: Columns) -> Columns:
        d, b, rng = self.d, self.b, self.rng
        parts: list[Columns] = []

        def personal(duty: np.ndarray, t: np.ndarray, kind: AlertKind, severity: Severity,
                     messages: list[str]) -> None:
            parts.append({"person": d.person[duty], "site": d.site[duty], "ts": t,
                          "kind": np.full(len(duty), ALERT_KINDS.index(kind)),
                          "severity": np.full(len(duty), SEVERITIES.index(severity)), "message": messages,
                          "device": [self.world.persons[p].device_id for p in d.person[duty]]})

        personal(low_battery["duty"], low_battery["ts"], AlertKind.LOW_BATTERY, Severity.LOW,
                 [f"Battery at {v:.0f}%" for v in low_battery["battery"]])
        silent = np.flatnonzero(b.win_alert & (b.win_mode == Mode.SILENT))
        offline_at = b.win_start[silent] + rng.uniform(15, 25, len(silent)) * MINUTE
        ok = offline_at < b.win_end[silent]
        personal(silent[ok], offline_at[ok], AlertKind.DEVICE_OFFLINE, Severity.MEDIUM,
                 ["No heartbeat from the device for 15 minutes"] * int(ok.sum()))
        exits = np.flatnonzero(b.win_alert & (b.win_mode == Mode.FAR))
        # Raised when the trip crosses the geofence.
        exit_at = b.win_depart[exits] + self.site_radius[d.site[exits]] / b.far_speed[exits] + rng.uniform(5, 60, len(exits))
        personal(exits, exit_at, AlertKind.GEOFENCE_EXIT, Severity.MEDIUM,
                 ["Device left the site geofence while on duty"] * len(exits))
        scale = len(self.world.sites) / 40
        for kind, per_day in PERSONAL_ALARMS_PER_DAY.items():
            n = rng.poisson(per_day * scale * (self.h1 - self.h0) / DAY)
            duty = rng.choice(np.flatnonzero(b.worked), size=n)
            t = b.check_in[duty] + rng.random(n) * (b.telemetry_end[duty] - b.check_in[duty])
            severity = Severity.HIGH if kind is AlertKind.MAN_DOWN else Severity.CRITICAL
            personal(duty, t, kind, severity, [f"{kind.value.replace('_', ' ').capitalize()} button/sensor"
                                               " triggered"] * n)
        parts.append(self._site_alarms())
        alerts = _concat(parts)
        keep = (alerts["ts"] >= self.h0) & (alerts["ts"] < self.h1)
        return _take(alerts, np.flatnonzero(keep))

    def _site_alarms(self) -> Columns:
        """Intrusion panels and door contacts: nobody's phone, the site's panel."""
        world, rng = self.world, self.rng
        kinds = [(AlertKind.DOOR_FORCED, Severity.HIGH, 0.45), (AlertKind.INTRUSION, Severity.HIGH, 0.25),
                 (AlertKind.TAMPER, Severity.MEDIUM, 0.30)]
        counts = rng.poisson(SITE_ALARMS_PER_SITE_DAY * (self.h1 - self.h0) / DAY, len(world.sites))
        site = np.repeat(np.arange(len(world.sites)), counts)
        n = len(site)
        pick = rng.choice(len(kinds), size=n, p=[k[2] for k in kinds])
        names = {cp.site: cp.name for cp in reversed(world.checkpoints)}   # first checkpoint of each site
        return {"person": np.full(n, -1), "site": site, "ts": rng.uniform(self.h0, self.h1, n),
                "kind": np.array([ALERT_KINDS.index(kinds[k][0]) for k in pick], dtype=np.int64),
                "severity": np.array([SEVERITIES.index(kinds[k][1]) for k in pick], dtype=np.int64),
                "message": [f"{kinds[k][0].value.replace('_', ' ').capitalize()} at {names.get(int(s), 'site')}"
                            for k, s in zip(pick, site, strict=True)],
                "device": [f"panel-{world.sites[s].code}" for s in site]}
