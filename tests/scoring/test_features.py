"""Features: one definition for training and scoring, independent of batching, loaded with a
bounded number of queries, and discriminating for every planted kind."""
from __future__ import annotations

import threading
from typing import Any

import numpy as np
import psycopg
import pytest
import sqlalchemy as sa

from backend.ml.dataset import build_dataset
from backend.models import FraudPrediction
from backend.scoring.catalog import FEATURE_NAMES, PER_EVENT_KINDS
from backend.scoring.features import compute_features, features_of
from backend.scoring.labels import event_labels
from backend.scoring.loaders import Carried, load_batch
from backend.scoring.service import score_checkins
from tests.scoring.conftest import END, Seeded


def _features(seeded: Seeded, ids: list[int], carried: Carried | None = None) -> dict[int, np.ndarray]:
    with seeded.runtime.read() as session:
        inputs = load_batch(session, seeded.tenant_id, ids, carried)
    assert inputs is not None
    batch = features_of(inputs)
    matrix = np.column_stack([batch.values[n] for n in FEATURE_NAMES])
    return {int(i): matrix[k] for k, i in enumerate(batch.events.id)}


def _same(a: np.ndarray, b: np.ndarray, tolerance: float = 0.0) -> bool:
    return bool(np.allclose(a, b, rtol=0.0, atol=tolerance, equal_nan=True))


def test_training_and_scoring_compute_identical_features(medium: Seeded) -> None:
    """The training dataset, scoring batches of any size and order, and the features stored
    with each prediction agree for every event."""
    ids = medium.event_ids()
    sample = ids[len(ids) // 2: len(ids) // 2 + 300]   # mid-history: full 30-day look-backs
    with medium.runtime.read() as session:
        dataset = build_dataset(session, medium.tenant_id, END, 90)
    matrix = np.column_stack([dataset.values[n] for n in FEATURE_NAMES])
    training = {int(i): matrix[k] for k, i in enumerate(dataset.ids) if int(i) in set(sample)}
    together = _features(medium, sample)
    one_by_one = {i: _features(medium, [i])[i] for i in sample[::25]}
    shuffled: dict[int, np.ndarray] = {}
    for part in np.array_split(np.random.default_rng(1).permutation(sample), 7):
        shuffled.update(_features(medium, [int(i) for i in part]))
    assert set(together) == set(sample) == set(shuffled)
    mismatched = [i for i in sample if not _same(together[i], shuffled[i])]
    mismatched += [i for i in one_by_one if not _same(together[i], one_by_one[i])]
    mismatched += [i for i in training if not _same(together[i], training[i])]
    assert not mismatched, f"features differ by batching/path for events {mismatched[:5]}"

    scored = sample[:100]
    score_checkins(medium.runtime, medium.tenant_id, scored, now=END, coalesce=False)
    with medium.runtime.read() as session:
        stored = dict(session.execute(sa.select(FraudPrediction.attendance_event_id, FraudPrediction.features)
                                      .where(FraudPrediction.attendance_event_id.in_(scored))).all())
    for i in scored:
        row = np.array([np.nan if value is None else value for value in stored[i]])
        assert _same(row, together[i]), f"stored features of event {i} differ"


def test_parts_carrying_what_earlier_parts_read_compute_the_same_features(medium: Seeded) -> None:
    """A call's parts share what they read (``Carried``): each reads only the persons and the
    time the earlier ones did not, and a part older than what is carried reads afresh. Every
    event's features are those of its part loaded alone."""
    ids = medium.event_ids()
    span = sorted(ids[len(ids) // 2: len(ids) // 2 + 1500])     # parts of a few hours each, in time order
    parts = [[int(i) for i in part] for part in np.array_split(np.array(span), 6)]
    shuffled = [[int(i) for i in part] for part in np.array_split(np.random.default_rng(2).permutation(span), 2)]
    carried = Carried()
    mismatched = []
    for part in [*parts, parts[1], *shuffled]:
        alone, in_call = _features(medium, part), _features(medium, part, carried)
        mismatched += [i for i in part if not _same(alone[i], in_call[i])]
    assert not mismatched, f"{len(mismatched)} events' features depend on what earlier parts read"


def test_a_batch_costs_the_same_queries_whatever_its_size(medium: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted at the driver: the packed reads go to a binary psycopg cursor, past SQLAlchemy."""
    ids = medium.event_ids()
    statements: list[object] = []
    execute = psycopg.Cursor.execute

    this_thread = threading.get_ident()

    def counting(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == this_thread:   # not the live hub's or other tests' background threads
            statements.append(query)
        return execute(self, query, *args, **kwargs)

    counts = []
    with medium.runtime.read() as session:
        session.connection()   # checked out first: a new pool connection's setup queries are not the batch's
        monkeypatch.setattr(psycopg.Cursor, "execute", counting)
        for size in (5, 50, 1500):
            statements.clear()
            assert compute_features(session, medium.tenant_id, ids[1000:1000 + size]) is not None
            counts.append(len(statements))
    # The same ~10 set-based reads for 5 events as for 1500 (a per-event query would make
    # thousands); one more or less is allowed: a read may be skipped when its input is empty.
    assert 8 <= min(counts) and max(counts) <= 12 and max(counts) - min(counts) <= 1, counts


@pytest.mark.parametrize("kind, feature, direction", [
    ("buddy_punching", "shared_device_minutes", "low"),
    ("gps_spoofing", "velocity_kmh", "high"),
    ("off_roster", "off_roster_minutes", "high"),
    ("geofence_violation", "geofence_distance_meters", "high"),
    ("check_in_and_leave", "at_work_share", "low"),
])
def test_each_planted_kind_moves_its_feature(medium: Seeded, kind: str, feature: str, direction: str) -> None:
    """The signal each planted pattern leaves is visible in its feature (medians far apart)."""
    with medium.runtime.read() as session:
        labels = event_labels(session, medium.tenant_id)
    cases = [i for i, k in labels.positives.items() if k == kind]
    honest = [i for i in medium.event_ids()[::10] if i not in labels.positives and i not in labels.companions]
    values = _features(medium, cases + honest)
    column = FEATURE_NAMES.index(feature)
    planted = np.array([values[i][column] for i in cases])
    normal = np.array([values[i][column] for i in honest])
    assert kind in PER_EVENT_KINDS and len(planted) >= 5
    if direction == "high":
        assert np.nanmedian(planted) > 5 * max(np.nanpercentile(normal, 99), 1.0)
    else:
        assert np.nanmedian(np.nan_to_num(planted, nan=1e6)) < 0.5 * np.nanmedian(np.nan_to_num(normal, nan=1e6))
