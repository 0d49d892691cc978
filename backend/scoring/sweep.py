"""Finding check-ins nobody scored (Redis was down at ingest, a worker died mid-batch: they
are still in ``unscored_attendance``) and queueing them again, in bounded chunks. Run every
minute by ``rq cron`` (workers/scoring.py) and once by the launcher at start, for the seeded
history."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import redis
import sqlalchemy as sa
from rq import Retry

from backend.models import UnscoredAttendance, utcnow
from backend.queues import SCORE_CHECKINS_JOB, QueueName
from backend.runtime import Runtime

log = logging.getLogger(__name__)


def enqueue_unscored(runtime: Runtime, *, older_than_s: float | None = None, now: datetime | None = None,
                     tenant_id: int | None = None) -> int:
    """Queue scoring jobs (``scoring_sweep_chunk`` ids each, oldest first, at most
    ``scoring_sweep_max_chunks`` per tenant) for check-ins unscored for longer than
    ``older_than_s`` (default: ``scoring_sweep_after_s``). Skipped while the scoring queue
    already holds that many jobs: they are the backlog being worked off, and re-queueing it
    every minute would only duplicate work. ``tenant_id``: that tenant only (default: every
    tenant). Returns the number of check-ins queued."""
    settings = runtime.settings
    queue = runtime.queues[QueueName.SCORING]
    try:
        if queue.count >= settings.scoring_sweep_max_chunks:
            return 0
    except redis.RedisError:
        log.warning("Redis unavailable: sweep skipped", exc_info=True)
        return 0
    cutoff = (now or utcnow()) - timedelta(seconds=settings.scoring_sweep_after_s if older_than_s is None
                                           else older_than_s)
    limit = settings.scoring_sweep_chunk * settings.scoring_sweep_max_chunks
    q = UnscoredAttendance
    with runtime.read() as session:
        # The queue table holds only what is unscored: small once everything is scored.
        tenants = [tenant_id] if tenant_id is not None else list(session.scalars(
            sa.select(q.tenant_id).where(q.received_at < cutoff).distinct()))
        backlog = {tenant: list(session.scalars(
            sa.select(q.attendance_event_id).where(q.tenant_id == tenant, q.received_at < cutoff)
            .order_by(q.received_at, q.attendance_event_id).limit(limit))) for tenant in tenants}
    queued = 0
    for tenant, ids in backlog.items():
        for lo in range(0, len(ids), settings.scoring_sweep_chunk):
            chunk = ids[lo:lo + settings.scoring_sweep_chunk]
            queue.enqueue(SCORE_CHECKINS_JOB, tenant, chunk, retry=Retry(max=2, interval=[10, 60]),
                          description=f"sweep: score {len(chunk)} unscored attendance events of tenant {tenant}")
            queued += len(chunk)
    if queued:
        log.info("sweeper queued %d unscored check-ins of %d tenant(s)", queued, len(backlog))
    return queued
