"""Training: every planted kind learnt, gates, comparison with the active model, the registry
(UBJSON artifacts, the last three kept, activate, roll back) and the alarm on repeated
failures."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
import xgboost as xgb

from backend.enums import EventType, FraudKind, ModelStatus, Role, TicketSource
from backend.ml.registry import (RegistryError, activate, active_version, list_versions, prune_artifacts,
                                 rollback, store_version)
from backend.ml.service import TrainingOutcome, tenants_due_for_training, train_model
from backend.models import EventLogEntry, GroundTruth, ModelVersion, Ticket, User
from backend.runtime import Runtime
from backend.scoring.catalog import PER_EVENT_KINDS
from backend.scoring.labels import event_labels
from tests.scoring.conftest import END, SMALL, Seeded, seed


def _events(seeded: Seeded, type_: EventType) -> list[EventLogEntry]:
    with seeded.runtime.read() as session:
        return list(session.scalars(sa.select(EventLogEntry)
                                    .where(EventLogEntry.tenant_id == seeded.tenant_id, EventLogEntry.type == type_)
                                    .order_by(EventLogEntry.id)))


def test_the_model_learns_every_planted_kind(trained: TrainingOutcome) -> None:
    """On the held-out (newest) days the model flags most cases of every per-check-in kind."""
    assert trained.status is ModelStatus.ACTIVE and trained.activated, trained.summary()
    assert all(gate["passed"] for gate in trained.metrics["gates"].values())
    by_kind = trained.metrics["holdout"]["by_kind"]
    assert set(by_kind) == {k.value for k in PER_EVENT_KINDS}
    for kind, figures in by_kind.items():
        assert figures["cases"] >= 3 and figures["recall"] >= 0.75, (kind, figures)


def test_a_version_stores_its_artifact_metrics_and_events(medium: Seeded, trained: TrainingOutcome) -> None:
    with medium.runtime.read() as session:
        row = session.scalar(sa.select(ModelVersion).where(ModelVersion.tenant_id == medium.tenant_id,
                                                           ModelVersion.version == trained.version))
    assert row is not None and row.artifact and row.artifact[:1] == b"{"   # UBJSON object, never a pickle
    booster = xgb.Booster()
    booster.load_model(bytearray(row.artifact))
    assert booster.num_features() == len(row.metrics["features"])
    for key in ("precision", "recall", "f1", "pr_auc", "confusion", "pr_curve", "rows", "trained_at", "threshold",
                "gates", "feature_version"):
        assert key in row.metrics, key
    assert set(row.metrics["confusion"]) == {"tp", "fp", "fn", "tn"} and row.metrics["pr_curve"]
    assert row.feature_importance and abs(sum(row.feature_importance.values()) - 1) < 0.01
    assert [e.data["version"] for e in _events(medium, EventType.MODEL_TRAINED)] == [trained.version]
    assert [e.data["version"] for e in _events(medium, EventType.MODEL_ACTIVATED)] == [trained.version]


def test_a_challenger_must_beat_the_active_model(small: Seeded) -> None:
    first = train_model(small.runtime, small.tenant_id, now=END)
    second = train_model(small.runtime, small.tenant_id, now=END)   # same data: same PR-AUC, not better
    assert first.activated and first.status is ModelStatus.ACTIVE
    assert not second.activated and second.status is ModelStatus.CANDIDATE
    assert second.metrics["comparison"]["active_version"] == first.version
    with small.runtime.read() as session:
        assert active_version(session, small.tenant_id).version == first.version


def _add_label_noise(seeded: Seeded, share: float) -> None:
    """Label a random share of honest check-ins as fraud: nothing a model can learn."""
    with seeded.runtime.transaction() as session:
        labels = event_labels(session, seeded.tenant_id)
        rows = session.execute(sa.text("SELECT id, person_id, site_id, ts FROM attendance_events WHERE tenant_id = :t "
                                       "ORDER BY id"), {"t": seeded.tenant_id}).all()
        honest = [r for r in rows if r.id not in labels.positives and r.id not in labels.companions]
        picked = np.random.default_rng(3).choice(len(honest), size=int(share * len(honest)), replace=False)
        session.add_all(GroundTruth(tenant_id=seeded.tenant_id, kind=FraudKind.GPS_SPOOFING, site_id=honest[i].site_id,
                                    person_id=honest[i].person_id, attendance_event_id=honest[i].id,
                                    window_start=honest[i].ts, window_end=honest[i].ts, source="test-noise")
                        for i in picked.tolist())


def test_a_model_failing_a_gate_is_stored_not_activated_and_two_failures_alarm(pg_runtime: Runtime) -> None:
    small = seed(pg_runtime, SMALL)   # a world of its own: its labels get noise
    _add_label_noise(small, 0.4)
    first = train_model(small.runtime, small.tenant_id, now=END)
    assert first.status is ModelStatus.REJECTED and not first.activated
    assert not all(g["passed"] for g in first.metrics["gates"].values())
    with small.runtime.read() as session:
        assert active_version(session, small.tenant_id) is None
        stored = list_versions(session, small.tenant_id)
    assert [v.version for v in stored] == [first.version] and stored[0].artifact   # kept, with its metrics
    assert not _events(small, EventType.SYSTEM)

    train_model(small.runtime, small.tenant_id, now=END)
    train_model(small.runtime, small.tenant_id, now=END)
    alarms = [e for e in _events(small, EventType.SYSTEM) if e.data.get("component") == "ml"]
    assert len(alarms) == 2 and "failed 2 times in a row" in alarms[0].data["message"]
    with small.runtime.read() as session:
        tickets = list(session.scalars(sa.select(Ticket).where(Ticket.tenant_id == small.tenant_id)))
        admin = session.scalar(sa.select(User.id).where(User.tenant_id == small.tenant_id, User.role == Role.ADMIN))
    assert len(tickets) == 1 and tickets[0].source is TicketSource.SYSTEM
    assert tickets[0].occurrences == 2 and tickets[0].assignee_user_id == admin


def test_registry_keeps_the_last_three_artifacts_activates_and_rolls_back(small: Seeded) -> None:
    runtime, tenant = small.runtime, small.tenant_id
    first = train_model(runtime, tenant, now=END)
    with runtime.transaction() as session:
        template = active_version(session, tenant)
        for _ in range(4):   # four more trainings' worth of versions (what train_model stores)
            store_version(session, tenant, status=ModelStatus.CANDIDATE, metrics=template.metrics,
                          importance=template.feature_importance, artifact=template.artifact, trained_at=END)
            prune_artifacts(session, tenant, runtime.settings.ml_keep_artifacts)
    with runtime.read() as session:
        artifacts = {v.version: v.artifact is not None for v in list_versions(session, tenant)}
    assert first.version == 1 and artifacts == {5: True, 4: True, 3: True, 2: False, 1: True}   # newest three + active

    with runtime.transaction() as session:
        activate(session, runtime.events, tenant, 4, by="test")
    with runtime.transaction() as session:
        assert active_version(session, tenant).version == 4
        assert rollback(session, runtime.events, tenant).version == 1
    with pytest.raises(RegistryError, match="no artifact"), runtime.transaction() as session:
        activate(session, runtime.events, tenant, 2, by="test")
    with runtime.read() as session:
        statuses = {v.version: v.status for v in list_versions(session, tenant)}
    assert statuses[1] is ModelStatus.ACTIVE and statuses[4] is ModelStatus.RETIRED
    assert [e.data["version"] for e in _events(small, EventType.MODEL_ACTIVATED)] == [1, 4, 1]


def test_the_daily_check_retrains_tenants_whose_last_training_is_a_week_old(small: Seeded) -> None:
    settings = small.runtime.settings
    with small.runtime.read() as session:
        assert small.tenant_id in tenants_due_for_training(session, settings, END)
    train_model(small.runtime, small.tenant_id, now=END)
    with small.runtime.read() as session:
        assert small.tenant_id not in tenants_due_for_training(session, settings, END + timedelta(days=6))
        assert small.tenant_id in tenants_due_for_training(session, settings, END + timedelta(days=8))
