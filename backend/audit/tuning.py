"""Weekly baseline tuning: each site's false-positive rate per metric, from what supervisors
decided about the tickets its baselines opened, and with it every profile's threshold.

FP rate of (site, metric) = tickets resolved as ``false_positive`` / tickets with a
disposition (``needs_info`` does not count), over the tickets of the last ``tuning_days``
whose findings named that metric (``baseline_metrics`` in the ticket's details and in each
occurrence's history row). No disposed ticket: 0. Only profiles whose rate changed are
written; their threshold is recomputed by the one rule (``baselines.dynamic_threshold``).

rq cron has no catch-up, so the cron job runs daily and tunes each tenant whose last tuning
is older than ``tuning_after_days`` (7). The time of the last success is kept in Redis
(``TUNED_KEY``): losing it only re-runs the tuning, which is idempotent."""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.audit.baselines import dynamic_threshold
from backend.audit.rules import AuditRules, BaselineRules
from backend.enums import Disposition, TicketSource
from backend.models import BaselineProfile, Ticket, TicketHistory, utcnow
from backend.retention import tenant_ids
from backend.runtime import Runtime

log = logging.getLogger(__name__)

TUNED_KEY = "noc:audit:baselines_tuned:{tenant_id}"   # ISO time of the tenant's last tuning


@dataclass(frozen=True)
class TuningResult:
    tenant_id: int
    tickets: int                                   # disposed audit/incident tickets read
    rates: dict[tuple[int, str], float]            # (site, metric) -> FP rate, where any ticket was disposed
    profiles_updated: int


def false_positive_rates(session: Session, tenant_id: int, since: datetime) -> tuple[int, dict[tuple[int, str], float]]:
    t = Ticket
    tickets = session.execute(sa.select(t.id, t.site_id, t.disposition, t.details).where(
        t.tenant_id == tenant_id, t.source.in_([TicketSource.AUDIT, TicketSource.INCIDENT]),
        t.disposition.is_not(None), t.disposition != Disposition.NEEDS_INFO, t.site_id.is_not(None),
        t.updated_at >= since)).all()
    if not tickets:
        return 0, {}
    metrics: dict[int, set[str]] = {row.id: set((row.details or {}).get("baseline_metrics", [])) for row in tickets}
    for ticket_id, data in session.execute(sa.select(TicketHistory.ticket_id, TicketHistory.data).where(
            TicketHistory.tenant_id == tenant_id, TicketHistory.ticket_id.in_(sorted(metrics)))):
        metrics[ticket_id].update((data or {}).get("baseline_metrics", []))
    disposed: dict[tuple[int, str], int] = defaultdict(int)
    false: dict[tuple[int, str], int] = defaultdict(int)
    for row in tickets:
        for metric in metrics[row.id]:
            disposed[(row.site_id, metric)] += 1
            false[(row.site_id, metric)] += row.disposition == Disposition.FALSE_POSITIVE
    return len(tickets), {key: false[key] / n for key, n in disposed.items()}


def tune_baselines(session: Session, tenant_id: int, now: datetime, rules: BaselineRules,
                   tuning_days: int) -> TuningResult:
    count, rates = false_positive_rates(session, tenant_id, now - timedelta(days=tuning_days))
    b = BaselineProfile
    # The profiles whose rate changes: those of disposed (site, metric)s and those still carrying a rate.
    touched = sa.or_(b.false_positive_rate > 0, sa.tuple_(b.site_id, b.metric).in_(sorted(rates))) if rates \
        else b.false_positive_rate > 0
    rows = session.execute(sa.select(b.id, b.site_id, b.metric, b.sample_count, b.false_positive_rate)
                           .where(b.tenant_id == tenant_id, b.person_id.is_(None), touched)).all()
    updates = []
    for row in rows:
        rate = rates.get((row.site_id, row.metric), 0.0)
        if rate != row.false_positive_rate:
            updates.append({"pid": row.id, "rate": rate,
                            "threshold": dynamic_threshold(row.sample_count, rate, rules), "now": now})
    if updates:
        table = b.__table__
        session.execute(sa.update(table).where(table.c.id == sa.bindparam("pid")).values(
            false_positive_rate=sa.bindparam("rate"), threshold=sa.bindparam("threshold"),
            updated_at=sa.bindparam("now")), sorted(updates, key=lambda u: u["pid"]))
    return TuningResult(tenant_id=tenant_id, tickets=count, rates=rates, profiles_updated=len(updates))


def due_for_tuning(client: redis.Redis, tenant_id: int, now: datetime, after_days: float) -> bool:
    try:
        last = client.get(TUNED_KEY.format(tenant_id=tenant_id))
    except redis.RedisError:
        return True
    return last is None or now - datetime.fromisoformat(last.decode()) >= timedelta(days=after_days)


def mark_tuned(client: redis.Redis, tenant_id: int, now: datetime) -> None:
    try:
        client.set(TUNED_KEY.format(tenant_id=tenant_id), now.isoformat())
    except redis.RedisError:
        pass   # the next daily check tunes again: harmless


def tune_tenant(runtime: Runtime, tenant_id: int, now: datetime | None = None) -> TuningResult:
    """Tune one tenant's baselines now, in one transaction, and remember when."""
    now = now or utcnow()
    rules = AuditRules.from_settings(runtime.settings)
    with runtime.transaction() as session:
        result = tune_baselines(session, tenant_id, now, rules.baseline, rules.tuning_days)
    mark_tuned(runtime.redis, tenant_id, now)
    log.info("tenant %d: baselines tuned from %d tickets, %d profiles updated", tenant_id, result.tickets,
             result.profiles_updated)
    return result


def tune_stale_tenants(runtime: Runtime, now: datetime | None = None) -> list[TuningResult]:
    """The daily check: tune every tenant last tuned ``tuning_after_days`` ago or more."""
    now = now or utcnow()
    after = AuditRules.from_settings(runtime.settings).tuning_after_days
    with runtime.read() as session:
        tenants = tenant_ids(session)
    return [tune_tenant(runtime, tenant_id, now) for tenant_id in tenants
            if due_for_tuning(runtime.redis, tenant_id, now, after)]
