"""Fixtures of the scoring tests: demo worlds seeded at a fixed end instant (so the planted
cases, hence the trained model, are the same on every run), on the session's PostgreSQL."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from backend.ml.service import TrainingOutcome, train_model
from backend.models import (AttendanceAnomaly, AttendanceEvent, EventLogEntry, FraudPrediction, ModelVersion, Ticket,
                            TicketComment, TicketHistory, UnscoredAttendance)
from backend.runtime import Runtime
from backend.simulator import WorldParams
from backend.simulator.seed import seed_world

END = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
# Big enough for 4-5 planted cases of every per-check-in kind in the held-out days.
MEDIUM = WorldParams(seed=7, n_sites=20, n_guards=200, days=30, future_days=1)
SMALL = WorldParams(seed=11, n_sites=4, n_guards=40, days=10, future_days=1)


@dataclass(frozen=True)
class Seeded:
    runtime: Runtime
    tenant_id: int

    def event_ids(self, **filters: object) -> list[int]:
        a = AttendanceEvent
        with self.runtime.read() as session:
            query = sa.select(a.id).where(a.tenant_id == self.tenant_id).order_by(a.received_at, a.id)
            return list(session.scalars(query.filter_by(**filters)))


def seed(runtime: Runtime, params: WorldParams) -> Seeded:
    unique = WorldParams(**{**params.__dict__, "slug": f"sc-{uuid.uuid4().hex[:10]}"})
    with runtime.transaction() as session:
        tenant_id, _rows, _wall = seed_world(session, unique, end=END)
    return Seeded(runtime, tenant_id)


@pytest.fixture(scope="session")
def medium(pg_runtime: Runtime) -> Seeded:
    """One medium demo world for the tests that only read it or score disjoint events."""
    return seed(pg_runtime, MEDIUM)


@pytest.fixture(scope="session")
def trained(medium: Seeded) -> TrainingOutcome:
    """The medium world's first model (activated when its gates pass)."""
    return train_model(medium.runtime, medium.tenant_id, now=END, trigger="test")


@pytest.fixture(scope="session")
def small_world(pg_runtime: Runtime) -> Seeded:
    return seed(pg_runtime, SMALL)


@pytest.fixture
def small(small_world: Seeded) -> Seeded:
    """The small world as seeded: nothing scored, no model, no tickets (seeding a world per test
    would cost seconds each: demo users get real password hashes)."""
    reset_scoring(small_world)
    return small_world


def reset_scoring(seeded: Seeded) -> None:
    """Forget everything scoring and training wrote for the world's tenant."""
    tenant = seeded.tenant_id
    with seeded.runtime.transaction() as session:
        for model in (TicketHistory, TicketComment, Ticket, AttendanceAnomaly, FraudPrediction, EventLogEntry,
                      ModelVersion):
            session.execute(sa.delete(model).where(model.tenant_id == tenant))
        queue, a = UnscoredAttendance, AttendanceEvent
        session.execute(sa.delete(queue).where(queue.tenant_id == tenant))
        session.execute(sa.insert(queue).from_select(["attendance_event_id", "tenant_id", "received_at"],
                                                     sa.select(a.id, a.tenant_id, a.received_at).where(a.tenant_id == tenant)))
