"""Activity signals: real counts of what sites and people did in a window, for every site (or
person) of a tenant at once.

One statement per call: a UNION ALL of one ``GROUP BY`` branch per metric, each on its
table's (tenant_id, ts) index, optionally split into fixed time buckets (the Sites page's
hourly series, the baseline bootstrap's 5-minute steps). The query count never depends on the
number of sites. Metrics:

- ``check_ins``: check-ins (attendance events of kind check_in);
- ``pings``: location fixes;
- ``movement``: steps the phones counted (sum of ``steps`` phone activity);
- ``phone_activity``: other phone activity (screen, app, motion, calls);
- ``scans``: checkpoint scans.

Values are exact counts (sums for steps), 0 where nothing happened."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.audit.sql import epoch, f8, fetch_arrays, i8
from backend.audit.window import at
from backend.enums import AttendanceKind, PhoneActivityKind
from backend.models import AttendanceEvent, CheckpointScan, LocationPing, PhoneActivity


class Metric(StrEnum):
    CHECK_INS = "check_ins"
    PINGS = "pings"
    MOVEMENT = "movement"
    PHONE_ACTIVITY = "phone_activity"
    SCANS = "scans"


METRICS: tuple[Metric, ...] = tuple(Metric)
METRIC_INDEX: dict[Metric, int] = {m: i for i, m in enumerate(METRICS)}
By = Literal["site", "person"]


def _branches() -> tuple[tuple[Metric, Any, Any, Any], ...]:
    """(metric, model, aggregate, extra condition) per metric."""
    steps = PhoneActivityKind.STEPS
    return (
        (Metric.CHECK_INS, AttendanceEvent, sa.func.count(), AttendanceEvent.kind == AttendanceKind.CHECK_IN),
        (Metric.PINGS, LocationPing, sa.func.count(), None),
        (Metric.MOVEMENT, PhoneActivity, sa.func.coalesce(sa.func.sum(PhoneActivity.value), 0.0),
         PhoneActivity.activity == steps),
        (Metric.PHONE_ACTIVITY, PhoneActivity, sa.func.count(), PhoneActivity.activity != steps),
        (Metric.SCANS, CheckpointScan, sa.func.count(), None),
    )


@dataclass(frozen=True)
class Signals:
    """Long format: one entry per (key, bucket, metric) that had activity."""
    key: np.ndarray       # site or person id
    bucket: np.ndarray    # bucket start (epoch seconds); the window start when unbucketed
    metric: np.ndarray    # index into METRICS
    value: np.ndarray

    def table(self) -> dict[int, dict[Metric, float]]:
        """key -> metric -> value (unbucketed windows); missing metrics are 0."""
        out: dict[int, dict[Metric, float]] = {}
        for key, metric, value in zip(self.key.tolist(), self.metric.tolist(), self.value.tolist(), strict=True):
            out.setdefault(key, dict.fromkeys(METRICS, 0.0))[METRICS[metric]] = value
        return out


def count_signals(session: Session, tenant_id: int, start: float, end: float, *, by: By = "site",
                  bucket_s: int | None = None, keys: Collection[int] | None = None) -> Signals:
    """Activity per site (or person) in [start, end), optionally per ``bucket_s`` buckets
    aligned on the epoch. ``keys`` restricts to some sites/persons (else all of the tenant)."""
    branches = []
    for index, (_metric, model, aggregate, condition) in enumerate(_branches()):
        key = model.site_id if by == "site" else model.person_id
        # Inlined constants: a bound parameter would make GROUP BY and SELECT differ on PostgreSQL.
        bucket = (sa.func.floor(epoch(model.ts) / sa.literal_column(str(int(bucket_s)))) if bucket_s
                  else sa.literal_column("0"))
        query = (sa.select(i8(key).label("key"), i8(bucket).label("bucket"),
                           i8(sa.literal_column(str(index))).label("metric"), f8(aggregate).label("value"))
                 .where(model.tenant_id == tenant_id, model.ts >= at(start), model.ts < at(end),
                        key.is_not(None)))
        if condition is not None:
            query = query.where(condition)
        if keys is not None:
            query = query.where(key.in_(sorted(keys)))
        branches.append(query.group_by(key, bucket) if bucket_s else query.group_by(key))
    union = sa.union_all(*branches).subquery("signals")
    key, bucket, metric, value = fetch_arrays(
        session, sa.select(union.c.key, union.c.bucket, union.c.metric, union.c.value), ["i8", "i8", "i8", "f8"])
    starts = bucket.astype(np.float64) * bucket_s if bucket_s else np.full(len(key), float(start))
    return Signals(key=key, bucket=starts, metric=metric, value=value)
