"""Who is asking and with what, inside a web request or Dash callback.

Pages call ``read_as_current_user(query, ...)`` and never see a session: the read query gets a
short-lived session and the signed-in principal, and its result (plain schemas) comes back.
Services that write or use Redis go through ``act_as_current_user(service, ...)``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from flask import current_app
from flask_login import current_user
from sqlalchemy.orm import Session

from backend.auth.principal import Principal
from backend.runtime import Runtime

P = ParamSpec("P")
T = TypeVar("T")


class NotSignedIn(PermissionError):
    """A request reached a data read without a principal: the guard should have refused it."""


def current_principal() -> Principal:
    # The before_request guard already refuses anonymous requests; checking again here means a
    # route that slipped past it still reads nothing.
    user = current_user._get_current_object()  # unwrap Flask-Login's proxy
    if not isinstance(user, Principal) or not user.is_authenticated:
        raise NotSignedIn("no signed-in user in this request")
    return user


def current_principal_or_none() -> Principal | None:
    """For chrome that renders either way (the navbar): the principal, or None."""
    try:
        return current_principal()
    except (NotSignedIn, RuntimeError):  # RuntimeError: outside a request
        return None


def current_runtime() -> Runtime:
    return current_app.extensions["noc_runtime"]


def read_as_current_user(query: Callable[Concatenate[Session, Principal, P], T],
                         *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a read query (``query(session, principal, ...)``) for the signed-in user.

    The session is closed (rolled back) afterwards, never committed."""
    principal = current_principal()
    with current_runtime().read() as session:
        return query(session, principal, *args, **kwargs)


def act_as_current_user(service: Callable[Concatenate[Runtime, Principal, P], T],
                        *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a service that needs more than a read session (writes, Redis, queues) as the
    signed-in user: ``service(runtime, principal, ...)``. The service checks the role."""
    return service(current_runtime(), current_principal(), *args, **kwargs)
