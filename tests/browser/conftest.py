"""Browser fixtures: the real app served by dash_duo in a thread, and Chromium through it.

In CI (NOC_TEST_REQUIRE_SERVICES=1) a machine without Chromium fails these tests instead of
skipping them: a green run must have driven a real browser."""
from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.conftest import unavailable
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def _chromium() -> None:
    # Autouse: runs before dash_duo, which would otherwise error (not skip) without a driver.
    if shutil.which("chromedriver") is None or not (shutil.which("chromium") or shutil.which("google-chrome")):
        unavailable("Chromium and chromedriver (`make browser` installs them)")


def _free_port() -> int:
    # dash.testing counts ports up from 8050, which `make run` or a parallel test run may hold.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_url(app: Flask, dash_duo: Any) -> str:
    """The app (PostgreSQL + Redis of the test session) serving on a local port."""
    # The app lives for the session, its live channel too; but dash_duo stops its server by
    # raising SystemExit in every thread started after the server's, which would kill the
    # channel's listener for the browser tests that follow (their walls and pages would get no
    # events). Started first, its threads predate the server's and are spared.
    app.extensions["noc_live"].ensure_started()
    dash_duo.start_server(app.extensions["noc_dash"], navigate=False, port=_free_port())
    return dash_duo.server.url


@pytest.fixture
def sign_in(dash_duo: Any, live_url: str) -> Callable[..., None]:
    """Signs in through the real login form, as a person would, and ends on the loaded app."""
    def sign_in(email: str, password: str = PASSWORD) -> None:
        dash_duo.driver.get(live_url + "/")
        dash_duo.wait_for_element("#login-form")  # the guard sent us to /login
        dash_duo.find_element("#email").send_keys(email)
        dash_duo.find_element("#password").send_keys(password)
        dash_duo.find_element("#login-submit").click()
        dash_duo.wait_for_element("#react-entry-point")
        dash_duo.server_url = live_url  # lets dash_duo's helpers know the app (reloads it, signed in)
    return sign_in
