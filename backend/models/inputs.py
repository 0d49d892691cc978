"""What devices and integrations send: append-only, idempotent by (tenant, client event id).

Each input kind has its own typed table so features and audits read plain columns; the
shared columns and indexes come from ``InputEvent``."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from backend.enums import AlertKind, AttendanceKind, PhoneActivityKind, ScanMethod, Severity
from backend.models.base import Base, BigId, StrEnumType, created_at_column, person_fk, site_fk, tenant_fk


class InputEvent:
    """Columns and indexes shared by every ingested event table."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    client_event_id: Mapped[str] = mapped_column(sa.String(128))
    ts: Mapped[datetime]                                  # when it happened (device clock, UTC)
    received_at: Mapped[datetime] = created_at_column()   # when we stored it
    device_id: Mapped[str | None] = mapped_column(sa.String(128))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = cls.__tablename__
        # The unique constraint *is* the idempotency: concurrent duplicates collide here.
        return (sa.UniqueConstraint("tenant_id", "client_event_id", name=f"uq_{name}_client_event"),
                sa.Index(f"ix_{name}_tenant_ts", "tenant_id", "ts"),
                sa.Index(f"ix_{name}_tenant_site_ts", "tenant_id", "site_id", "ts"),
                sa.Index(f"ix_{name}_tenant_person_ts", "tenant_id", "person_id", "ts",
                         postgresql_include=list(getattr(cls, "__person_ts_include__", ()))),
                *getattr(cls, "__extra_indexes__", ()))


class AttendanceEvent(InputEvent, Base):
    """A check-in or check-out. Scored once: its ``FraudPrediction`` (``created_at``: when);
    until then it is listed in ``UnscoredAttendance``."""
    __tablename__ = "attendance_events"
    __extra_indexes__ = (
        sa.Index("ix_attendance_events_tenant_device_ts", "tenant_id", "device_id", "ts"),
    )
    kind: Mapped[AttendanceKind] = mapped_column(StrEnumType(AttendanceKind))
    person_id: Mapped[int] = person_fk()
    site_id: Mapped[int] = site_fk()
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    gps_accuracy_m: Mapped[float | None] = mapped_column(sa.Float)
    biometric_quality: Mapped[float | None] = mapped_column(sa.Float)  # 0..1 face/finger match quality
    mock_location: Mapped[bool] = mapped_column(default=False)
    battery_pct: Mapped[float | None] = mapped_column(sa.Float)
    signal_dbm: Mapped[float | None] = mapped_column(sa.Float)


class UnscoredAttendance(Base):
    """The scoring queue in the database: the check-ins/outs not scored yet. A trigger on
    ``attendance_events`` (migration 0004: per statement on PostgreSQL, per row on SQLite)
    adds every inserted row, whoever inserts it (ingest, seeding, a bulk load); scoring deletes
    the ids it scored in the transaction that writes their predictions; the sweeper reads what
    is left. Small (the backlog, not the history), so its reads and deletes stay cheap and the
    big events table is never updated by scoring.

    No foreign keys, on purpose: each would cost a lookup (and a row lock) of the event per
    ingested row. An event deleted before it was scored (its tenant, person or site deleted)
    leaves an orphan id here that the next scoring of it (the sweeper's) deletes."""
    __tablename__ = "unscored_attendance"
    __table_args__ = (sa.Index("ix_unscored_attendance_tenant_received", "tenant_id", "received_at"),)
    attendance_event_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    tenant_id: Mapped[int] = mapped_column(BigId)
    received_at: Mapped[datetime]   # copied from the event: the sweeper's age, the coalescing window


class LocationPing(InputEvent, Base):
    __tablename__ = "location_pings"
    # The fraud features read a person's fixes by time: on PostgreSQL the person index carries
    # the position, so those reads never touch the table (an index-only scan, ~5x faster).
    __person_ts_include__ = ("lat", "lon")
    person_id: Mapped[int] = person_fk()
    site_id: Mapped[int | None] = site_fk(nullable=True)
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    accuracy_m: Mapped[float | None] = mapped_column(sa.Float)
    speed_mps: Mapped[float | None] = mapped_column(sa.Float)
    mock_location: Mapped[bool] = mapped_column(default=False)
    battery_pct: Mapped[float | None] = mapped_column(sa.Float)


class CheckpointScan(InputEvent, Base):
    __tablename__ = "checkpoint_scans"
    person_id: Mapped[int] = person_fk()
    site_id: Mapped[int] = site_fk()
    checkpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("checkpoints.id", ondelete="CASCADE"))
    tour_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tours.id", ondelete="SET NULL"))
    method: Mapped[ScanMethod] = mapped_column(StrEnumType(ScanMethod))
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)


class PhoneActivity(InputEvent, Base):
    __tablename__ = "phone_activities"
    person_id: Mapped[int] = person_fk()
    site_id: Mapped[int | None] = site_fk(nullable=True)
    activity: Mapped[PhoneActivityKind] = mapped_column(StrEnumType(PhoneActivityKind))
    value: Mapped[float | None] = mapped_column(sa.Float)  # e.g. steps, call seconds


class NocAlert(InputEvent, Base):
    """An alert from a device or a third-party system (panic, device offline, …)."""
    __tablename__ = "noc_alerts"
    kind: Mapped[AlertKind] = mapped_column(StrEnumType(AlertKind))
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    site_id: Mapped[int] = site_fk()
    person_id: Mapped[int | None] = person_fk(nullable=True)
    message: Mapped[str | None] = mapped_column(sa.String(1000))


class Shift(Base):
    """One rostered shift: a post at a site, a person (NULL = not yet filled), a time range."""
    __tablename__ = "shifts"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),
                      sa.Index("ix_shifts_tenant_site_starts", "tenant_id", "site_id", "starts_at"),
                      sa.Index("ix_shifts_tenant_person_starts", "tenant_id", "person_id", "starts_at"),
                      sa.Index("ix_shifts_tenant_starts", "tenant_id", "starts_at"),   # audits: all sites' shifts by time
                      sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    code: Mapped[str] = mapped_column(sa.String(128))
    site_id: Mapped[int] = site_fk()
    person_id: Mapped[int | None] = person_fk(nullable=True)
    post: Mapped[str] = mapped_column(sa.String(100), default="guard")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class Tour(Base):
    """A guard tour: checkpoints to visit in order, every ``interval_minutes`` between two
    times of day (site-local; end < start means it runs past midnight)."""
    __tablename__ = "tours"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),
                      sa.Index("ix_tours_tenant_site", "tenant_id", "site_id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    code: Mapped[str] = mapped_column(sa.String(128))
    site_id: Mapped[int] = site_fk()
    name: Mapped[str] = mapped_column(sa.String(200))
    checkpoint_ids: Mapped[list[Any]] = mapped_column(default=list)
    interval_minutes: Mapped[int] = mapped_column(sa.Integer)
    grace_minutes: Mapped[int] = mapped_column(sa.Integer, default=10)
    active_from: Mapped[str] = mapped_column(sa.String(5), default="00:00")  # HH:MM site-local
    active_to: Mapped[str] = mapped_column(sa.String(5), default="24:00")
