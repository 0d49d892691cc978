"""Queueing training (the CLI trains in-process; the UI's retrain button and the weekly cron
queue a job for an ``ml`` worker). Enqueued by dotted path: backend never imports workers."""
from __future__ import annotations

from rq.job import Job

from backend.queues import QueueName
from backend.runtime import Runtime

TRAIN_MODEL_JOB = "workers.ml.train_model"   # train_model(tenant_id: int, trigger: str)
TRAIN_TIMEOUT_S = 1800


def enqueue_training(runtime: Runtime, tenant_id: int, trigger: str = "manual") -> Job:
    return runtime.queues[QueueName.ML].enqueue(TRAIN_MODEL_JOB, tenant_id, trigger, job_timeout=TRAIN_TIMEOUT_S,
                                                description=f"train the fraud model of tenant {tenant_id} ({trigger})")
