"""Vectorised building blocks of the features: per-entity time keys, windows as index ranges,
(event, row) pairs of those windows, grouped reductions and site-local clocks.

The pattern: sort an input by (entity, time) once; each event's window is a contiguous index
range found by binary search; the ranges become flat (event, row) pairs; per-event results are
grouped reductions over the pairs. No Python loop per event."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

log = logging.getLogger(__name__)

_TIME_BITS = 42   # milliseconds since 1970 fit in 42 bits until 2109


class TimeIndex:
    """Rows of one input sorted by (entity, time), searchable by (entity, time) windows."""

    def __init__(self, entity: np.ndarray, t: np.ndarray, vocabulary: np.ndarray) -> None:
        self.vocabulary = vocabulary
        keys = _keys(_dense(vocabulary, entity), t)
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]

    def window(self, entity: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index ranges [lo, hi) (positions in sorted order) of rows with ``start <= t < end``."""
        dense = _dense(self.vocabulary, entity)
        lo = np.searchsorted(self.keys, _keys(dense, start), side="left")
        hi = np.searchsorted(self.keys, _keys(dense, end), side="left")
        return lo, np.maximum(hi, lo)

    def pairs(self, entity: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(event index, row index in the input's own order) for every row in each event's window."""
        lo, hi = self.window(entity, start, end)
        owner, position = expand(lo, hi)
        return owner, self.order[position]


def vocabulary(*ids: np.ndarray) -> np.ndarray:
    return np.unique(np.concatenate([np.asarray(i, dtype=np.int64) for i in ids]))


def _dense(vocabulary: np.ndarray, ids: np.ndarray) -> np.ndarray:
    return np.searchsorted(vocabulary, np.asarray(ids, dtype=np.int64)).astype(np.int64)


def _keys(dense: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (dense << _TIME_BITS) + np.round(np.asarray(t, dtype=np.float64) * 1000.0).astype(np.int64)


def expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten ranges [lo_i, hi_i) into (i, position) pairs, grouped by i in order."""
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(lo)), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(total) - np.repeat(starts - lo, counts)
    return owner, position


def group_count(owner: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(owner, weights=weights, minlength=n).astype(np.float64)


def group_max(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-group maximum; NaN for empty groups."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, owner, values)
    out[np.isneginf(out)] = np.nan
    return out


def group_argmax(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per group, the pair index holding the largest value (ties: the later pair); -1 if empty."""
    out = np.full(n, -1, dtype=np.int64)
    if not len(owner):
        return out
    order = np.lexsort((values, owner))
    last = np.flatnonzero(np.r_[owner[order][1:] != owner[order][:-1], True])
    out[owner[order][last]] = order[last]
    return out


def local_clock(t: np.ndarray, timezones: Sequence[str] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Site-local minute of day (0-1439), weekday (0 = Monday) and UTC offset (s) of instants.

    Offsets are looked up per zone and UTC hour (time zones change offset on whole UTC hours),
    cached: a batch costs a few dictionary lookups, not a tz conversion per row."""
    t = np.asarray(t, dtype=np.float64)
    offset = np.zeros(len(t), dtype=np.float64)
    zones = np.asarray(timezones, dtype=object)
    hours = np.floor(t / 3600.0).astype(np.int64)
    for zone in set(zones.tolist()):
        mask = zones == zone
        unique, inverse = np.unique(hours[mask], return_inverse=True)
        offset[mask] = np.array([_utc_offset(zone, int(h)) for h in unique.tolist()])[inverse]
    local = t + offset
    minute = (np.floor(local / 60.0).astype(np.int64)) % 1440
    weekday = (np.floor(local / 86_400.0).astype(np.int64) + 3) % 7   # 1970-01-01 was a Thursday
    return minute, weekday, offset


@lru_cache(maxsize=200_000)
def _utc_offset(zone: str, hour: int) -> float:
    try:
        tz = _zone(zone)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r: treated as UTC", zone)
        return 0.0
    offset = datetime.fromtimestamp(hour * 3600, tz).utcoffset()
    return offset.total_seconds() if offset else 0.0


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
