"""Site audit jobs (queue ``audit``) and their cron entries.

``enqueue_audits`` runs every ``NOC_AUDIT_INTERVAL_MINUTES`` (cron): one ``audit_tenant``
job per tenant for the window ending at the current interval boundary. The job id names
tenant and window, so a window is queued once however often the cron fires; a re-run is
harmless anyway (audits are idempotent). ``tune_stale_baselines`` runs daily and tunes each
tenant whose baselines were last tuned a week ago or more (rq cron has no catch-up)."""
from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from rq import Retry

from backend.audit import AuditRules, run_audit
from backend.audit.tuning import tune_stale_tenants
from backend.audit.window import align, iso
from backend.config import get_settings
from backend.models import utcnow
from backend.queues import QueueName
from backend.retention import tenant_ids
from backend.runtime import get_runtime

log = logging.getLogger(__name__)

AUDIT_TENANT_JOB = "workers.audit.audit_tenant"


def audit_tenant(tenant_id: int, window_end_iso: str) -> dict[str, Any]:
    """Audit every site of one tenant for the window ending at ``window_end_iso``."""
    return asdict(run_audit(get_runtime(), tenant_id, datetime.fromisoformat(window_end_iso)))


def enqueue_audits() -> list[str]:
    """Cron: queue this interval's audit of every tenant; returns the job ids."""
    runtime = get_runtime()
    rules = AuditRules.from_settings(runtime.settings)
    end = align(utcnow().timestamp(), rules.interval_s)
    window_end = iso(end)
    with runtime.read() as session:
        tenants = tenant_ids(session)
    queue = runtime.queues[QueueName.AUDIT]
    jobs = []
    for tenant_id in tenants:
        job = queue.enqueue(AUDIT_TENANT_JOB, tenant_id, window_end, job_id=f"audit-{tenant_id}-{int(end)}",
                            retry=Retry(max=2, interval=[10, 60]), result_ttl=3600,
                            # A window still queued after several intervals is stale: the next covers it.
                            ttl=int(4 * rules.interval_s),
                            description=f"audit tenant {tenant_id}, window ending {window_end}")
        jobs.append(job.id)
    return jobs


def tune_stale_baselines() -> list[int]:
    """Cron, daily: tune the baselines of tenants last tuned ``NOC_AUDIT_TUNING_AFTER_DAYS``
    ago or more; returns the tenants tuned."""
    return [result.tenant_id for result in tune_stale_tenants(get_runtime())]


def audit_cron() -> str:
    """The audit cycle's cron expression, from the settings (read, nothing connects)."""
    return AuditRules.from_settings(get_settings()).cron()
