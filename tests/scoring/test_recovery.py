"""A scoring worker killed in the middle of a batch: nothing half-written, and the sweeper
gets the batch scored, once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from rq import Queue, SimpleWorker

import workers.scoring

from backend.config import PROJECT_ROOT
from backend.models import FraudPrediction, UnscoredAttendance
from backend.queues import SCORE_CHECKINS_JOB, QueueName
from backend.runtime import Runtime
from backend.scoring.sweep import enqueue_unscored
from tests.scoring.conftest import Seeded


def _worker_env(runtime: Runtime) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": runtime.settings.database_url or "",
            "REDIS_URL": runtime.settings.redis_url or "", "SECRET_KEY": "test-secret-key",
            "NOC_VAR_DIR": str(runtime.settings.var_dir), "PYTHONPATH": str(PROJECT_ROOT)}


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _predictions(seeded: Seeded) -> int:
    with seeded.runtime.read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(FraudPrediction)
                              .where(FraudPrediction.tenant_id == seeded.tenant_id))


def test_a_batch_whose_worker_was_killed_is_scored_by_the_sweeper(small: Seeded,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = small.runtime
    queue: Queue = runtime.queues[QueueName.SCORING]
    queue.empty()
    ids = small.event_ids()
    # A row lock the worker's write transaction has to wait for (taking the batch off the
    # queue, after writing its predictions): it is then provably stuck half-way through the
    # batch (predictions written, nothing committed) when it is killed.
    blocker = runtime.engine.connect()
    transaction = blocker.begin()
    blocker.execute(sa.select(UnscoredAttendance.attendance_event_id)
                    .where(UnscoredAttendance.attendance_event_id == ids[-1]).with_for_update())
    worker = subprocess.Popen([sys.executable, "-m", "workers.worker", QueueName.SCORING.value],
                              cwd=PROJECT_ROOT, env=_worker_env(runtime), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        job = queue.enqueue(SCORE_CHECKINS_JOB, small.tenant_id, ids)

        def waiting_on_the_lock() -> bool:
            # A connection of its own: pg_stat_activity is a snapshot per transaction.
            with runtime.engine.connect() as probe:
                return bool(probe.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar())

        _wait(waiting_on_the_lock, 60, "the worker to block inside its write transaction")
        assert job.get_status(refresh=True).value == "started"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        transaction.rollback()
        blocker.close()
    assert _predictions(small) == 0   # the batch is one transaction: nothing half-written

    assert enqueue_unscored(runtime, older_than_s=0, tenant_id=small.tenant_id) == len(ids)
    monkeypatch.setattr(workers.scoring, "get_runtime", lambda: runtime)   # a worker in this process, on our DB
    SimpleWorker([queue], connection=runtime.redis).work(burst=True)
    assert _predictions(small) == len(ids)
    with runtime.read() as session:
        unscored = session.scalar(sa.select(sa.func.count()).select_from(UnscoredAttendance).where(
            UnscoredAttendance.tenant_id == small.tenant_id))
    assert unscored == 0
    assert enqueue_unscored(runtime, older_than_s=0, tenant_id=small.tenant_id) == 0   # nothing left to sweep
