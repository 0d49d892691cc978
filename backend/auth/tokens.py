"""Bearer tokens (API and wallboard): random secrets of which only a SHA-256 is stored.

A SHA-256 (not a slow password hash) is right here: the secret has 256 bits of entropy, so
it cannot be brute-forced, and a fast hash keeps every API request cheap."""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.models import ApiToken, WallboardToken

API_TOKEN_PREFIX = "noc_"
WALLBOARD_TOKEN_PREFIX = "wall_"


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def create_api_token(session: Session, tenant_id: int, name: str) -> str:
    """Store a new API token for the tenant and return its secret (shown once)."""
    plain = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(tenant_id=tenant_id, name=name, token_hash=hash_token(plain)))
    session.flush()
    return plain


def create_wallboard_token(session: Session, tenant_id: int, name: str, site_id: int | None = None) -> str:
    plain = WALLBOARD_TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(WallboardToken(tenant_id=tenant_id, name=name, site_id=site_id, token_hash=hash_token(plain)))
    session.flush()
    return plain


def tenant_of_api_token(session: Session, plain: str) -> int | None:
    """The tenant a live (unrevoked) API token belongs to, or None."""
    return session.scalar(sa.select(ApiToken.tenant_id).where(
        ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None)))


