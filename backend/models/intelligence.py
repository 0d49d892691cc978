"""What the system concludes: fraud predictions, anomalies, baselines, findings, incidents,
model versions, and the ground truth the demo world plants to train and evaluate against."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.enums import FraudKind, ModelStatus, Scorer, Severity
from backend.models.base import Base, BigId, FloatVector, StrEnumType, created_at_column, person_fk, site_fk, tenant_fk


class FraudPrediction(Base):
    """The fraud score of one check-in/out. One per event: re-scoring changes nothing.

    ``tenant_id``, ``person_id``, ``site_id`` and ``ts`` are the event's, copied for the
    dashboard reads (by tenant and time, by person and time). No column carries a foreign key:
    each key check cost a share of writing a prediction (the event's took a row lock on the
    event). A trigger on ``attendance_events`` deletes an event's prediction with it (deleting
    a tenant, person or site deletes their events), the write path only inserts predictions
    of events that exist, and model versions are never deleted (pruning drops artifacts only).

    ``features``: the values in ``catalog.FEATURES`` order of ``feature_version`` (None:
    missing); ``backend.scoring.catalog.feature_dict`` names them."""
    __tablename__ = "fraud_predictions"
    __table_args__ = (sa.Index("ix_fraud_predictions_tenant_ts", "tenant_id", "ts"),
                      sa.Index("ix_fraud_predictions_tenant_person_ts", "tenant_id", "person_id", "ts"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId)
    attendance_event_id: Mapped[int] = mapped_column(BigId, unique=True)
    person_id: Mapped[int] = mapped_column(BigId)
    site_id: Mapped[int] = mapped_column(BigId)
    ts: Mapped[datetime]  # the check-in's time, denormalised for the dashboard reads
    score: Mapped[float] = mapped_column(sa.Float)
    scorer: Mapped[Scorer] = mapped_column(StrEnumType(Scorer))
    model_version_id: Mapped[int | None] = mapped_column(BigId)
    features: Mapped[list[float | None]] = mapped_column(FloatVector(), default=list)
    feature_version: Mapped[int] = mapped_column(sa.SmallInteger, default=0)   # 0: none recorded
    reasons: Mapped[list[Any]] = mapped_column(default=list)  # top reasons, plain sentences + weights
    created_at: Mapped[datetime] = created_at_column()


class AttendanceAnomaly(Base):
    """One anomaly type found on one check-in (a check-in may have several)."""
    __tablename__ = "attendance_anomalies"
    __table_args__ = (sa.UniqueConstraint("attendance_event_id", "type"),
                      sa.Index("ix_attendance_anomalies_tenant_created", "tenant_id", "created_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    attendance_event_id: Mapped[int] = mapped_column(sa.ForeignKey("attendance_events.id", ondelete="CASCADE"))
    type: Mapped[FraudKind] = mapped_column(StrEnumType(FraudKind))
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    created_at: Mapped[datetime] = created_at_column()


class BaselineProfile(Base):
    """Self-tuning baseline of one metric for a site (or a person on it) at one hour of week."""
    __tablename__ = "baseline_profiles"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "site_id", "person_id", "metric", "hour_of_week"),
                      # NULLs are distinct in the constraint above: site-level profiles (no person)
                      # need their own unique index for the audit's ON CONFLICT upserts.
                      sa.Index("uq_baseline_profiles_site_level", "tenant_id", "site_id", "metric", "hour_of_week",
                               unique=True, postgresql_where=sa.text("person_id IS NULL"),
                               sqlite_where=sa.text("person_id IS NULL")))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    site_id: Mapped[int] = site_fk()
    person_id: Mapped[int | None] = person_fk(nullable=True)
    metric: Mapped[str] = mapped_column(sa.String(64))
    hour_of_week: Mapped[int] = mapped_column(sa.SmallInteger)  # 0 = Monday 00:00 site-local
    center: Mapped[float] = mapped_column(sa.Float, default=0.0)   # robust centre (median)
    scale: Mapped[float] = mapped_column(sa.Float, default=0.0)    # robust scale (MAD-based)
    sample_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    false_positive_rate: Mapped[float] = mapped_column(sa.Float, default=0.0)
    threshold: Mapped[float] = mapped_column(sa.Float, default=3.0)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)  # incremental estimator state
    updated_at: Mapped[datetime] = created_at_column()


class AuditFinding(Base):
    """Something that should be happening on a site and isn't (or shouldn't and is)."""
    __tablename__ = "audit_findings"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "dedup_key"),
                      sa.Index("ix_audit_findings_tenant_created", "tenant_id", "created_at"),
                      sa.Index("ix_audit_findings_tenant_site_created", "tenant_id", "site_id", "created_at"),
                      # Audits read findings by the time they are about (correlation, flagged windows).
                      sa.Index("ix_audit_findings_tenant_window_end", "tenant_id", "window_end"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    site_id: Mapped[int] = site_fk()
    person_id: Mapped[int | None] = person_fk(nullable=True)
    type: Mapped[str] = mapped_column(sa.String(64))
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedup_key: Mapped[str] = mapped_column(sa.String(200))  # re-auditing a window finds the same key
    created_at: Mapped[datetime] = created_at_column()


class Incident(Base):
    """Findings and low-activity signals correlated with NOC alerts in one window."""
    __tablename__ = "incidents"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "dedup_key"),
                      sa.Index("ix_incidents_tenant_created", "tenant_id", "created_at"),
                      sa.Index("ix_incidents_tenant_site_created", "tenant_id", "site_id", "created_at"),
                      sa.Index("ix_incidents_tenant_window_end", "tenant_id", "window_end"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    site_id: Mapped[int] = site_fk()
    person_id: Mapped[int | None] = person_fk(nullable=True)
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    signals: Mapped[list[Any]] = mapped_column(default=list)  # finding ids, signal summaries
    alert_ids: Mapped[list[Any]] = mapped_column(default=list)
    dedup_key: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = created_at_column()


class ModelVersion(Base):
    """A trained fraud model. The artifact is XGBoost's own UBJSON, never a pickle."""
    __tablename__ = "model_versions"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "version"),
                      # At most one active model per tenant, whatever two activations race.
                      sa.Index("uq_model_versions_active", "tenant_id", unique=True,
                               postgresql_where=sa.text("status = 'active'"),
                               sqlite_where=sa.text("status = 'active'")))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    version: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[ModelStatus] = mapped_column(StrEnumType(ModelStatus))
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    feature_importance: Mapped[dict[str, Any]] = mapped_column(default=dict)
    artifact: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    trained_at: Mapped[datetime] = created_at_column()
    activated_at: Mapped[datetime | None]


class GroundTruth(Base):
    """A planted case of fraud or misconduct (demo world) or a confirmed label: what training
    and evaluation compare against. ``attendance_event_id`` is set for per-check-in cases;
    schedule-based ones (no-show, silent device, …) carry the site, person and window."""
    __tablename__ = "ground_truth"
    __table_args__ = (sa.Index("ix_ground_truth_tenant_kind", "tenant_id", "kind"),
                      sa.Index("ix_ground_truth_event", "attendance_event_id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    kind: Mapped[FraudKind] = mapped_column(StrEnumType(FraudKind))
    site_id: Mapped[int | None] = site_fk(nullable=True)
    person_id: Mapped[int | None] = person_fk(nullable=True)
    attendance_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("attendance_events.id", ondelete="CASCADE"))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    source: Mapped[str] = mapped_column(sa.String(32), default="simulator")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
