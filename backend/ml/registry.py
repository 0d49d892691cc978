"""Model versions of a tenant: store, activate, roll back, keep the last artifacts.

Versions count up per tenant. At most one is ACTIVE (a partial unique index guards it);
activating retires the previous one. Rollback re-activates the most recently active version
before the current one. Only the newest ``keep`` artifacts stay (and always the active one):
older rows keep their metrics, lose their artifact, and can no longer be activated."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.enums import EventType, ModelStatus
from backend.events import EventPublisher
from backend.models import ModelVersion, utcnow


class RegistryError(ValueError):
    """An activation or rollback that cannot be done (the message says why)."""


def store_version(session: Session, tenant_id: int, *, status: ModelStatus, metrics: dict[str, Any],
                  importance: dict[str, float], artifact: bytes | None, trained_at: datetime) -> ModelVersion:
    # Two trainings finishing together take distinct numbers.
    _lock_versions(session, tenant_id)
    version = (session.scalar(sa.select(sa.func.max(ModelVersion.version))
                              .where(ModelVersion.tenant_id == tenant_id)) or 0) + 1
    row = ModelVersion(tenant_id=tenant_id, version=version, status=status, metrics=metrics,
                       feature_importance=importance, artifact=artifact, trained_at=trained_at)
    session.add(row)
    session.flush()
    return row


def active_version(session: Session, tenant_id: int) -> ModelVersion | None:
    return session.scalar(sa.select(ModelVersion).where(ModelVersion.tenant_id == tenant_id,
                                                        ModelVersion.status == ModelStatus.ACTIVE))


def activate(session: Session, publisher: EventPublisher, tenant_id: int, version: int, *, by: str,
             allow_rejected: bool = False, now: datetime | None = None) -> ModelVersion:
    """Make ``version`` the active model (retiring the current one) and publish
    ``model_activated``. Workers pick it up at their next batch."""
    _lock_versions(session, tenant_id)
    target = session.scalar(sa.select(ModelVersion).where(ModelVersion.tenant_id == tenant_id,
                                                          ModelVersion.version == version))
    if target is None:
        raise RegistryError(f"no model version {version}")
    if target.artifact is None:
        raise RegistryError(f"model version {version} has no artifact any more (only the last ones are kept)")
    if target.status is ModelStatus.REJECTED and not allow_rejected:
        raise RegistryError(f"model version {version} failed its validation gates")
    previous = active_version(session, tenant_id)
    if previous is not None and previous.id == target.id:
        return target
    if previous is not None:
        previous.status = ModelStatus.RETIRED
        session.flush()   # the unique index on the active version holds between statements
    target.status = ModelStatus.ACTIVE
    target.activated_at = now or utcnow()
    session.flush()
    publisher.publish(session, EventType.MODEL_ACTIVATED, tenant_id, data={
        "version": target.version, "previous_version": previous.version if previous else None, "by": by,
        "metrics": _headline(target.metrics)})
    return target


def rollback(session: Session, publisher: EventPublisher, tenant_id: int, *, now: datetime | None = None
             ) -> ModelVersion:
    """Re-activate the version that was active before the current one."""
    _lock_versions(session, tenant_id)
    current = active_version(session, tenant_id)
    query = (sa.select(ModelVersion).where(ModelVersion.tenant_id == tenant_id, ModelVersion.activated_at.is_not(None),
                                           ModelVersion.artifact.is_not(None))
             .order_by(ModelVersion.activated_at.desc(), ModelVersion.version.desc()))
    if current is not None:
        query = query.where(ModelVersion.id != current.id)
    previous = session.scalar(query.limit(1))
    if previous is None:
        raise RegistryError("no earlier active version with an artifact to roll back to")
    return activate(session, publisher, tenant_id, previous.version, by="rollback", allow_rejected=True, now=now)


def prune_artifacts(session: Session, tenant_id: int, keep: int) -> int:
    """Drop the artifacts of all but the newest ``keep`` versions (never the active one)."""
    newest = sa.select(ModelVersion.id).where(ModelVersion.tenant_id == tenant_id) \
        .order_by(ModelVersion.version.desc()).limit(keep)
    result = session.execute(sa.update(ModelVersion).where(
        ModelVersion.tenant_id == tenant_id, ModelVersion.artifact.is_not(None),
        ModelVersion.status != ModelStatus.ACTIVE, ModelVersion.id.not_in(newest.scalar_subquery()))
        .values(artifact=None).execution_options(synchronize_session=False))
    return result.rowcount or 0


def recent_failures(session: Session, tenant_id: int) -> list[ModelVersion]:
    """The newest versions that were rejected, in a row (newest first)."""
    failed: list[ModelVersion] = []
    for row in session.scalars(sa.select(ModelVersion).where(ModelVersion.tenant_id == tenant_id)
                               .order_by(ModelVersion.version.desc()).limit(10)):
        if row.status is not ModelStatus.REJECTED:
            break
        failed.append(row)
    return failed


def list_versions(session: Session, tenant_id: int) -> list[ModelVersion]:
    return list(session.scalars(sa.select(ModelVersion).where(ModelVersion.tenant_id == tenant_id)
                                .order_by(ModelVersion.version.desc())))


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    holdout = metrics.get("holdout") or {}
    return {k: holdout.get(k) for k in ("precision", "recall", "f1", "pr_auc")}


# Namespace of the registry's transaction-scoped advisory locks (any constant not used elsewhere).
_LOCK_NAMESPACE = 0x4D4C


def _lock_versions(session: Session, tenant_id: int) -> None:
    """Serialise registry changes of one tenant until the transaction ends, even before it has
    any version (PostgreSQL advisory lock; SQLite has a single writer anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_NAMESPACE, tenant_id)))
