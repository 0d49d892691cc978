"""The one definition of every fraud feature (``catalog.FEATURES``), computed for a whole batch
of check-ins/outs at once: loaded by ``loaders.load_batch`` in a bounded number of queries,
then numpy. Training (``backend.ml.dataset``) and scoring (``backend.scoring.service``) both
call ``compute_features``: there is no second implementation to drift.

Every window is relative to the event itself and only looks back (``t' < t``), so a feature
never depends on the batch an event was scored in, nor on what arrived after it."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from backend.scoring.arrays import TimeIndex, expand, group_argmax, group_count, group_max, local_clock, vocabulary
from backend.scoring.catalog import FEATURE_NAMES
from backend.scoring.geo import distance_m
from backend.scoring.heuristic import heuristic_scores
from backend.scoring.loaders import (DAY, DEVICE_LOOKBACK_S, DUTY_MAX_S, HISTORY_S, HOUR, BatchInputs, Events,
                                     load_batch)

MINUTE = 60.0
VELOCITY_LOOKBACK_S = 2 * HOUR
VELOCITY_MIN_GAP_S = 120.0        # GPS noise over shorter gaps would look like speed
FREQUENCY_LOOKBACK_S = HOUR       # check-ins: fixes in the hour before
ON_SITE_TOLERANCE_M = 100.0       # a fix this far outside the geofence still counts as on site
CASE_MATURITY_S = 12 * HOUR       # a case counts in a person's history once it is this old
OFF_ROSTER_GRACE_MIN = 60.0       # early birds and overtime are not off the roster
OFF_ROSTER_CAP_MIN = 1440.0
TIME_OF_DAY_TOLERANCE_MIN = 90
VIOLATION_OUTSIDE_M = 100.0
VIOLATION_BIOMETRIC = 0.6
MAX_CONSECUTIVE = 10


@dataclass
class FeatureBatch:
    """Features of a batch (rows in ``events`` order) plus the context the reasons cite."""
    events: Events
    values: dict[str, np.ndarray]                 # feature name -> float column (NaN = missing)
    context: dict[str, np.ndarray] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)   # person id -> name, for every person it cites

    def __len__(self) -> int:
        return len(self.events)

    def matrix(self, names: tuple[str, ...] = FEATURE_NAMES, dtype: type[np.floating] = np.float32) -> np.ndarray:
        """Rows x features (float32: what XGBoost reads), columns in ``names`` order."""
        return np.column_stack([self.values[n] for n in names]).astype(dtype, copy=False) if len(self) else \
            np.zeros((0, len(names)), dtype=dtype)

    def rows(self, indices: np.ndarray) -> list[dict[str, float | None]]:
        """These events' features by name, rounded (NaN -> None), for the reasons' sentences.
        Built for all of them at once: a dict per row built value by value cost more than the
        row's whole scoring."""
        values = self.matrix(dtype=np.float64)[indices]
        rounded = np.round(values, 4).astype(object)
        rounded[np.isnan(values)] = None
        return [dict(zip(FEATURE_NAMES, row)) for row in rounded.tolist()]


def compute_features(session: Session, tenant_id: int, ids: list[int]) -> FeatureBatch | None:
    """Features of the tenant's attendance events ``ids`` (unknown ids are skipped); None when
    none is found."""
    inputs = load_batch(session, tenant_id, ids)
    return None if inputs is None else features_of(inputs)


