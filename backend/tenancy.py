"""Tenants: creation and lookup by slug."""
from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.models import Tenant

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def create_tenant(session: Session, slug: str, name: str) -> Tenant:
    if not SLUG_PATTERN.match(slug):
        raise ValueError("slug: 2-63 lowercase letters, digits or dashes")
    tenant = Tenant(slug=slug, name=name)
    session.add(tenant)
    session.flush()
    return tenant


def tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
