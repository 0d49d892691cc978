"""Users: creation, password check, loading a session's principal."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from backend.auth.principal import Principal
from backend.auth.tokens import hash_token
from backend.enums import Role
from backend.models import User, WallboardToken

# A hash to check against when the e-mail is unknown, so a wrong e-mail costs the same time
# as a wrong password (no user enumeration by timing).
_DUMMY_HASH = generate_password_hash("not-a-password")


def create_user(session: Session, tenant_id: int, email: str, name: str, password: str,
                role: Role, site_id: int | None = None) -> User:
    if len(password) < 8:
        raise ValueError("password: at least 8 characters")
    user = User(tenant_id=tenant_id, email=email.strip().lower(), name=name, role=role,
                site_id=site_id, password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    return user


def principal_of(user: User) -> Principal:
    return Principal(tenant_id=user.tenant_id, role=user.role, name=user.name,
                     user_id=user.id, site_id=user.site_id)


def authenticate(session: Session, email: str, password: str) -> Principal | None:
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return principal_of(user) if check_password_hash(user.password_hash, password) else None


def load_principal(session: Session, session_id: str) -> Principal | None:
    """Rebuild the principal behind a login session id (``u:<user>`` or ``w:<wallboard token>``).
    A deactivated user or revoked token loads as nobody, which logs the session out."""
    kind, _, raw = session_id.partition(":")
    if not raw.isdigit():
        return None
    if kind == "u":
        user = session.get(User, int(raw))
        return principal_of(user) if user is not None and user.active else None
    if kind == "w":
        token = session.get(WallboardToken, int(raw))
        if token is None or token.revoked_at is not None:
            return None
        return Principal(tenant_id=token.tenant_id, role=Role.VIEWER, name=token.name,
                         site_id=token.site_id, wallboard_token_id=token.id)
    return None


def wallboard_principal(session: Session, plain: str) -> Principal | None:
    token = session.scalar(sa.select(WallboardToken).where(
        WallboardToken.token_hash == hash_token(plain), WallboardToken.revoked_at.is_(None)))
    if token is None:
        return None
    return Principal(tenant_id=token.tenant_id, role=Role.VIEWER, name=token.name,
                     site_id=token.site_id, wallboard_token_id=token.id)