def features_of(inputs: BatchInputs) -> FeatureBatch:
    e = inputs.events
    values: dict[str, np.ndarray] = {
        "biometric_quality_score": e.biometric, "gps_accuracy": e.accuracy, "phone_signal_strength": e.signal,
        "battery_level": e.battery, "is_check_out": e.is_out, "mock_location": e.mock,
        "geofence_distance_meters": np.maximum(distance_m(e.site_lat, e.site_lon, e.lat, e.lon) - e.site_radius, 0.0),
    }
    context: dict[str, np.ndarray] = {"device_owner": inputs.device_owner}
    history = TimeIndex(inputs.history["person"], inputs.history["t"], vocabulary(inputs.history["person"], e.person))
    duty_start = _duty_start(inputs, history)
    context["duty_minutes"] = (e.t - duty_start) / MINUTE
    _device_features(inputs, values, context)
    _history_features(inputs, history, values, context)
    pings = TimeIndex(inputs.pings["person"], inputs.pings["t"], vocabulary(inputs.pings["person"], e.person))
    _velocity(inputs, history, pings, values, context)
    _ping_features(inputs, pings, duty_start, values)
    values["tour_completion_rate"] = _tour_completion(inputs, duty_start)
    values["off_roster_minutes"] = _off_roster_minutes(inputs)
    _cases(inputs, history, values, context)
    values["rule_score"] = heuristic_scores(values, context).score
    missing = set(FEATURE_NAMES) - set(values)
    assert not missing, f"features not computed: {missing}"
    return FeatureBatch(events=e, values={n: np.asarray(values[n], dtype=np.float64) for n in FEATURE_NAMES},
                        context=context, names=inputs.names)


def _duty_start(inputs: BatchInputs, history: TimeIndex) -> np.ndarray:
    """A check-out's duty began at the person's latest check-in at the same site in the 16 h
    before; NaN for check-ins and for check-outs without one."""
    e, h = inputs.events, inputs.history
    owner, row = history.pairs(e.person, e.t - DUTY_MAX_S, e.t)
    match = (h["is_out"][row] == 0) & (h["site"][row] == e.site[owner]) & (e.is_out[owner] == 1)
    return group_max(owner[match], h["t"][row][match], len(e))


def _device_features(inputs: BatchInputs, values: dict[str, np.ndarray], context: dict[str, np.ndarray]) -> None:
    """Another person's punch from the same phone in the 12 h before (the latest one)."""
    e, d = inputs.events, inputs.devices
    n = len(e)
    values["foreign_device"] = e.foreign
    minutes = np.full(n, np.nan)
    other = np.full(n, -1, dtype=np.int64)
    known = np.flatnonzero(e.device >= 0)
    if len(known):
        index = TimeIndex(d["device"], d["t"], vocabulary(d["device"]))
        owner, row = index.pairs(e.device[known], e.t[known] - DEVICE_LOOKBACK_S, e.t[known])
        owner = known[owner]
        keep = d["person"][row] != e.person[owner]
        owner, row = owner[keep], row[keep]
        best = group_argmax(owner, d["t"][row], n)
        hit = best >= 0
        minutes[hit] = (e.t[hit] - d["t"][row[best[hit]]]) / MINUTE
        other[hit] = d["person"][row[best[hit]]]
    values["shared_device_minutes"] = minutes
    context["shared_device_person"] = other


def _history_features(inputs: BatchInputs, history: TimeIndex, values: dict[str, np.ndarray],
                      context: dict[str, np.ndarray]) -> None:
    """Time-of-day and weekday habits, and rule violations in a row, from the person's own
    punches of the 30 days before."""
    e, h = inputs.events, inputs.history
    n = len(e)
    minute, weekday, _ = local_clock(e.t, e.site_tz)
    h_minute, h_weekday, _ = local_clock(h["t"], inputs.sites.tz[inputs.sites.index(h["site"])])
    context["local_minute"], context["weekday"] = minute, weekday
    owner, row = history.pairs(e.person, e.t - HISTORY_S, e.t)
    same_kind = h["is_out"][row] == e.is_out[owner]
    owner, row = owner[same_kind], row[same_kind]
    gap = np.abs(h_minute[row] - minute[owner])
    near = np.minimum(gap, 1440 - gap) <= TIME_OF_DAY_TOLERANCE_MIN
    total = group_count(owner, n)
    values["time_of_day_anomaly_score"] = 1.0 - (group_count(owner, n, near.astype(float)) + 1.0) / (total + 2.0)
    share = (group_count(owner, n, (h_weekday[row] == weekday[owner]).astype(float)) + 1.0 / 7.0) / (total + 1.0)
    values["day_of_week_pattern_score"] = np.clip(1.0 - 7.0 * share, 0.0, 1.0)
    values["consecutive_violations"] = _consecutive_violations(inputs, history)


