"""Training a tenant's fraud model end to end: dataset, fit, gates, comparison with the active
model, registry, events, and the alarm for repeated failures.

A new model is activated only if it passes every gate on the held-out days (precision,
recall and F1 at its decision threshold; settings ``ml_min_*``) and its PR-AUC on those same
days beats the active model's (ties keep the active one: ``ml activate`` can still switch).
Otherwise it is stored, as REJECTED (a gate failed, or training could not run) or CANDIDATE
(passed, not better), with its metrics. Two rejected trainings in a row publish a ``system``
event and open (or add an occurrence to) a ticket for the tenant's admins."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import sqlalchemy as sa
import xgboost as xgb
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.enums import (Disposition, EventType, ModelStatus, Role, Severity, TicketPriority, TicketSource,
                           TrainingStage)
from backend.events import EventPublisher
from backend.ml.dataset import Dataset, build_dataset, time_split
from backend.ml.metrics import binary_metrics, pr_auc, recall_by_kind
from backend.ml.progress import Progress
from backend.ml.registry import activate, active_version, prune_artifacts, recent_failures, store_version
from backend.ml.train import fit, importance, predict
from backend.models import GroundTruth, ModelVersion, Tenant, Ticket, utcnow
from backend.runtime import Runtime
from backend.scoring.catalog import FEATURE_NAMES, FEATURE_VERSION
from backend.scoring.model import LoadedModel, load_model, to_score
from backend.tickets import TicketSpec, open_or_add_occurrence

log = logging.getLogger(__name__)

FAILURES_BEFORE_ALARM = 2
# The stage a queued run ends in, by what training made of the model.
_FINAL_STAGE = {ModelStatus.ACTIVE: TrainingStage.ACTIVATED, ModelStatus.CANDIDATE: TrainingStage.STORED,
                ModelStatus.REJECTED: TrainingStage.REJECTED}
HEADLINE = ("precision", "recall", "f1", "pr_auc")


class NotEnoughLabels(ValueError):
    pass


@dataclass(frozen=True)
class TrainingOutcome:
    version: int
    status: ModelStatus
    activated: bool
    metrics: dict[str, Any]

    def summary(self) -> str:
        holdout = self.metrics.get("holdout") or {}
        if "error" in self.metrics:
            return f"v{self.version} {self.status.value}: {self.metrics['error']}"
        figures = ", ".join(f"{k} {holdout.get(k, 0):.3f}" for k in ("precision", "recall", "f1", "pr_auc"))
        verdict = "activated" if self.activated else self.status.value
        return f"v{self.version} {verdict} (held-out days: {figures})"


def train_model(runtime: Runtime, tenant_id: int, *, now: datetime | None = None,
                trigger: str = "manual", progress: Progress | None = None) -> TrainingOutcome:
    """``progress`` (a queued run) hears each stage; the final one commits with the version."""
    settings = runtime.settings
    now = now or utcnow()
    started = time.perf_counter()
    if progress is not None:
        progress.stage(TrainingStage.LOADING_DATA)
    with runtime.read() as session:
        data = build_dataset(session, tenant_id, now, settings.ml_training_days)
        active = _loadable_active(session, tenant_id)
    artifact: bytes | None = None
    weights: dict[str, float] = {}
    try:
        if progress is not None:
            progress.stage(TrainingStage.TRAINING, rows=len(data))
        evaluating = partial(progress.stage, TrainingStage.EVALUATING) if progress is not None else None
        status, metrics, booster = judge(data, active, settings, on_fitted=evaluating)
        artifact, weights = bytes(booster.save_raw(raw_format="ubj")), importance(booster)
    except (ValueError, xgb.core.XGBoostError) as exc:
        log.warning("tenant %d: training failed: %s", tenant_id, exc)
        status, metrics = ModelStatus.REJECTED, {"error": str(exc).splitlines()[0], "rows": {"total": len(data)}}
    metrics.update(trained_at=now.isoformat(), seconds=round(time.perf_counter() - started, 2), trigger=trigger,
                   xgboost=xgb.__version__)
    with runtime.transaction() as session:
        # Stored as a candidate first: activate() then retires the current model in order.
        stored_status = ModelStatus.CANDIDATE if status is ModelStatus.ACTIVE else status
        row = store_version(session, tenant_id, status=stored_status, metrics=metrics, importance=weights,
                            artifact=artifact, trained_at=now)
        runtime.events.publish(session, EventType.MODEL_TRAINED, tenant_id,
                               severity=Severity.HIGH if status is ModelStatus.REJECTED else None,
                               data={"version": row.version, "status": status.value, "trigger": trigger,
                                     "error": metrics.get("error"),
                                     **{k: (metrics.get("holdout") or {}).get(k) for k in HEADLINE}})
        if status is ModelStatus.ACTIVE:
            activate(session, runtime.events, tenant_id, row.version, by=f"training ({trigger})", now=now)
        prune_artifacts(session, tenant_id, settings.ml_keep_artifacts)
        if status is ModelStatus.REJECTED:
            _alarm_on_repeated_failures(session, runtime.events, tenant_id, now)
        if progress is not None:
            progress.publish(session, _FINAL_STAGE[status], version=row.version, message=metrics.get("error"))
        version = row.version
    return TrainingOutcome(version, status, status is ModelStatus.ACTIVE, metrics)


def judge(data: Dataset, active: LoadedModel | None, settings: Settings,
          on_fitted: Callable[[], object] | None = None) -> tuple[ModelStatus, dict[str, Any], xgb.Booster]:
    """Fit on the oldest days, pick the threshold on the validation slice, judge on the
    held-out days (``on_fitted`` is called in between). Raises ValueError (NotEnoughLabels)
    when there is nothing to learn from."""
    split = time_split(data.t, settings.ml_holdout_fraction)
    y, x = data.y, data.matrix()
    if int(y.sum()) < settings.ml_min_positives:
        raise NotEnoughLabels(f"{int(y.sum())} labelled fraud check-ins; at least {settings.ml_min_positives} needed")
    if not y[split.holdout].any():
        raise NotEnoughLabels("no labelled fraud in the held-out days")
    fitted = fit(x[split.train], y[split.train], x[split.validation], y[split.validation],
                 feature_names=FEATURE_NAMES, threads=settings.ml_threads)
    if on_fitted is not None:
        on_fitted()
    holdout_p = predict(fitted.booster, x[split.holdout])
    holdout = binary_metrics(y[split.holdout], holdout_p, fitted.threshold)
    holdout["by_kind"] = recall_by_kind(y[split.holdout], data.kind[split.holdout], holdout_p >= fitted.threshold)
    validation = binary_metrics(y[split.validation], predict(fitted.booster, x[split.validation]), fitted.threshold)
    gates = {name: {"value": holdout[name], "min": minimum, "passed": holdout[name] >= minimum}
             for name, minimum in (("precision", settings.ml_min_precision), ("recall", settings.ml_min_recall),
                                   ("f1", settings.ml_min_f1))}
    comparison: dict[str, Any] = {"active_version": None, "active_pr_auc": None, "beats_active": True}
    if active is not None:
        active_scores = active.booster.inplace_predict(data.matrix(split.holdout, active.features))
        active_auc = pr_auc(y[split.holdout], active_scores)
        comparison = {"active_version": active.version, "active_pr_auc": round(active_auc, 4),
                      "beats_active": holdout["pr_auc"] > round(active_auc, 4)}
    passed = all(g["passed"] for g in gates.values())
    status = ModelStatus.REJECTED if not passed else (ModelStatus.ACTIVE if comparison["beats_active"]
                                                      else ModelStatus.CANDIDATE)
    train_scores = to_score(predict(fitted.booster, x[split.train]), fitted.threshold,
                            settings.scoring_anomaly_threshold)
    metrics: dict[str, Any] = {
        "features": list(FEATURE_NAMES), "feature_version": FEATURE_VERSION, "threshold": fitted.threshold,
        "rounds": fitted.rounds, "params": fitted.params, "holdout": holdout, "validation": validation, "gates": gates,
        "gates_passed": passed, "comparison": comparison,
        "precision": holdout["precision"], "recall": holdout["recall"], "f1": holdout["f1"],
        "pr_auc": holdout["pr_auc"], "confusion": holdout["confusion"], "pr_curve": holdout["pr_curve"],
        "rows": {"total": len(data), "train": len(split.train), "validation": len(split.validation),
                 "holdout": len(split.holdout), "positives": int(y.sum()),
                 "train_positives": int(y[split.train].sum()), "holdout_positives": int(y[split.holdout].sum())},
        "holdout_from": datetime.fromtimestamp(split.holdout_start, UTC).isoformat(),
        "training_score_histogram": np.histogram(train_scores, bins=20, range=(0.0, 1.0))[0].tolist(),
    }
    return status, metrics, fitted.booster


def _loadable_active(session: Session, tenant_id: int) -> LoadedModel | None:
    """The active model to compare with, if its artifact still loads (else there is nothing to beat)."""
    row = active_version(session, tenant_id)
    if row is None:
        return None
    try:
        return load_model(row.id, row.version, row.artifact, row.metrics or {})
    except ValueError:
        return None


def _alarm_on_repeated_failures(session: Session, publisher: EventPublisher, tenant_id: int, now: datetime) -> None:
    failed = recent_failures(session, tenant_id)
    if len(failed) < FAILURES_BEFORE_ALARM:
        return
    versions = [row.version for row in failed]
    errors = {row.version: (row.metrics or {}).get("error") or _failed_gates(row.metrics or {}) for row in failed[:3]}
    message = f"fraud model training failed {len(failed)} times in a row (versions {', '.join(map(str, versions))})"
    publisher.publish(session, EventType.SYSTEM, tenant_id, severity=Severity.HIGH,
                      data={"component": "ml", "message": message, "versions": versions, "errors": errors})
    open_or_add_occurrence(session, publisher, TicketSpec(
        tenant_id=tenant_id, source=TicketSource.SYSTEM, type="model_training_failed", dedup_key="ml:training-failed",
        title="Fraud model training keeps failing", priority=TicketPriority.P2, severity=Severity.HIGH,
        details={"message": message, "versions": versions, "errors": {str(k): v for k, v in errors.items()}},
        assignee_role=Role.ADMIN), now=now)


def _failed_gates(metrics: dict[str, Any]) -> str:
    gates = metrics.get("gates") or {}
    failed = [f"{name} {g['value']:.3f} < {g['min']}" for name, g in gates.items() if not g.get("passed")]
    return "gates failed: " + ", ".join(failed) if failed else "rejected"


# -- scheduling ------------------------------------------------------------------------------


def tenants_due_for_training(session: Session, settings: Settings, now: datetime) -> list[int]:
    """Tenants with labels whose last training (any outcome) is older than
    ``ml_retrain_after_days``, or that never trained. (Retraining keys on the last attempt,
    not the active model's age: a challenger that does not beat the active one must not make
    the daily check retrain every day.)"""
    last = (sa.select(ModelVersion.tenant_id, sa.func.max(ModelVersion.trained_at).label("last"))
            .group_by(ModelVersion.tenant_id).subquery())
    labelled = sa.or_(
        sa.exists().where(GroundTruth.tenant_id == Tenant.id, GroundTruth.attendance_event_id.is_not(None)),
        sa.exists().where(Ticket.tenant_id == Tenant.id, Ticket.source == TicketSource.FRAUD,
                          Ticket.disposition.in_((Disposition.CONFIRMED_FRAUD, Disposition.FALSE_POSITIVE))))
    cutoff = now - timedelta(days=settings.ml_retrain_after_days)
    query = (sa.select(Tenant.id).outerjoin(last, last.c.tenant_id == Tenant.id)
             .where(labelled, sa.or_(last.c.last.is_(None), last.c.last < cutoff)).order_by(Tenant.id))
    return list(session.scalars(query))


def ensure_initial_model(runtime: Runtime, tenant_id: int) -> TrainingOutcome | None:
    """Train unless the tenant has an active model this code can use (the demo's first start,
    or a start after the feature definitions changed); None when there was nothing to do."""
    with runtime.read() as session:
        usable = _loadable_active(session, tenant_id) is not None
    return None if usable else train_model(runtime, tenant_id, trigger="start")
