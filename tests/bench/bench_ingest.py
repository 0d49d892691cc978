"""Ingestion throughput and latency: batches of 500 events posted over HTTP on loopback to one
web process (gunicorn gthread, the production server, with the repo's gunicorn.conf.py) by a
few concurrent clients; once on PostgreSQL, once on the embedded SQLite.

Figures: ingest_{pg,sqlite}_events_per_s (accepted events / wall time), _p50_ms, _p99_ms
(request latency)."""
from __future__ import annotations

import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from rq import Queue

from backend.queues import QueueName
from backend.runtime import Runtime
from tests.bench.harness import BenchContext, median, percentile
from tests.bench.web_process import web_process
from tests.factories import make_world

BATCH = 500
CLIENTS = 4               # concurrent posting clients (devices/integrations behind a load balancer)
WARMUP_BATCHES = 4
MAX_BATCHES = 100         # at most 50,000 events per database ...
MAX_SECONDS = 10.0        # ... or this long, whichever comes first
SITES, PERSONS = 40, 400


def run(ctx: BenchContext) -> dict[str, float | int | str]:
    figures: dict[str, float | int | str] = {}
    targets = [("pg", False)] if ctx.pg_url else []
    targets.append(("sqlite", True))
    for label, sqlite in targets:
        with ctx.fresh_runtime(f"ingest_{label}", sqlite=sqlite) as runtime:
            figures.update({f"ingest_{label}_{key}": value for key, value in _measure(runtime).items()})
    return figures


def _measure(runtime: Runtime) -> dict[str, float | int]:
    world = make_world(runtime, n_sites=SITES, n_persons=PERSONS)
    rng = random.Random(7)
    bodies = [json.dumps(_batch(rng, n)).encode() for n in range(WARMUP_BATCHES + MAX_BATCHES)]
    with web_process(runtime) as url:
        posters = [_Poster(url, world.api_token) for _ in range(CLIENTS)]
        for i in range(WARMUP_BATCHES):  # connections, caches, first-query planning
            posters[0].post(bodies[i])
        latencies, accepted, elapsed = _load(posters, bodies[WARMUP_BATCHES:])
    Queue(QueueName.SCORING.value, connection=runtime.redis).empty()  # no scoring worker here: tidy up
    return {"events_per_s": round(accepted / elapsed, 1), "p50_ms": round(median(latencies) * 1000, 2),
            "p99_ms": round(percentile(latencies, 99) * 1000, 2), "batches": len(latencies), "events": accepted}


def _load(posters: list[_Poster], bodies: list[bytes]) -> tuple[list[float], int, float]:
    """CLIENTS threads take batches from a shared list until it is empty or time is up."""
    lock = threading.Lock()
    pending = iter(bodies)
    started = time.perf_counter()
    deadline = started + MAX_SECONDS

    def client(poster: _Poster) -> tuple[list[float], int]:
        latencies, accepted = [], 0
        while time.perf_counter() < deadline:
            with lock:
                body = next(pending, None)
            if body is None:
                break
            latency, n = poster.post(body)
            latencies.append(latency)
            accepted += n
        return latencies, accepted

    with ThreadPoolExecutor(len(posters)) as pool:
        results = list(pool.map(client, posters))
    elapsed = time.perf_counter() - started
    return [lat for lats, _ in results for lat in lats], sum(n for _, n in results), elapsed


class _Poster:
    def __init__(self, url: str, token: str) -> None:
        self._url = f"{url}/api/v1/events"
        self._session = requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})

    def post(self, body: bytes) -> tuple[float, int]:
        started = time.perf_counter()
        response = self._session.post(self._url, data=body, timeout=60)
        latency = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:300]}")
        return latency, response.json()["accepted"]


def _batch(rng: random.Random, n: int) -> list[dict[str, Any]]:
    """A realistic mix: pings dominate, then attendance, scans, phone activity, a few alerts."""
    now = datetime.now(UTC)
    events = []
    for i in range(BATCH):
        site = rng.randint(1, SITES)
        common = {"id": f"b{n}-{i}-{uuid.uuid4().hex[:8]}", "person": f"P{rng.randint(1, PERSONS)}",
                  "ts": (now - timedelta(seconds=rng.randint(0, 3600))).isoformat(), "device_id": f"dev-{site}"}
        roll = rng.random()
        if roll < 0.45:
            event = {"type": "location_ping", "site": f"S{site}", "lat": 38.7 + rng.random() / 100,
                     "lon": -9.14, "accuracy_m": 10.0, "speed_mps": 0.5, "battery_pct": 70.0}
        elif roll < 0.75:
            event = {"type": rng.choice(["check_in", "check_out"]), "site": f"S{site}", "lat": 38.7, "lon": -9.14,
                     "gps_accuracy_m": 8.0, "biometric_quality": 0.9, "battery_pct": 80.0, "signal_dbm": -70.0}
        elif roll < 0.88:
            event = {"type": "checkpoint_scan", "checkpoint": f"S{site}-CP{rng.randint(1, 2)}", "method": "nfc"}
        elif roll < 0.98:
            event = {"type": "phone_activity", "site": f"S{site}", "activity": "steps", "value": 100.0}
        else:
            event = {"type": "noc_alert", "site": f"S{site}", "kind": "low_battery", "severity": "low",
                     "message": "battery below 10%"}
        events.append({**common, **event})
    return events


