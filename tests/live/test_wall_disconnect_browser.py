"""The wall display across a web server outage, in real Chromium against real gunicorn: stopping
the server makes the whole wall say "Disconnected"; starting it again (same address) clears
that by itself, and the events published meanwhile appear in the feed, without a reload."""
from __future__ import annotations

from typing import Any

import pytest
from dash.testing.wait import until

from backend.enums import EventType, Severity
from backend.runtime import Runtime
from components import ids
from tests.browser.conftest import _chromium  # noqa: F401 - the browser suite's Chromium check
from tests.conftest import TEST_VAR
from tests.factories import World
from tests.live.conftest import LIVE_TEST_ENV
from tests.live.publishing import publish
from tests.live.server import free_port, gunicorn

pytestmark = pytest.mark.browser

# What Chromium itself logs while the server is down (the socket's retries, the bridge's
# session check); anything else in the console is a bug.
OUTAGE_NOISE = ("ERR_CONNECTION_REFUSED", "ERR_CONNECTION_RESET", "ERR_EMPTY_RESPONSE")


def _js(dash_duo: Any, script: str) -> Any:
    return dash_duo.driver.execute_script(script)


def _feed(dash_duo: Any) -> str:
    return _js(dash_duo, f"return document.getElementById('{ids.WALL_FEED}').innerText")


def _overlay(dash_duo: Any) -> tuple[str, str]:
    return tuple(_js(dash_duo, f"const o = document.getElementById('{ids.WALL_OVERLAY}');"
                               "return [o.className, o.innerText]"))


def _alert(runtime: Runtime, world: World, message: str) -> list[int]:
    return publish(runtime, world.tenant_id, type=EventType.ALERT_RECEIVED, site_id=world.site_ids["S1"],
                   severity=Severity.HIGH, data={"kind": "intrusion", "message": message})


def test_the_wall_says_disconnected_then_recovers_with_the_missed_events(
        dash_duo: Any, pg_runtime: Runtime, world: World) -> None:
    port, log = free_port(), TEST_VAR / "live" / "wall-gunicorn.log"

    def serve() -> Any:
        return gunicorn(pg_runtime.settings, log, workers=1, threads=16, extra_env=LIVE_TEST_ENV, port=port)

    with serve() as server:
        dash_duo.driver.get(f"{server.url}/wall?kiosk=1&wallboard_token={world.wallboard_token}")
        dash_duo.wait_for_element(f"#{ids.WALL_TILES}")
        until(lambda: _js(dash_duo, "return window.nocLive && window.nocLive.state") == "live", timeout=10)
        _alert(pg_runtime, world, "before the outage")
        until(lambda: "before the outage" in _feed(dash_duo), timeout=5)
        assert "show" not in _overlay(dash_duo)[0]
        _js(dash_duo, "window.__sameDocument = true")
        logs = dash_duo.get_logs()
        assert logs == [], "\n".join(str(entry) for entry in logs)

    # The server is gone: the whole wall says so.
    until(lambda: "show" in _overlay(dash_duo)[0], timeout=10, msg=lambda: f"overlay {_overlay(dash_duo)}")
    assert "Disconnected" in _overlay(dash_duo)[1]
    missed = _alert(pg_runtime, world, "missed while down 1") + _alert(pg_runtime, world, "missed while down 2")

    with serve():
        # Back by itself (the bridge retries with backoff), resumed from its cursor.
        until(lambda: "show" not in _overlay(dash_duo)[0], timeout=40, poll=0.5,
              msg=lambda: f"overlay {_overlay(dash_duo)}")
        until(lambda: "missed while down 2" in _feed(dash_duo), timeout=10, msg=lambda: _feed(dash_duo))
        rows = _js(dash_duo, f"return Array.from(document.querySelectorAll('#{ids.WALL_FEED} .wall-event'))"
                             ".map(r => Number(r.dataset.id))")
        assert rows[:2] == missed[::-1], "newest first, each once"
        assert rows.count(missed[0]) == 1
        assert _js(dash_duo, "return window.__sameDocument") is True, "recovered without a reload"
        assert _js(dash_duo, "return window.nocLive.cursor") >= missed[-1]
        logs = dash_duo.get_logs()
        unexpected = [entry for entry in logs if not any(noise in entry["message"] for noise in OUTAGE_NOISE)]
        assert unexpected == [], "\n".join(str(entry) for entry in unexpected)

        # And it stays live: the next event arrives as usual, with a clean console.
        _alert(pg_runtime, world, "after the outage")
        until(lambda: "after the outage" in _feed(dash_duo), timeout=5)
        logs = dash_duo.get_logs()
        assert logs == [], "\n".join(str(entry) for entry in logs)
    assert "Traceback" not in log.read_text(errors="replace")
