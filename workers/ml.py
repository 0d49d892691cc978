"""Model training jobs (queue ``ml``) and the daily retraining check (cron)."""
from __future__ import annotations

import logging
from typing import Any

from backend.ml.jobs import enqueue_training
from backend.ml.service import tenants_due_for_training
from backend.ml.service import train_model as train_model_service
from backend.models import utcnow
from backend.runtime import get_runtime

log = logging.getLogger(__name__)


def train_model(tenant_id: int, trigger: str = "manual") -> dict[str, Any]:
    outcome = train_model_service(get_runtime(), tenant_id, trigger=trigger)
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
    for tenant_id in due:
        enqueue_training(runtime, tenant_id, trigger="weekly")
    return due
