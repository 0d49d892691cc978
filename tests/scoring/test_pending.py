"""At most one pending scoring job per tenant (``backend.scoring.pending``): requests while a
job is pending queue none, and the job (or a follow-up) still scores every check-in; a job
releases the flag before it reads, so what is committed after that gets a job of its own."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from rq import SimpleWorker

import backend.scoring.service
import workers.scoring
from backend.ingest.results import BatchResult
from backend.ingest.service import ingest_events
from backend.queues import QueueName
from backend.runtime import Runtime
from backend.scoring.pending import pending_key
from backend.scoring.service import score_checkins
from tests.factories import World, make_world
from tests.integration.ingest_data import check_in
from tests.scoring.test_queue import predicted, queued, stored


def tenant_jobs(runtime: Runtime, world: World) -> list[Any]:
    return [job for job in runtime.queues[QueueName.SCORING].get_jobs() if job.args[0] == world.tenant_id]


def run_scoring_worker(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The queued jobs, real RQ jobs by their dotted path, run by a SimpleWorker in this process
    until the queue is empty (follow-up jobs included)."""
    monkeypatch.setattr(workers.scoring, "get_runtime", lambda: runtime)
    queue = runtime.queues[QueueName.SCORING]
    SimpleWorker([queue], connection=runtime.redis).work(burst=True)


def one_check_in_each(runtime: Runtime, world: World, n: int) -> list[BatchResult]:
    """``n`` requests of one check-in each (persons P1-P3 in turn), as phones send them."""
    return [ingest_events(runtime, world.tenant_id, [check_in(person=f"P{i % 3 + 1}")]) for i in range(n)]


@contextmanager
def tuned(runtime: Runtime, **settings: Any) -> Iterator[Runtime]:
    """A runtime on the same database and Redis with ``settings`` changed, its queue emptied."""
    tuned_runtime = Runtime(runtime.settings.model_copy(update=settings))
    try:
        tuned_runtime.queues[QueueName.SCORING].empty()
        yield tuned_runtime
    finally:
        tuned_runtime.queues[QueueName.SCORING].empty()
        tuned_runtime.close()


@pytest.fixture
def empty_queue(any_runtime: Runtime) -> Iterator[Runtime]:
    any_runtime.queues[QueueName.SCORING].empty()
    yield any_runtime
    any_runtime.queues[QueueName.SCORING].empty()


def test_requests_while_a_job_is_pending_queue_none_and_the_job_scores_them_all(
        empty_queue: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = empty_queue
    world = make_world(runtime)

    results = one_check_in_each(runtime, world, 6)

    jobs = tenant_jobs(runtime, world)
    assert len(jobs) == 1
    assert {result.scoring_job_id for result in results} == {jobs[0].id}   # each names the job that scores it
    assert jobs[0].args[1] == results[0].stored_ids["attendance_events"]
    assert 0 < runtime.redis.ttl(pending_key(world.tenant_id)) <= runtime.settings.scoring_pending_ttl_s

    run_scoring_worker(runtime, monkeypatch)

    assert len(stored(runtime, world.tenant_id)) == 6
    assert predicted(runtime, world.tenant_id) == stored(runtime, world.tenant_id)
    assert queued(runtime, world.tenant_id) == set()
    later = one_check_in_each(runtime, world, 1)[0]    # the job released the flag: a new job
    assert [job.id for job in tenant_jobs(runtime, world)] == [later.scoring_job_id] != [jobs[0].id]


def test_concurrent_requests_queue_one_job(pg_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    pg_runtime.queues[QueueName.SCORING].empty()
    world = make_world(pg_runtime)
    barrier = threading.Barrier(8)
    results: list[BatchResult] = []

    def phone(i: int) -> None:
        barrier.wait()
        results.append(ingest_events(pg_runtime, world.tenant_id, [check_in(person=f"P{i % 3 + 1}")]))

    threads = [threading.Thread(target=phone, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    jobs = tenant_jobs(pg_runtime, world)
    assert len(jobs) == 1 and {result.scoring_job_id for result in results} == {jobs[0].id}
    run_scoring_worker(pg_runtime, monkeypatch)
    assert len(predicted(pg_runtime, world.tenant_id)) == 8 and queued(pg_runtime, world.tenant_id) == set()


def test_a_check_in_committed_after_a_job_released_the_flag_gets_a_job_of_its_own(
        empty_queue: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race the flag must survive: a request between a job's release and its read."""
    runtime = empty_queue
    world = make_world(runtime)
    first = one_check_in_each(runtime, world, 1)[0]
    original = backend.scoring.service.pending_ids
    during: list[BatchResult] = []

    def read_after_a_request(*args: Any, **kwargs: Any) -> tuple[list[int], bool]:
        if not during:
            during.extend(one_check_in_each(runtime, world, 1))
        return original(*args, **kwargs)

    monkeypatch.setattr(backend.scoring.service, "pending_ids", read_after_a_request)
    score_checkins(runtime, world.tenant_id, first.stored_ids["attendance_events"])

    assert during[0].scoring_job_id not in (None, first.scoring_job_id)
    assert [job.id for job in tenant_jobs(runtime, world)][-1] == during[0].scoring_job_id
    assert predicted(runtime, world.tenant_id) == stored(runtime, world.tenant_id)   # read by the running job too


@pytest.mark.parametrize(("settings", "requests", "queued_for_s"), [
    pytest.param({"scoring_coalesce_max": 2}, 7, 0.0, id="a job that took its limit queues a follow-up"),
    # The job waits in the queue (a backlog ahead of it) past the coalescing window: it reads
    # from its flag's claim on.
    pytest.param({"scoring_coalesce_s": 0.5}, 3, 1.0, id="a job that waited past the window reads all"),
])
def test_one_pending_job_and_its_follow_ups_score_every_check_in(
        pg_runtime: Runtime, monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any], requests: int,
        queued_for_s: float) -> None:
    with tuned(pg_runtime, **settings) as runtime:
        world = make_world(runtime)
        one_check_in_each(runtime, world, requests)
        assert len(tenant_jobs(runtime, world)) == 1
        time.sleep(queued_for_s)

        run_scoring_worker(runtime, monkeypatch)

        assert len(predicted(runtime, world.tenant_id)) == requests and queued(runtime, world.tenant_id) == set()


def test_without_coalescing_every_request_queues_a_job_of_its_own(
        pg_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    with tuned(pg_runtime, scoring_coalesce_max=0) as runtime:
        world = make_world(runtime)
        results = one_check_in_each(runtime, world, 3)
        assert sorted(job.id for job in tenant_jobs(runtime, world)) == sorted(r.scoring_job_id for r in results)
        assert len({r.scoring_job_id for r in results}) == 3

        run_scoring_worker(runtime, monkeypatch)

        assert len(predicted(runtime, world.tenant_id)) == 3 and queued(runtime, world.tenant_id) == set()
