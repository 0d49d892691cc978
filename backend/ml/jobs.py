"""Queueing training (the CLI trains in-process; the UI's retrain button and the daily cron
queue a job for an ``ml`` worker). Enqueued by dotted path: backend never imports workers.

One queued or running training per tenant (``progress.claim``): a second request while one
runs gets None and queues nothing."""
from __future__ import annotations

from backend.enums import TrainingStage
from backend.ml.progress import Progress, TrainingRun, claim, new_run, release
from backend.queues import QueueName
from backend.runtime import Runtime

# train_model(tenant_id: int, trigger: str, run: str | None): run is TrainingRun.as_json()
TRAIN_MODEL_JOB = "workers.ml.train_model"
TRAIN_TIMEOUT_S = 1800
# The run's slot outlives the job's timeout a little: a job killed by RQ's timeout still frees it.
RUN_TTL_S = TRAIN_TIMEOUT_S + 120


def enqueue_training(runtime: Runtime, tenant_id: int, trigger: str = "manual", by: str = "system"
                     ) -> TrainingRun | None:
    """Queue a training run and publish its ``queued`` stage; None when the tenant already
    has one queued or running."""
    run = claim(runtime, new_run(tenant_id, trigger, by), RUN_TTL_S)
    if run is None:
        return None
    progress = Progress(runtime, run)
    progress.stage(TrainingStage.QUEUED)   # before the job exists: a fast worker's stages come after it
    try:
        runtime.queues[QueueName.ML].enqueue(
            TRAIN_MODEL_JOB, tenant_id, trigger, run.as_json(), job_id=run.job_id, job_timeout=TRAIN_TIMEOUT_S,
            description=f"train the fraud model of tenant {tenant_id} ({trigger})")
    except Exception:
        progress.stage(TrainingStage.FAILED, message="could not queue the training job")
        release(runtime, run)
        raise
    return run
