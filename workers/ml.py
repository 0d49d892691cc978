"""Model training jobs (queue ``ml``) and the daily retraining check (cron)."""
from __future__ import annotations

import logging
from typing import Any

from backend.enums import TrainingStage
from backend.ml.jobs import enqueue_training
from backend.ml.progress import Progress, TrainingRun, release
from backend.ml.service import tenants_due_for_training
from backend.ml.service import train_model as train_model_service
from backend.models import utcnow
from backend.runtime import get_runtime

log = logging.getLogger(__name__)


def train_model(tenant_id: int, trigger: str = "manual", run: str | None = None) -> dict[str, Any]:
    """``run`` (a queued run's JSON, see backend.ml.progress) publishes progress and frees the
    tenant's run slot at the end, whatever happens."""
    runtime = get_runtime()
    queued = TrainingRun.from_json(tenant_id, run) if run is not None else None
    progress = Progress(runtime, queued) if queued is not None else None
    try:
        outcome = train_model_service(runtime, tenant_id, trigger=trigger, progress=progress)
    except Exception:
        if progress is not None:
            progress.stage(TrainingStage.FAILED, message="the training job failed; see the ml worker's log")
        raise
    finally:
        if queued is not None:
            release(runtime, queued)
    log.info("tenant %d: %s", tenant_id, outcome.summary())
    return {"version": outcome.version, "status": outcome.status.value, "activated": outcome.activated,
            "summary": outcome.summary()}


def retrain_stale_models() -> list[int]:
    """Cron, daily: queue a training for every tenant whose last training is older than
    ``ml_retrain_after_days`` (rq cron does not catch up missed runs, so the job checks ages
    instead of relying on a weekly slot). Returns the tenant ids queued."""
    runtime = get_runtime()
    with runtime.read() as session:
        due = tenants_due_for_training(session, runtime.settings, utcnow())
    # A tenant already training (say, an admin's retrain) is skipped: that run is fresh enough.
    return [tenant_id for tenant_id in due if enqueue_training(runtime, tenant_id, trigger="weekly") is not None]
