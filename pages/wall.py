"""Wall display (``/wall``): KPI tiles, the live event feed, the riskiest guards and a site map
coloured by risk, for a NOC screen watched for days (README "Wall display").

Live: events from the socket are patched into the feed as they arrive; events that change the
tiles ask for a tile refresh, which assets/wall.js throttles; a resync (or a gap) reloads the
view. Kiosk mode and rotation (``?kiosk=1&rotate=wall,feed&every=30``) run in the browser."""
from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, ctx
from dash.exceptions import PreventUpdate

from backend.enums import EventType
from backend.queries.wall import MAX_FEED, describe_live_events, wall_feed, wall_view
from backend.web_context import current_principal, current_runtime, read_as_current_user
from components import ids
from components.live import new_live_events
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC
from components.wall import (FEED_MAX, feed_patch, feed_rows, kpi_tiles, map_key, map_patch, person_list, site_map,
                             wall_page)

dash.register_page(__name__, path="/wall", name="Wall", title="Wall · NOC Intelligence", order=10)

# Events that change a tile (the rest only join the feed).
TILE_EVENTS = frozenset({EventType.TICKET_CREATED.value, EventType.TICKET_UPDATED.value,
                         EventType.ANOMALY_DETECTED.value, EventType.FINDING_CREATED.value})


def layout(**_query: str) -> Any:
    # kiosk/rotate/every are read by assets/wall.js; the server view is the same either way.
    view = read_as_current_user(wall_view, settings=current_runtime().settings, feed_limit=FEED_MAX)
    principal = current_principal()
    scope = "one site" if principal.site_id is not None else "all sites"
    sites = {s.site_id: s.name for s in view.sites}
    if principal.site_id is not None and principal.site_id in sites:
        scope = sites[principal.site_id]
    return wall_page(view, scope=scope)


def _feed_state(value: Any) -> tuple[int | None, list[int]]:
    # From the browser: keep only what has the expected shape.
    value = value if isinstance(value, dict) else {}
    seq = value.get("seq")
    shown = value.get("ids")
    return (seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
            [i for i in shown if isinstance(i, int) and not isinstance(i, bool)][:FEED_MAX]
            if isinstance(shown, list) else [])


def _dirty(value: Any) -> int:
    return value + 1 if isinstance(value, int) and not isinstance(value, bool) else 1


@callback(Output(ids.WALL_FEED, "children"), Output(ids.WALL_FEED_STATE, "data"), Output(ids.WALL_DIRTY, "data"),
          Input(LIVE_EVENTS, "data"), Input(LIVE_RESYNC, "data"),
          State(ids.WALL_FEED_STATE, "data"), State(ids.WALL_DIRTY, "data"), prevent_initial_call=True)
def on_live(live: Any, _resync: Any, feed_state: Any, dirty: Any) -> tuple[Any, Any, Any]:
    last_seq, shown = _feed_state(feed_state)
    fresh, seq, gap = new_live_events(live if isinstance(live, dict) else None, last_seq)
    if ctx.triggered_id == LIVE_RESYNC or gap:
        # The view may have missed events: reload the feed now, the tiles through the throttle.
        view = read_as_current_user(wall_feed, settings=current_runtime().settings, limit=FEED_MAX)
        return (feed_rows(view.events, now=view.as_of), {"seq": seq, "ids": [e.id for e in view.events[:FEED_MAX]]},
                _dirty(dirty))
    new = [e for e in fresh if isinstance(e, dict) and e.get("id") not in shown]   # a reload may have them
    if not new:
        if seq == last_seq:
            raise PreventUpdate
        return dash.no_update, {"seq": seq, "ids": shown}, dash.no_update
    events = read_as_current_user(describe_live_events, new[-MAX_FEED:], settings=current_runtime().settings)
    patch, _ = feed_patch(events, len(shown))
    ids_now = ([e.id for e in reversed(events)] + shown)[:FEED_MAX]
    touches_tiles = any(e.get("type") in TILE_EVENTS for e in new)
    return patch, {"seq": seq, "ids": ids_now}, _dirty(dirty) if touches_tiles else dash.no_update


@callback(Output(ids.WALL_TILES, "children"), Output(ids.WALL_PERSONS, "children"), Output(ids.WALL_MAP, "figure"),
          Output(ids.WALL_MAP_KEY, "data"), Output(ids.WALL_UPDATED_AT, "data"),
          Input(ids.WALL_REFRESH, "data"), Input(ids.WALL_SLOW_TICK, "n_intervals"), State(ids.WALL_MAP_KEY, "data"),
          prevent_initial_call=True)
def refresh(_refresh: Any, _tick: Any, shown_key: Any) -> tuple[Any, ...]:
    view = read_as_current_user(wall_view, settings=current_runtime().settings)
    threshold = view.tiles.risk_threshold
    key = map_key(view.sites)
    figure = map_patch(view.sites, threshold) if key == shown_key else site_map(view.sites, threshold)
    return (kpi_tiles(view.tiles), person_list(view.persons, threshold), figure, key,
            view.as_of.isoformat() if view.as_of else dash.no_update)
