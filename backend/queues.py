"""RQ queue names and the queues themselves (built once per process by ``backend.runtime``)."""
from __future__ import annotations

from enum import StrEnum

import redis
from rq import Queue


class QueueName(StrEnum):
    SCORING = "scoring"   # fraud scoring of ingested check-ins (batches of ids)
    AUDIT = "audit"       # site audits, correlation, escalation
    ML = "ml"             # retraining, baseline tuning
    DEFAULT = "default"   # housekeeping


# Enqueued by dotted path (the API must not import workers): ``score_checkins(tenant_id: int,
# attendance_event_ids: list[int])`` scores one ingested batch of check-ins/check-outs.
SCORE_CHECKINS_JOB = "workers.scoring.score_checkins"


def create_queues(connection: redis.Redis) -> dict[QueueName, Queue]:
    return {name: Queue(name.value, connection=connection) for name in QueueName}
