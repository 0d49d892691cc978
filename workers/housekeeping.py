"""Housekeeping jobs (queue ``default``)."""
from __future__ import annotations

import logging

from backend.retention import prune_event_log, tenant_ids
from backend.runtime import get_runtime

log = logging.getLogger(__name__)


def prune_event_logs() -> int:
    """Cron: drop event log entries past the retention, tenant by tenant (one short
    transaction each, so a large tenant never holds a long lock)."""
    runtime = get_runtime()
    with runtime.transaction() as session:
        ids = tenant_ids(session)
    removed = 0
    for tenant_id in ids:
        with runtime.transaction() as session:
            removed += prune_event_log(session, tenant_id, runtime.settings.event_log_retention_days)
    log.info("pruned %d event log entries", removed)
    return removed
