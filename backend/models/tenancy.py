"""Tenant → Client → Site → Checkpoint; Person; User; API and wallboard tokens."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.enums import Role
from backend.models.base import (Base, BigId, StrEnumType, created_at_column, site_fk,
                                 tenant_fk)


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = created_at_column()


class Client(Base):
    """A customer of the guarding company; owns sites."""
    __tablename__ = "clients"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    code: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))


class Site(Base):
    """A guarded location. ``code`` is the external id devices and integrations use."""
    __tablename__ = "sites"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clients.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    geofence_radius_m: Mapped[float] = mapped_column(sa.Float, default=150.0)
    # Opening hours / staffing pattern, e.g. {"posts": 2, "hours": "24/7"}; rosters are in shifts.
    schedule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=True)


class Checkpoint(Base):
    """A tour checkpoint (NFC tag / QR code) at a site."""
    __tablename__ = "checkpoints"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    site_id: Mapped[int] = site_fk()
    code: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)


class Person(Base):
    """A guard (or other field worker) and the device they normally carry."""
    __tablename__ = "persons"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"),
                      sa.Index("ix_persons_tenant_device", "tenant_id", "device_id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    code: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    device_id: Mapped[str | None] = mapped_column(sa.String(128))
    home_site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)


class User(Base):
    """A person who logs into the UI. ``site_id`` set = scoped to that one site."""
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    site_id: Mapped[int | None] = site_fk(nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()


class ApiToken(Base):
    """Bearer token for devices and integrations. Only a SHA-256 of the secret is stored."""
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    name: Mapped[str] = mapped_column(sa.String(200))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]


class WallboardToken(Base):
    """Read-only token for kiosk screens (no login form on a wall display)."""
    __tablename__ = "wallboard_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    name: Mapped[str] = mapped_column(sa.String(200))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    site_id: Mapped[int | None] = site_fk(nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]