def _consecutive_violations(inputs: BatchInputs, history: TimeIndex) -> np.ndarray:
    e, h, sites = inputs.events, inputs.history, inputs.sites
    at = sites.index(h["site"])
    outside = distance_m(sites.lat[at], sites.lon[at], h["lat"], h["lon"]) - sites.radius[at]
    violation = ((h["mock"] > 0) | (h["foreign"] > 0) | (outside > VIOLATION_OUTSIDE_M)
                 | (np.nan_to_num(h["biometric"], nan=1.0) < VIOLATION_BIOMETRIC))[history.order]
    position = np.arange(len(violation))
    person_of = history.keys >> 42
    first_of_person = np.r_[True, person_of[1:] != person_of[:-1]] if len(violation) else np.zeros(0, bool)
    # Per sorted row: the last position (same person) that was not a violation, else the row before
    # the person's first one.
    last_ok = np.maximum.accumulate(np.where(~violation, position, np.where(first_of_person, position - 1, -1))) \
        if len(violation) else np.zeros(0, dtype=np.int64)
    lo, hi = history.window(e.person, e.t - HISTORY_S, e.t)
    count = np.zeros(len(e))
    has = hi > lo
    before = hi[has] - 1
    count[has] = before - np.maximum(last_ok[before], lo[has] - 1)
    return np.minimum(count, MAX_CONSECUTIVE)


def _velocity(inputs: BatchInputs, history: TimeIndex, pings: TimeIndex, values: dict[str, np.ndarray],
              context: dict[str, np.ndarray]) -> None:
    """The fastest travel any of the person's fixes (pings and punches) of the 2 h before
    implies to this punch's position: a teleport gives a spoofed location away."""
    e, p, h = inputs.events, inputs.pings, inputs.history
    n = len(e)
    po, pr = pings.pairs(e.person, e.t - VELOCITY_LOOKBACK_S, e.t)
    ho, hr = history.pairs(e.person, e.t - VELOCITY_LOOKBACK_S, e.t)
    owner = np.concatenate([po, ho])
    lat = np.concatenate([p["lat"][pr], h["lat"][hr]])
    lon = np.concatenate([p["lon"][pr], h["lon"][hr]])
    t = np.concatenate([p["t"][pr], h["t"][hr]])
    metres = distance_m(e.lat[owner], e.lon[owner], lat, lon)
    gap = np.maximum(e.t[owner] - t, VELOCITY_MIN_GAP_S)
    kmh = metres / gap * 3.6
    best = group_argmax(owner, kmh, n)
    hit = best >= 0
    velocity, km, minutes = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    velocity[hit] = kmh[best[hit]]
    km[hit] = metres[best[hit]] / 1000.0
    minutes[hit] = (e.t[hit] - t[best[hit]]) / MINUTE
    values["velocity_kmh"] = velocity
    context["velocity_km"], context["velocity_minutes"] = km, minutes


