"""Reads of the Models page: a tenant's versions with their stored metrics, one version's
figures, and the distribution of the scores it gave in the last days.

Three small queries per view: the versions (never their artifacts: ~1 MB each), the shown
version's feature importance, and its recent score histogram counted in SQL (one pass over the
tenant's (tenant_id, ts) index range)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.auth.principal import Principal
from backend.enums import ModelStatus
from backend.ml.schemas import (HISTOGRAM_BINS, RECENT_DAYS, Confusion, Gate, ModelDetail, PrPoint, VersionRow)
from backend.models import FraudPrediction, ModelVersion


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _version_row(row: sa.Row[Any]) -> VersionRow:
    metrics: dict[str, Any] = row.metrics or {}
    rows = metrics.get("rows") or {}
    return VersionRow(
        version=row.version, status=row.status, trained_at=row.trained_at, activated_at=row.activated_at,
        trigger=metrics.get("trigger"), precision=_float(metrics.get("precision")),
        recall=_float(metrics.get("recall")), f1=_float(metrics.get("f1")), pr_auc=_float(metrics.get("pr_auc")),
        rows=rows.get("total") if isinstance(rows.get("total"), int) else None,
        gates_passed=metrics.get("gates_passed") if isinstance(metrics.get("gates_passed"), bool) else None,
        error=metrics.get("error"), has_artifact=bool(row.has_artifact))


def versions(session: Session, tenant_id: int) -> list[tuple[VersionRow, dict[str, Any], int]]:
    """(row, stored metrics, row id) of every version of the tenant, newest first."""
    query = (sa.select(ModelVersion.id, ModelVersion.version, ModelVersion.status, ModelVersion.trained_at,
                       ModelVersion.activated_at, ModelVersion.metrics,
                       ModelVersion.artifact.is_not(None).label("has_artifact"))
             .where(ModelVersion.tenant_id == tenant_id).order_by(ModelVersion.version.desc()))
    return [(_version_row(row), row.metrics or {}, row.id) for row in session.execute(query)]


def rollback_target(rows: list[VersionRow]) -> int | None:
    """The version ``registry.rollback`` would re-activate: the most recently active one before
    the current, with its artifact (the same rule, on rows already read)."""
    earlier = [r for r in rows if r.activated_at is not None and r.has_artifact and r.status is not ModelStatus.ACTIVE]
    return max(earlier, key=lambda r: (r.activated_at, r.version)).version if earlier else None


def importance_of(session: Session, model_id: int) -> tuple[tuple[str, float], ...]:
    weights = session.scalar(sa.select(ModelVersion.feature_importance).where(ModelVersion.id == model_id)) or {}
    pairs = [(str(name), float(share)) for name, share in weights.items() if _float(share) is not None]
    return tuple(sorted(pairs, key=lambda pair: -pair[1]))


def recent_histogram(session: Session, principal: Principal, model_id: int, now: datetime) -> tuple[int, ...]:
    """Counts per score bin of the check-ins this version scored in the last RECENT_DAYS (in the
    principal's site when site-scoped). One row of HISTOGRAM_BINS sums: portable (no floor()
    on SQLite, and PostgreSQL's cast rounds) and one pass."""
    score, width = FraudPrediction.score, 1.0 / HISTOGRAM_BINS

    def in_bin(i: int) -> sa.ColumnElement[bool]:
        low = score >= i * width
        return low if i == HISTOGRAM_BINS - 1 else sa.and_(low, score < (i + 1) * width)

    query = sa.select(*(sa.func.coalesce(sa.func.sum(sa.case((in_bin(i), 1), else_=0)), 0)
                        for i in range(HISTOGRAM_BINS))).where(
        FraudPrediction.tenant_id == principal.tenant_id, FraudPrediction.ts >= now - timedelta(days=RECENT_DAYS),
        FraudPrediction.model_version_id == model_id)
    if principal.site_id is not None:
        query = query.where(FraudPrediction.site_id == principal.site_id)
    return tuple(int(count) for count in session.execute(query).one())


def model_detail(session: Session, principal: Principal, row: VersionRow, metrics: dict[str, Any], model_id: int,
                 now: datetime) -> ModelDetail:
    confusion = metrics.get("confusion")
    histogram = metrics.get("training_score_histogram") or []
    return ModelDetail(
        version=row.version, status=row.status, threshold=_float(metrics.get("threshold")),
        holdout_from=_when(metrics.get("holdout_from")),
        pr_curve=tuple(PrPoint(recall=float(p["recall"]), precision=float(p["precision"]),
                               threshold=float(p["threshold"])) for p in metrics.get("pr_curve") or ()),
        confusion=Confusion(**{k: int(confusion[k]) for k in ("tp", "fp", "fn", "tn")})
        if isinstance(confusion, dict) else None,
        gates=tuple(Gate(name=name, value=float(g["value"]), minimum=float(g["min"]), passed=bool(g["passed"]))
                    for name, g in (metrics.get("gates") or {}).items()),
        importance=importance_of(session, model_id),
        training_histogram=tuple(int(c) for c in histogram) if len(histogram) == HISTOGRAM_BINS else (),
        recent_histogram=recent_histogram(session, principal, model_id, now),
        recent_site_scoped=principal.site_id is not None)
