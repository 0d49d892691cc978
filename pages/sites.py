"""Sites: every site the user may see, with its risk, open tickets, tour compliance and last
activity; sortable; a row's name opens the site's page. Live: an event marks the table stale
and it is re-read on the next check (every 5 s), otherwise every 30 s (last activity ages)."""
from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import dash
from dash import Input, Output, State, callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from backend.queries.sites import sites_overview
from backend.web_context import current_runtime, read_as_current_user
from components import ids
from components.live import new_live_events
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC
from components.sites import sites_empty, sites_page, sites_status, sites_table_rows

dash.register_page(__name__, path="/sites", name="Sites", title="Sites · NOC Intelligence", order=20)

STALE_AFTER_S = 30.0   # re-read this often even without live events


def layout(**_query: str) -> html.Div:
    return sites_page(current_runtime().settings.scoring_anomaly_threshold)


@callback(Output(ids.SITES_TABLE, "data"), Output(ids.SITES_TABLE_WRAP, "hidden"), Output(ids.SITES_EMPTY, "children"),
          Output(ids.SITES_STATUS, "children"), Output(ids.SITES_SHOWN, "data"), Output(ids.SITES_DIRTY, "data"),
          Input(ids.SITES_TICK, "n_intervals"), State(ids.SITES_DIRTY, "data"), State(ids.SITES_SHOWN, "data"))
def refresh(tick: int | None, dirty: bool | None, shown: dict[str, Any] | None) -> tuple[Any, ...]:
    read_at = shown.get("at") if isinstance(shown, dict) else None
    if tick is not None and not dirty and isinstance(read_at, (int, float)) and time.time() - read_at < STALE_AFTER_S:
        raise PreventUpdate   # nothing happened and the table is fresh: no query (HTTP 204)
    settings = current_runtime().settings
    now = datetime.now(UTC)
    rows = read_as_current_user(sites_overview, settings=settings, now=now)
    status = sites_status(rows, now, settings.scoring_anomaly_threshold)
    return (sites_table_rows(rows, now), not rows, None if rows else sites_empty(), status,
            {"at": time.time()}, False)


# No database here: a live event only marks the table stale; the tick above re-reads it, so a
# burst of events costs one read every few seconds at most.
@callback(Output(ids.SITES_DIRTY, "data", allow_duplicate=True), Output(ids.SITES_SEQ, "data"),
          Input(LIVE_EVENTS, "data"), Input(LIVE_RESYNC, "data"), State(ids.SITES_SEQ, "data"),
          prevent_initial_call=True)
def mark_stale(live: dict[str, Any] | None, _resync: Any, seq: int | None) -> tuple[Any, Any]:
    events, seq, gap = new_live_events(live, seq)
    stale = ctx.triggered_id == LIVE_RESYNC or gap or bool(events)
    return (True if stale else no_update), seq
