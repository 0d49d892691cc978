"""Open sockets do not outlive access: a deactivated user, a revoked wallboard token and a
signed-out session lose their sockets (close code 4401), and cannot open new ones."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from backend.enums import Role
from backend.models import User, WallboardToken
from backend.runtime import Runtime
from tests.factories import World, make_world
from tests.live.client import Closed, LiveClient, cookie_header, handshake_status, login_session
from tests.live.publishing import publish
from tests.live.server import WebServer

SESSION_ENDED = 4401


@pytest.fixture
def world(pg_runtime: Runtime) -> World:
    """A fresh tenant per test: these tests deactivate users and revoke tokens."""
    return make_world(pg_runtime)


def _expect_close(client: LiveClient, timeout: float = 5.0) -> Closed:
    with pytest.raises(Closed) as closed:
        client.wait_for(lambda c: False, timeout=timeout)
    return closed.value


def test_a_deactivated_users_and_a_revoked_tokens_sockets_are_closed(
        pg_runtime: Runtime, live_server: WebServer, world: World, connect: Callable[..., LiveClient],
        login: Callable[[str], str]) -> None:
    email = world.users[Role.SUPERVISOR]
    cookie = login(email)
    user_socket = connect(cookie)
    wall_socket = connect(query=f"wallboard_token={world.wallboard_token}")
    bystander = connect(login(world.users[Role.OPERATOR]))
    with pg_runtime.transaction() as session:
        session.execute(sa.update(User).where(User.email == email).values(active=False))
        session.execute(sa.update(WallboardToken).where(WallboardToken.tenant_id == world.tenant_id)
                        .values(revoked_at=datetime.now(UTC)))
    assert _expect_close(user_socket).code == SESSION_ENDED   # re-checked every second in tests
    assert _expect_close(wall_socket).code == SESSION_ENDED
    assert handshake_status(live_server.ws_url, cookie=cookie) == 401
    assert handshake_status(f"{live_server.ws_url}?wallboard_token={world.wallboard_token}") == 401
    bystander.wait_for_ids(set(publish(pg_runtime, world.tenant_id)))  # still open and served


def test_signing_out_closes_the_sessions_sockets_in_every_process(
        live_server: WebServer, world: World, connect: Callable[..., LiveClient]) -> None:
    browser = login_session(live_server.url, world.users[Role.OPERATOR])
    tabs = [connect(cookie_header(browser)) for _ in range(4)]  # likely on both processes
    started = time.monotonic()
    browser.get(f"{live_server.url}/logout", timeout=10)  # and on to /login, as a browser does
    assert time.monotonic() - started < 1.0  # no worker stalls on the sockets closing (see endpoint._release)
    for tab in tabs:
        # Immediately, through the control stream: the periodic re-check would not close these
        # (the user is still active).
        assert _expect_close(tab, timeout=3).code == SESSION_ENDED
    assert handshake_status(live_server.ws_url, cookie=cookie_header(browser)) == 401
