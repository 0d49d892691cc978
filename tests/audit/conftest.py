"""Fixtures of the audit tests: small demo worlds seeded at a fixed end instant, each with a
slug of its own (the session's PostgreSQL schema is shared), and helpers to read what audits
wrote."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from backend.audit import AuditRules
from backend.models import AuditFinding, EventLogEntry, Incident, Ticket
from backend.runtime import Runtime
from backend.simulator import WorldParams
from backend.simulator.seed import seed_world

# A Wednesday, 14:00 UTC: Lisbon and London 14:00, New York 09:00 (its retail parks are closed), Singapore 22:00.
END = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)
RULES = AuditRules()
# The cycle whose as-of instant is END (audits judge the state a lateness before their window end).
WINDOW_END = END + timedelta(seconds=RULES.lateness_s)


@dataclass(frozen=True)
class Seeded:
    runtime: Runtime
    tenant_id: int
    params: WorldParams


def seed(runtime: Runtime, params: WorldParams, prefix: str) -> Seeded:
    unique = WorldParams(**{**params.__dict__, "slug": f"{prefix}-{uuid.uuid4().hex[:10]}"})
    with runtime.transaction() as session:
        tenant_id, _rows, _wall = seed_world(session, unique, end=END)
    return Seeded(runtime, tenant_id, unique)


def findings(runtime: Runtime, tenant_id: int, **filters: object) -> list[AuditFinding]:
    f = AuditFinding
    with runtime.read() as session:
        return list(session.scalars(sa.select(f).where(f.tenant_id == tenant_id).filter_by(**filters).order_by(f.id)))


def counts(runtime: Runtime, tenant_id: int) -> dict[str, int]:
    """Rows of everything an audit writes, for before/after comparisons."""
    out = {}
    with runtime.read() as session:
        for name, model in (("findings", AuditFinding), ("incidents", Incident), ("tickets", Ticket),
                            ("events", EventLogEntry)):
            out[name] = session.scalar(sa.select(sa.func.count()).select_from(model).where(model.tenant_id == tenant_id))
        out["occurrences"] = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Ticket.occurrences), 0))
                                            .where(Ticket.tenant_id == tenant_id))
        out["baseline_samples"] = session.scalar(sa.text(
            "SELECT coalesce(sum(sample_count), 0) FROM baseline_profiles WHERE tenant_id = :t"), {"t": tenant_id})
    return out