def _ping_features(inputs: BatchInputs, pings: TimeIndex, duty_start: np.ndarray,
                   values: dict[str, np.ndarray]) -> None:
    """Check-outs: where the person's fixes were during the duty. Location update frequency:
    per hour during the duty (check-outs) or in the hour before (check-ins)."""
    e, p = inputs.events, inputs.pings
    n = len(e)
    on_duty = ~np.isnan(duty_start)
    start = np.where(on_duty, duty_start, e.t - FREQUENCY_LOOKBACK_S)
    lo, hi = pings.window(e.person, start, e.t)
    hours = np.where(on_duty, np.maximum((e.t - start) / HOUR, 0.25), FREQUENCY_LOOKBACK_S / HOUR)
    values["location_update_frequency"] = (hi - lo) / hours
    duty = np.flatnonzero(on_duty)
    owner, position = expand(lo[duty], hi[duty])
    row = pings.order[position]
    owner = duty[owner]
    outside = distance_m(e.site_lat[owner], e.site_lon[owner], p["lat"][row], p["lon"][row]) - e.site_radius[owner]
    fixes = group_count(owner, n)
    on_site = group_count(owner, n, (outside <= ON_SITE_TOLERANCE_M).astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        values["at_work_share"] = np.where(fixes > 0, on_site / fixes, np.nan)
    values["duty_max_distance_meters"] = np.maximum(group_max(owner, outside, n), 0.0)


def _tour_completion(inputs: BatchInputs, duty_start: np.ndarray) -> np.ndarray:
    """Check-outs: tour scans at the site during the duty over what its tours expect then: for
    each tour, the duty's site-local minutes inside the tour's hours divided by its interval,
    times its checkpoints."""
    e, s = inputs.events, inputs.scans
    n = len(e)
    rate = np.full(n, np.nan)
    duty = np.flatnonzero(~np.isnan(duty_start) & np.isin(e.site, list(inputs.tours)))
    if not len(duty):
        return rate
    scans = TimeIndex(s["site"], s["t"], vocabulary(s["site"], e.site))
    lo, hi = scans.window(e.site[duty], duty_start[duty], e.t[duty])
    zones = e.site_tz[duty]
    begin = _local_minutes(duty_start[duty], zones)
    finish = _local_minutes(e.t[duty], zones)
    expected = np.zeros(len(duty))
    sites = e.site[duty]
    for site in np.unique(sites).tolist():    # per site (tens), not per event
        at = sites == site
        for interval, checkpoints, active_from, active_to in inputs.tours[site]:
            start, end = _minutes(active_from), _minutes(active_to)
            active = _active_minutes(finish[at], start, end) - _active_minutes(begin[at], start, end)
            expected[at] += active / interval * checkpoints
    with np.errstate(invalid="ignore", divide="ignore"):
        rate[duty] = np.where(expected >= 1.0, np.minimum((hi - lo) / expected, 1.0), np.nan)
    return rate


def _local_minutes(t: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """Site-local wall-clock minutes since 1970."""
    _, _, offset = local_clock(t, zones)
    return (t + offset) / MINUTE


def _active_minutes(local_minutes: np.ndarray, start: int, end: int) -> np.ndarray:
    """Minutes inside daily hours [start, end) from 1970 to the given local instants (the
    difference of two is the active time between them); end <= start runs past midnight."""
    days, minute = np.divmod(local_minutes, 1440.0)
    if end > start:
        return days * (end - start) + np.clip(minute, start, end) - start
    return days * (1440 - start + end) + np.minimum(minute, end) + np.maximum(minute - start, 0.0)


def _minutes(hhmm: str) -> int:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return hours * 60 + minutes


def _off_roster_minutes(inputs: BatchInputs) -> np.ndarray:
    e, s = inputs.events, inputs.shifts
    n = len(e)
    shifts = TimeIndex(s["person"], s["start"], vocabulary(s["person"], e.person))
    # Shifts starting up to two days before (a long shift still running) or a day after.
    owner, row = shifts.pairs(e.person, e.t - 2 * DAY, e.t + DAY)
    gap = np.maximum.reduce([s["start"][row] - e.t[owner], e.t[owner] - s["end"][row], np.zeros(len(row))]) / MINUTE
    nearest = np.full(n, np.inf)
    np.minimum.at(nearest, owner, gap)
    return np.maximum(np.minimum(nearest, OFF_ROSTER_CAP_MIN) - OFF_ROSTER_GRACE_MIN, 0.0)


def _cases(inputs: BatchInputs, history: TimeIndex, values: dict[str, np.ndarray],
           context: dict[str, np.ndarray]) -> None:
    """Confirmed cases of the person known 12 h+ before (so never the punch's own duty), per
    check-in of the person in the same 30 days."""
    e, c, h = inputs.events, inputs.cases, inputs.history
    cases = TimeIndex(c["person"], c["known"], vocabulary(c["person"], e.person))
    lo, hi = cases.window(e.person, e.t - HISTORY_S, e.t - CASE_MATURITY_S)
    count = (hi - lo).astype(np.float64)
    check_ins = np.r_[0.0, np.cumsum((h["is_out"] == 0)[history.order].astype(np.float64))]
    lo, hi = history.window(e.person, e.t - HISTORY_S, e.t)
    values["historical_fraud_rate"] = count / np.maximum(check_ins[hi] - check_ins[lo], 1.0)
    context["case_count"] = count
