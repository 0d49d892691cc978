"""A site's page: its signals against baseline bands (anomalous windows shaded), findings,
incidents, tickets, who is on site with their risk, and its tours' compliance.

Live: a ``finding_created`` / ``incident_correlated`` event of this site is prepended to its
list (and an activity finding shades its window on the figure) with ``dash.Patch``, without a
read; any event of the site marks the rest stale (tickets, persons' scores, tours, header),
re-read on the next check (every 5 s; every 60 s regardless). The figure is rebuilt every
10 min (hourly points) and on a resync."""
from __future__ import annotations

import time
from typing import Any

import dash
from dash import Input, Output, Patch, State, callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from backend.queries.site_live import below_baseline_window, finding_from_event, incident_from_event
from backend.queries.sites import site_detail
from backend.web_context import current_runtime, read_as_current_user
from components import ids
from components.live import new_live_events
from components.live_ids import LIVE_EVENTS, LIVE_RESYNC
from components.sites import (finding_row, findings_list, incident_row, incidents_list, persons_table, signals_figure,
                              site_header, site_not_found, site_page, tickets_table, tours_table, window_shape)

dash.register_page(__name__, path_template="/sites/<site_id>", name="Site", title="Site · NOC Intelligence",
                   nav=False)

PARTIAL_EVERY_S = 60.0      # tickets, persons, tours re-read at least this often
FULL_EVERY_S = 600.0        # the hourly signals figure and the lists re-read this often
MAX_SHOWN_KEYS = 200


def parse_site_id(value: Any) -> int | None:
    """The path segment as a site id: digits only (anything else is simply not a site)."""
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) <= 18 else None


def layout(site_id: str | None = None, **_query: str) -> html.Div:
    return site_page(parse_site_id(site_id))


def _valid_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@callback(Output(ids.SITE_BODY, "hidden"), Output(ids.SITE_NOT_FOUND, "children"), Output(ids.SITE_HEADER, "children"),
          Output(ids.SITE_SIGNALS, "figure"), Output(ids.SITE_FINDINGS, "children"),
          Output(ids.SITE_INCIDENTS, "children"), Output(ids.SITE_TICKETS, "children"),
          Output(ids.SITE_PERSONS, "children"), Output(ids.SITE_TOURS, "children"),
          Output(ids.SITE_SHOWN, "data"), Output(ids.SITE_DIRTY, "data"),
          Input(ids.SITE_ID, "data"), Input(ids.SITE_TICK, "n_intervals"), Input(LIVE_RESYNC, "data"),
          State(ids.SITE_DIRTY, "data"), State(ids.SITE_SHOWN, "data"))
def render(site_value: Any, _tick: Any, _resync: Any, dirty: bool | None, shown: dict[str, Any] | None) -> tuple[Any, ...]:
    site_id = _valid_id(site_value)
    if site_id is None:
        raise PreventUpdate   # the layout already says "not found"
    now = time.time()
    shown = shown if isinstance(shown, dict) else {}
    full = ctx.triggered_id != ids.SITE_TICK or now - shown.get("full_at", 0) >= FULL_EVERY_S
    if not full and not dirty and now - shown.get("at", 0) < PARTIAL_EVERY_S:
        raise PreventUpdate
    detail = read_as_current_user(site_detail, site_id, settings=current_runtime().settings, with_signals=full)
    if detail is None:
        return (True, site_not_found(), *([no_update] * 7), None, False)
    tz = detail.summary.timezone
    sections = (site_header(detail),
                signals_figure(detail.signals) if full else no_update,
                findings_list(detail.findings) if full else no_update,
                incidents_list(detail.incidents, tz) if full else no_update,
                tickets_table(detail.tickets, site_id, tz),
                persons_table(detail.persons, tz, scores_hidden=detail.scores_hidden, flag_score=detail.flag_score),
                tours_table(detail.tours))
    keys = ([f"finding:{f.id}" for f in detail.findings] + [f"incident:{i.id}" for i in detail.incidents]
            if full else shown.get("keys", []))
    new_shown = {"at": now, "full_at": now if full else shown.get("full_at", now), "timezone": tz, "keys": keys,
                 "findings": len(detail.findings) if full else shown.get("findings", 0),
                 "incidents": len(detail.incidents) if full else shown.get("incidents", 0)}
    return (False, None, *sections, new_shown, False)


@callback(Output(ids.SITE_FINDINGS, "children", allow_duplicate=True),
          Output(ids.SITE_INCIDENTS, "children", allow_duplicate=True),
          Output(ids.SITE_SIGNALS, "figure", allow_duplicate=True), Output(ids.SITE_DIRTY, "data", allow_duplicate=True),
          Output(ids.SITE_SHOWN, "data", allow_duplicate=True), Output(ids.SITE_SEQ, "data"),
          Input(LIVE_EVENTS, "data"), State(ids.SITE_ID, "data"), State(ids.SITE_SEQ, "data"),
          State(ids.SITE_SHOWN, "data"), prevent_initial_call=True)
def live(data: dict[str, Any] | None, site_value: Any, seq: int | None, shown: dict[str, Any] | None) -> tuple[Any, ...]:
    """Prepends this site's new findings and incidents (no read); marks the rest stale."""
    events, seq, gap = new_live_events(data, seq)
    site_id = _valid_id(site_value)
    mine = [e for e in events if isinstance(e, dict) and e.get("site") == site_id]
    if site_id is None or not isinstance(shown, dict) or not (mine or gap):
        return no_update, no_update, no_update, no_update, no_update, seq
    if gap:   # events were missed: the next check re-reads everything
        return no_update, no_update, no_update, True, {**shown, "full_at": 0}, seq
    tz, keys = shown.get("timezone") or "UTC", list(shown.get("keys", []))
    findings, incidents, shapes = [], [], []
    for env in mine:
        finding, incident = finding_from_event(env, tz), incident_from_event(env)
        if finding is not None and f"finding:{finding.id}" not in keys:
            findings.append(finding)
            keys.append(f"finding:{finding.id}")
            window = below_baseline_window(finding)
            if window is not None:
                shapes.append(window_shape(window, tz))
        if incident is not None and f"incident:{incident.id}" not in keys:
            incidents.append(incident)
            keys.append(f"incident:{incident.id}")
    new_shown = {**shown, "keys": keys[-MAX_SHOWN_KEYS:], "findings": shown.get("findings", 0) + len(findings),
                 "incidents": shown.get("incidents", 0) + len(incidents)}
    return (_prepended([finding_row(f, new=True) for f in findings], shown.get("findings", 0)),
            _prepended([incident_row(i, tz, new=True) for i in incidents], shown.get("incidents", 0)),
            _appended_shapes(shapes), True, new_shown, seq)


def _prepended(rows: list[Any], already: int) -> Any:
    """A Patch putting ``rows`` (oldest first) on top; the rows themselves when the list only
    showed its empty state."""
    if not rows:
        return no_update
    if not already:
        return list(reversed(rows))
    patch = Patch()
    for row in rows:
        patch.prepend(row)
    return patch


def _appended_shapes(shapes: list[dict[str, Any]]) -> Any:
    if not shapes:
        return no_update
    patch = Patch()
    for shape in shapes:
        patch["layout"]["shapes"].append(shape)
    return patch
