"""The audit through RQ: the cron job queues one audit per tenant for the current window and a
real SimpleWorker (burst mode) runs them; the same window queued again finds nothing new."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq import SimpleWorker
from rq.job import Job

import workers.audit
from backend.audit.types import FindingType
from backend.enums import TicketSource
from backend.models import Ticket, Tenant, utcnow
from backend.queues import QueueName
from backend.runtime import Runtime
from tests.audit.builders import add_shift
from tests.audit.conftest import findings
from tests.factories import make_world


def test_cron_queues_an_audit_per_tenant_and_a_worker_runs_it(pg_runtime: Runtime,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers.audit, "get_runtime", lambda: pg_runtime)
    world = make_world(pg_runtime, n_sites=1, n_persons=1)
    # A guard due 80 minutes ago who never came: the current window judges the no-show.
    start = utcnow() - timedelta(minutes=80)
    add_shift(pg_runtime, world.tenant_id, world.site_ids["S1"], world.person_ids["P1"], start,
              start + timedelta(hours=8))
    queue = pg_runtime.queues[QueueName.AUDIT]
    queue.empty()

    job_ids = workers.audit.enqueue_audits()
    with pg_runtime.read() as session:
        tenants = session.scalar(sa.select(sa.func.count()).select_from(Tenant))
    assert len(job_ids) == tenants and len(set(job_ids)) == tenants
    mine = next(j for j in job_ids if j.startswith(f"audit-{world.tenant_id}-"))
    SimpleWorker([queue], connection=pg_runtime.redis).work(burst=True)
    job = Job.fetch(mine, connection=pg_runtime.redis)
    assert job.get_status(refresh=True).value == "finished", job.latest_result()
    result = job.return_value()
    assert result["tenant_id"] == world.tenant_id and result["by_type"] == {FindingType.NO_SHOW.value: 1}
    [no_show] = findings(pg_runtime, world.tenant_id)
    assert no_show.type == FindingType.NO_SHOW.value and no_show.person_id == world.person_ids["P1"]
    with pg_runtime.read() as session:
        [ticket] = session.scalars(sa.select(Ticket).where(Ticket.tenant_id == world.tenant_id))
    assert ticket.source == TicketSource.AUDIT and ticket.type == FindingType.NO_SHOW.value

    # The same window again (a second cron instance, a retry): nothing new.
    queue.enqueue(workers.audit.AUDIT_TENANT_JOB, world.tenant_id, result["window_end"], job_id="audit-again")
    SimpleWorker([queue], connection=pg_runtime.redis).work(burst=True)
    again = Job.fetch("audit-again", connection=pg_runtime.redis).return_value()
    assert (again["findings"], again["incidents"], again["tickets"]) == (0, 0, 0)


def test_the_cron_expression_follows_the_interval_setting() -> None:
    from backend.audit import AuditRules

    assert AuditRules().cron() == "*/5 * * * *"
    assert AuditRules(interval_s=900).cron() == "*/15 * * * *"
    assert AuditRules(interval_s=3600, signal_window_s=3600).cron() == "0 * * * *"
    with pytest.raises(ValueError, match="NOC_AUDIT_INTERVAL_MINUTES"):
        AuditRules(interval_s=420)
