"""Idempotency under real concurrency: the same batch posted at once from several clients
stores each event exactly once (the unique constraint decides, not a read-then-write)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from rq import Queue
from werkzeug.serving import make_server

from backend.ingest.results import BatchResult, ItemStatus
from backend.ingest.service import ingest_events
from backend.models import AttendanceEvent
from backend.queues import QueueName
from backend.runtime import Runtime
from tests.factories import World, make_world
from tests.integration.ingest_data import bearer, mixed_batch, stored_counts, total_stored

T = TypeVar("T")
CLIENTS = 4


def all_at_once(task: Callable[[int], T], n: int = CLIENTS) -> list[T]:
    """Run ``task(i)`` for i in 0..n-1 on ``n`` threads released together by a barrier."""
    barrier = threading.Barrier(n)

    def run(i: int) -> T:
        barrier.wait()
        return task(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture(scope="module")
def live_url(app: Flask) -> Iterator[str]:
    """The app behind a real threaded HTTP server on loopback (one thread per connection)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def test_the_same_1000_event_batch_posted_from_4_threads_at_once_is_stored_once(
        live_url: str, world: World, pg_runtime: Runtime) -> None:
    batch = mixed_batch(1000)
    # Half the clients send the same events in reverse order: a retry need not keep the order,
    # and opposite lock orders are how concurrent inserts deadlock.
    orders = [batch, batch[::-1]]

    def post(i: int) -> dict[str, Any]:
        response = requests.post(f"{live_url}/api/v1/events", json=orders[i % 2],
                                 headers=bearer(world.api_token), timeout=60)
        assert response.status_code == 200, response.text[:300]
        return response.json()

    bodies = all_at_once(post)
    replay = post(0)

    # Each event was accepted by exactly one of the concurrent requests, the others saw a duplicate.
    statuses: dict[str, list[str]] = {}
    for body in bodies:
        for result in body["results"]:
            statuses.setdefault(result["id"], []).append(result["status"])
    assert len(statuses) == 1000
    assert all(sorted(s) == ["accepted"] + ["duplicate"] * (CLIENTS - 1) for s in statuses.values())
    assert sum(body["accepted"] for body in bodies) == 1000
    assert replay["duplicate"] == 1000
    assert total_stored(pg_runtime, world.tenant_id) == 1000
    assert stored_counts(pg_runtime, world.tenant_id)["attendance_events"] == 250
    # Scoring jobs (one per request that stored check-ins) cover every stored check-in exactly once.
    queue = Queue(QueueName.SCORING.value, connection=pg_runtime.redis)
    job_ids = [event_id for job in queue.get_jobs() if job.args[0] == world.tenant_id for event_id in job.args[1]]
    with pg_runtime.transaction() as session:
        stored_ids = session.scalars(sa.select(AttendanceEvent.id)
                                     .where(AttendanceEvent.tenant_id == world.tenant_id)).all()
    assert sorted(job_ids) == sorted(stored_ids)


def test_the_service_is_idempotent_under_concurrency_on_both_databases(any_runtime: Runtime) -> None:
    world = make_world(any_runtime)
    batch = mixed_batch(1000)

    results: list[BatchResult] = all_at_once(lambda i: ingest_events(any_runtime, world.tenant_id,
                                                                        batch if i % 2 else batch[::-1]))
    replay = ingest_events(any_runtime, world.tenant_id, batch)

    assert sum(result.count(ItemStatus.ACCEPTED) for result in results) == 1000
    assert sum(result.count(ItemStatus.DUPLICATE) for result in results) == 3000
    assert replay.count(ItemStatus.DUPLICATE) == 1000
    assert total_stored(any_runtime, world.tenant_id) == 1000
