"""The JS bridge (assets/live.js) in real Chromium: it connects once signed in, shows "Live",
writes events into the shell's stores so Dash callbacks see them, and after a dropped socket
reconnects and resumes from its cursor (the events of the gap arrive, none twice), with a clean
console. The app gets the live stores in its layout here, as the shell will have them."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dash
import pytest
from dash import Input, Output, State, dcc, html
from dash.testing.wait import until
from flask import Flask

from backend.enums import Role
from backend.live import live_metrics
from backend.runtime import Runtime
from components.live import live_status_badge, live_stores, new_live_events
from components.live_ids import LIVE_BADGE, LIVE_EVENTS, LIVE_RESYNC
from tests.browser.conftest import _chromium, _free_port  # noqa: F401 - the browser suite's Chromium check
from tests.factories import PASSWORD, World
from tests.live.publishing import publish

pytestmark = pytest.mark.browser

SEEN = "live-test-seen"      # a page-like callback's view of LIVE_EVENTS: every event id, in order
SEEN_SEQ = "live-test-seq"   # the last seq that callback handled (a page keeps it the same way)
RESYNCS = "live-test-resyncs"


def _add_page_like_callbacks(dash_app: dash.Dash) -> None:
    """What a page does with the stores, on this app only (server-side, as pages are)."""
    @dash_app.callback(Output(SEEN, "children"), Output(SEEN_SEQ, "data"),
                       Input(LIVE_EVENTS, "data"), State(SEEN, "children"), State(SEEN_SEQ, "data"))
    def take_new_events(data: Any, shown: str | None, last_seq: int | None) -> tuple[str, int | None]:
        fresh, seq, gap = new_live_events(data, last_seq)
        assert not gap
        return json.dumps(json.loads(shown or "[]") + [event["id"] for event in fresh]), seq

    @dash_app.callback(Output(RESYNCS, "children"), Input(LIVE_RESYNC, "data"))
    def show_resync(data: Any) -> str:
        return data["reason"] if data else ""


@pytest.fixture
def bridge_app(pg_runtime: Runtime) -> Iterator[Flask]:
    from app import create_app

    server = create_app(pg_runtime.settings)
    server.extensions["noc_runtime"] = pg_runtime
    dash_app = server.extensions["noc_dash"]
    dash_app.layout = lambda: html.Div([*live_stores(), live_status_badge(), html.Pre(id=SEEN),
                                        dcc.Store(id=SEEN_SEQ), html.Pre(id=RESYNCS), dash.page_container])
    _add_page_like_callbacks(dash_app)
    yield server
    server.extensions["noc_live"].stop()


def _seen_ids(dash_duo: Any) -> list[int]:
    text = dash_duo.find_element(f"#{SEEN}").text
    return json.loads(text) if text else []


def test_the_bridge_goes_live_feeds_the_stores_and_resumes_after_a_drop(
        dash_duo: Any, bridge_app: Flask, pg_runtime: Runtime, world: World) -> None:
    dash_duo.start_server(bridge_app.extensions["noc_dash"], navigate=False, port=_free_port())
    url = dash_duo.server.url
    dash_duo.driver.get(url + "/")
    dash_duo.wait_for_element("#login-form")
    dash_duo.find_element("#email").send_keys(world.users[Role.OPERATOR])
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#login-submit").click()
    dash_duo.wait_for_text_to_equal(f"#{LIVE_BADGE}", "Live", timeout=10)
    dash_duo.wait_for_text_to_equal(f"#{RESYNCS}", "connected")  # first connect: pages reload once

    first = publish(pg_runtime, world.tenant_id, 3)
    until(lambda: _seen_ids(dash_duo) == first, timeout=5, msg=lambda: f"saw {_seen_ids(dash_duo)}")
    until(lambda: "last event" in dash_duo.find_element(f"#{LIVE_BADGE}").get_attribute("title"), timeout=3)

    # The socket drops; events are published while it is down; the bridge comes back and resumes.
    dash_duo.driver.execute_script("window.nocLive.stopped = true; window.nocLive.ws.close();")
    dash_duo.wait_for_text_to_equal(f"#{LIVE_BADGE}", "Reconnecting…")
    missed = publish(pg_runtime, world.tenant_id, 5)
    dash_duo.driver.execute_script("window.nocLive.stopped = false; window.nocLive.reconnectNow();")
    dash_duo.wait_for_text_to_equal(f"#{LIVE_BADGE}", "Live")
    until(lambda: _seen_ids(dash_duo) == first + missed, timeout=5, msg=lambda: f"saw {_seen_ids(dash_duo)}")

    assert dash_duo.driver.execute_script("return window.nocLive.cursor") >= missed[-1]
    assert dash_duo.get_logs() == []

    # This server's hub runs in this process: its metrics saw all of it.
    figures = live_metrics()
    assert figures["connections"] == 1 and figures["connections_total"] >= 2
    assert figures["replayed"] >= len(missed) and figures["delivered"] >= len(first)
    assert figures["delivery_latency_ms"]["count"] == figures["delivered"]
