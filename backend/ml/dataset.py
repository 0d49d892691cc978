"""Training data: every check-in/out of a tenant's recent history with its features (computed
by ``backend.scoring.features``, the scorer's own code) and its label, split by time.

Labels (``backend.scoring.labels``): positive when the demo world planted a per-check-in case
on it or a supervisor confirmed its fraud ticket; negative when a supervisor called it a false
positive, and otherwise (check-ins nobody flagged as fraud are taken as honest, the usual
assumption when labels come from cases). The other punches of a planted case (the check-out
of an off-roster duty, whose check-in carries the label) are left out: neither clearly honest
nor the labelled event.

Split (time-based, never random: the model is judged on days it has not seen, the way it will
be used): the newest ``holdout_fraction`` of the time span is the holdout (the gates); the
newest 20% of the rest is the validation slice (early stopping and the decision threshold);
the oldest part trains."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.models import AttendanceEvent
from backend.scoring.catalog import FEATURE_NAMES
from backend.scoring.features import compute_features
from backend.scoring.labels import event_labels
from backend.scoring.sql import at_epoch

CHUNK = 5000            # events per feature batch (bounded memory, few queries)
VALIDATION_FRACTION = 0.2


@dataclass
class Dataset:
    ids: np.ndarray
    t: np.ndarray                     # event time (epoch s)
    y: np.ndarray                     # 1 = fraud
    kind: np.ndarray                  # fraud kind of positives ("" for negatives)
    values: dict[str, np.ndarray]     # feature columns (FEATURE_NAMES)
    context: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def matrix(self, rows: np.ndarray | None = None, names: tuple[str, ...] = FEATURE_NAMES) -> np.ndarray:
        m = np.column_stack([self.values[n] for n in names]).astype(np.float32)
        return m if rows is None else m[rows]

    def subset(self, rows: np.ndarray) -> Dataset:
        return Dataset(self.ids[rows], self.t[rows], self.y[rows], self.kind[rows],
                       {k: v[rows] for k, v in self.values.items()}, {k: v[rows] for k, v in self.context.items()})


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    validation: np.ndarray
    holdout: np.ndarray
    holdout_start: float


def build_dataset(session: Session, tenant_id: int, now: datetime, days: int) -> Dataset:
    a = AttendanceEvent
    since = (now - timedelta(days=days)).timestamp()
    ids = list(session.scalars(sa.select(a.id).where(a.tenant_id == tenant_id, a.ts >= at_epoch(since),
                                                     a.ts < at_epoch(now.timestamp())).order_by(a.ts, a.id)))
    labels = event_labels(session, tenant_id)
    ids = [i for i in ids if i not in labels.companions or i in labels.positives or i in labels.negatives]
    parts = [batch for lo in range(0, len(ids), CHUNK)
             if (batch := compute_features(session, tenant_id, ids[lo:lo + CHUNK])) is not None]
    if not parts:
        empty = np.zeros(0)
        return Dataset(np.zeros(0, dtype=np.int64), empty, np.zeros(0, dtype=np.int8), np.zeros(0, dtype=object),
                       {n: empty for n in FEATURE_NAMES})
    event_ids = np.concatenate([p.events.id for p in parts])
    kinds = np.array([labels.positives.get(int(i), "") for i in event_ids], dtype=object)
    return Dataset(ids=event_ids, t=np.concatenate([p.events.t for p in parts]),
                   y=(kinds != "").astype(np.int8), kind=kinds,
                   values={n: np.concatenate([p.values[n] for p in parts]) for n in FEATURE_NAMES},
                   context={k: np.concatenate([p.context[k] for p in parts]) for k in parts[0].context})


def time_split(t: np.ndarray, holdout_fraction: float) -> Split:
    if not len(t):
        empty = np.zeros(0, dtype=np.int64)
        return Split(empty, empty, empty, 0.0)
    first, last = float(t.min()), float(t.max())
    holdout_start = last - holdout_fraction * (last - first)
    validation_start = holdout_start - VALIDATION_FRACTION * (holdout_start - first)
    return Split(train=np.flatnonzero(t < validation_start),
                 validation=np.flatnonzero((t >= validation_start) & (t < holdout_start)),
                 holdout=np.flatnonzero(t >= holdout_start), holdout_start=holdout_start)
