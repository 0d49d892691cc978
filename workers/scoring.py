"""Scoring jobs (queue ``scoring``) and the unscored sweeper (cron, queue ``default``)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from backend.runtime import get_runtime
from backend.scoring.service import score_checkins as score_checkins_service
from backend.scoring.sweep import enqueue_unscored


def score_checkins(tenant_id: int, attendance_event_ids: list[int]) -> dict[str, Any]:
    """Score one batch of check-ins/outs (enqueued by ingestion and the sweeper). Idempotent:
    a retry, or a second worker on the same ids, writes nothing twice."""
    return asdict(score_checkins_service(get_runtime(), tenant_id, attendance_event_ids))


def sweep_unscored() -> int:
    """Cron, every minute: re-queue check-ins left unscored (Redis down at ingest, a worker
    killed mid-batch). Returns how many were queued."""
    return enqueue_unscored(get_runtime())
