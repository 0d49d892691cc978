"""The live bridge's side of the app shell: the stores assets/live.js writes events and the
connection status into, the status badge, and the two clientside callbacks that start the
bridge and draw the badge (README "Live channel").

The stores must be in the shell, not in a page: the bridge outlives page changes, and
``set_props`` on an id missing from the layout throws (STACK.md)."""
from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, clientside_callback, dcc

from components.live_ids import LIVE_BADGE, LIVE_CONFIG, LIVE_EVENTS, LIVE_RESYNC, LIVE_STATUS

WS_PATH = "/ws"          # the socket route (backend.live.protocol.WS_PATH; a test keeps them equal)
WINDOW_MS = 5000         # live-events keeps the events of the last 5 s ...
WINDOW_MAX = 500         # ... at most this many


def live_stores(ws_path: str = WS_PATH) -> list[dcc.Store]:
    """The stores to put in the app shell once (memory only: nothing outlives the page)."""
    config = {"url": ws_path, "window_ms": WINDOW_MS, "window_max": WINDOW_MAX,
              "ids": {"events": LIVE_EVENTS, "status": LIVE_STATUS, "resync": LIVE_RESYNC}}
    return [dcc.Store(id=LIVE_CONFIG, data=config), dcc.Store(id=LIVE_EVENTS),
            dcc.Store(id=LIVE_STATUS, data={"state": "connecting"}), dcc.Store(id=LIVE_RESYNC)]


def live_status_badge() -> dbc.Badge:
    """Live / Reconnecting… / Offline, with the time of the last event in its tooltip."""
    return dbc.Badge("Connecting…", id=LIVE_BADGE, color="secondary", pill=True, className="live-badge",
                     title="Live updates: connecting")


def new_live_events(data: dict[str, Any] | None, last_seq: int | None) -> tuple[list[dict[str, Any]], int | None, bool]:
    """For page callbacks on ``LIVE_EVENTS``: (events after ``last_seq``, the seq to keep, gap).
    ``gap`` is True when events after ``last_seq`` already left the window: reload the view.
    The first call (``last_seq`` None) takes the whole window without calling it a gap."""
    if not data or not data.get("events"):
        return [], last_seq, False
    events, seq, first = data["events"], int(data["seq"]), int(data["first_seq"])
    if last_seq is None:
        return list(events), seq, False
    if seq <= last_seq:
        return [], last_seq, False
    gap = first > last_seq + 1
    return list(events[max(0, last_seq + 1 - first):]), seq, gap


# Registered once with the pages' callbacks (app.py hands them to every app): start the one
# bridge of the page when the shell renders, and redraw the badge when the status changes.
# ``start`` returns no_update; the output is there because tools that read the callback map
# (tests/web.py) expect every callback to name one.
clientside_callback(ClientsideFunction(namespace="nocLive", function_name="start"),
                    Output(LIVE_STATUS, "data"), Input(LIVE_CONFIG, "data"))
clientside_callback(ClientsideFunction(namespace="nocLive", function_name="badge"),
                    Output(LIVE_BADGE, "children"), Output(LIVE_BADGE, "color"), Output(LIVE_BADGE, "title"),
                    Input(LIVE_STATUS, "data"))
