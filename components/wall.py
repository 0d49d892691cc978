"""The wall display's pieces: KPI tiles, the event feed, the riskiest guards, the site map
coloured by risk, the "Disconnected" cover, and the clientside callbacks of assets/wall.js.

Pure factories over ``backend.queries.wall_schemas``; sized in rem, so kiosk mode's root font
size (assets/app.css, from the viewport width) scales the whole wall from 1080p to 4K."""
from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, Patch, State, clientside_callback, dcc, html
from plotly.subplots import make_subplots

from backend.enums import Severity
from backend.queries.wall_schemas import WallEvent, WallPerson, WallSite, WallTiles, WallView
from components import ids
from components.event_parts import event_clock, event_what
from components.live_ids import LIVE_EVENTS, LIVE_STATUS

FEED_MAX = 40                      # rows kept in the feed: the DOM stays bounded for days
NEW_FOR = timedelta(minutes=3)     # how long a new feed row stands out (CSS animation length too)
REFRESH_THROTTLE_MS = 3000         # tiles re-read at most this often when events arrive
SLOW_REFRESH_MS = 60_000           # ... and this often anyway (windows slide, rosters turn)
MAP_COLUMNS = 2

SEVERITY_COLORS: dict[Severity | None, str] = {Severity.CRITICAL: "danger", Severity.HIGH: "warning",
                                              Severity.MEDIUM: "info", Severity.LOW: "secondary", None: "secondary"}
# Site risk bands, readable across a room: nothing scored, honest, flagged, at risk.
RISK_COLORS = {"none": "#5a5f66", "ok": "#00bc8c", "flagged": "#f39c12", "at_risk": "#e74c3c"}


# -- tiles -------------------------------------------------------------------------------------

def _tile(tile_id: str, label: str, value: Any, detail: Any, tone: str = "") -> dbc.Col:
    return dbc.Col(html.Div([html.Div(label, className="wall-tile-label"),
                             html.Div(value, className="wall-tile-value"),
                             html.Div(detail, className="wall-tile-detail")],
                            id=tile_id, className=f"wall-tile {tone}".strip()), className="wall-tile-col")


def _ticket_grid(tiles: WallTiles) -> html.Table:
    head = html.Tr([html.Th(""), html.Th("late", title="SLA breached"), html.Th("due", title="SLA due soon"),
                    html.Th("ok", title="SLA on time")])
    rows = [html.Tr([html.Th(c.priority.value.upper()),
                     html.Td(c.breached, className="text-danger fw-bold" if c.breached else "text-muted"),
                     html.Td(c.due_soon, className="text-warning fw-bold" if c.due_soon else "text-muted"),
                     html.Td(c.on_time, className="text-muted")],
                    **{"data-priority": c.priority.value})
            for c in tiles.tickets]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="wall-ticket-grid")


def kpi_tiles(tiles: WallTiles) -> list[dbc.Col]:
    """Five tiles: open tickets (by priority x SLA state), anomalies in the last hour, sites at
    risk, guards on duty, tour compliance. Each says what it counts; zeros are shown as zeros."""
    compliance = tiles.tour_compliance
    tours_value = "—" if compliance is None else f"{compliance:.0%}"
    tours_detail = ("no tour round was due in the last 24 h" if compliance is None else
                    f"{tiles.tour_rounds_ok} of {tiles.tour_rounds_due} tour rounds done as due · 24 h")
    tours_tone = "" if compliance is None else ("tone-bad" if compliance < 0.8 else
                                               "tone-warn" if compliance < 0.95 else "tone-good")
    guards_detail = (f"of {tiles.guards_rostered} rostered now" if tiles.guards_rostered else
                     "nobody is rostered now (shifts: PUT /api/v1/shifts)")
    missing = tiles.guards_rostered - tiles.guards_on_duty
    return [
        _tile(ids.WALL_TICKETS_TILE, "Open tickets", tiles.open_tickets, _ticket_grid(tiles),
              "tone-bad" if tiles.breached_tickets else ""),
        _tile(ids.WALL_ANOMALIES_TILE, "Anomalies · last hour", tiles.anomalies,
              f"{tiles.fraud_anomalies} fraud scores · {tiles.audit_findings} audit findings",
              "tone-warn" if tiles.anomalies else ""),
        _tile(ids.WALL_SITES_TILE, "Sites at risk", tiles.sites_at_risk,
              f"of {tiles.sites_total} sites · a check-in scored ≥ {tiles.risk_threshold:.2f} in 24 h"
              if tiles.sites_total else "no active sites yet (PUT /api/v1/sites)",
              "tone-bad" if tiles.sites_at_risk else ""),
        _tile(ids.WALL_GUARDS_TILE, "Guards on duty", tiles.guards_on_duty, guards_detail,
              "tone-warn" if missing > 0 else ""),
        _tile(ids.WALL_TOURS_TILE, "Tour compliance", tours_value, tours_detail, tours_tone),
    ]


# -- the feed ----------------------------------------------------------------------------------

def feed_row(event: WallEvent, *, new: bool) -> html.Div:
    severity = event.severity.value if event.severity else "none"
    return html.Div([
        event_clock(event.local_time, event.time, "%H:%M:%S", "wall-event-time"),
        dbc.Badge(severity if event.severity else event.type.value.split("_")[0],
                  color=SEVERITY_COLORS[event.severity], className="wall-event-badge"),
        html.Div(event_what(event.title, event.summary, event.site_name), className="wall-event-body"),
    ], className=f"wall-event wall-event-{severity}" + (" wall-event-new" if new else ""),
        **{"data-id": str(event.id), "data-type": event.type.value})


def feed_empty() -> html.Div:
    return html.Div([html.I(className="bi bi-broadcast me-2"), html.Strong("No events yet. "),
                     "Anomalies, tickets, audit findings and NOC alerts appear here the moment they happen."],
                    id=ids.WALL_FEED_EMPTY, className="wall-empty")


def feed_rows(events: Sequence[WallEvent], *, now: datetime, new_ids: Collection[int] = ()) -> list[html.Div]:
    """A full feed (first view, reloads): rows younger than ``NEW_FOR`` stand out too."""
    if not events:
        return [feed_empty()]
    return [feed_row(e, new=e.id in new_ids or now - e.time < NEW_FOR) for e in events[:FEED_MAX]]


def feed_patch(fresh: Sequence[WallEvent], shown: int) -> tuple[Patch, int]:
    """Prepend ``fresh`` (oldest first in, so the newest ends on top) to a feed showing
    ``shown`` rows, and drop the rows past ``FEED_MAX``: (patch, rows shown afterwards)."""
    patch = Patch()
    if shown == 0:
        patch.clear()   # the empty state goes
    for event in fresh:
        patch.prepend(feed_row(event, new=True))
    total = shown + len(fresh)
    for index in range(total - 1, FEED_MAX - 1, -1):   # from the end: indices stay valid
        del patch[index]
    return patch, min(total, FEED_MAX)


# -- persons and sites -------------------------------------------------------------------------

def person_list(persons: Sequence[WallPerson], threshold: float) -> html.Div | list[html.Div]:
    if not persons:
        return html.Div([html.I(className="bi bi-shield-check me-2"),
                         f"No guard has a check-in scored ≥ {threshold:.2f} in the last 24 h."], className="wall-empty")
    return [html.Div([
        html.Div(f"{p.score:.2f}", className="wall-person-score"),
        html.Div([html.Div([html.Strong(p.name or p.code), html.Span(f" {p.code}" if p.name else "",
                                                                     className="text-muted")]),
                  html.Div(f"{p.site_name} · {p.flagged} flagged" + (f" · {p.reasons[0]}" if p.reasons else ""),
                           className="wall-person-detail")], className="wall-person-body"),
    ], className="wall-person", **{"data-person": p.code}) for p in persons]


def _band(site: WallSite, threshold: float) -> str:
    if site.risk is None:
        return "none"
    if site.risk >= threshold:
        return "at_risk"
    return "flagged" if site.flagged else "ok"


def _place(timezone: str) -> str:
    """Map panels are the sites' time zones, named by their city: "America/New_York" -> "New York"."""
    return timezone.rsplit("/", 1)[-1].replace("_", " ")


def _panels(sites: Sequence[WallSite]) -> list[tuple[str, list[WallSite]]]:
    ordered = sorted(sites, key=lambda s: (s.timezone, s.code))
    return [(zone, list(members)) for zone, members in groupby(ordered, key=lambda s: s.timezone)]


def map_key(sites: Sequence[WallSite]) -> list[list[Any]]:
    """The map's structure: a refresh with the same key only recolours (``map_patch``)."""
    return [[zone, [s.site_id for s in members]] for zone, members in _panels(sites)]


def _markers(members: Sequence[WallSite], threshold: float) -> dict[str, Any]:
    return {"color": [RISK_COLORS[_band(s, threshold)] for s in members],
            "customdata": [[s.name, "—" if s.risk is None else f"{s.risk:.2f}", s.flagged, s.scored] for s in members]}


def site_map(sites: Sequence[WallSite], threshold: float) -> go.Figure:
    """One panel per time zone (city), sites at their positions, coloured by risk band. Drawn
    without map tiles: wall displays on closed networks render it, and the DOM stays small."""
    figure = go.Figure()
    panels = _panels(sites)
    if not panels:
        figure.add_annotation(text="No active sites: add them with PUT /api/v1/sites", showarrow=False,
                              font={"size": 16, "color": "#adb5bd"})
    else:
        cols = min(MAP_COLUMNS, len(panels))
        rows = math.ceil(len(panels) / cols)
        figure = make_subplots(rows=rows, cols=cols, subplot_titles=[_place(zone) for zone, _ in panels],
                               horizontal_spacing=0.04, vertical_spacing=0.1 if rows > 1 else 0.0)
        for n, (zone, members) in enumerate(panels):
            row, col = n // cols + 1, n % cols + 1
            markers = _markers(members, threshold)
            figure.add_trace(go.Scatter(
                x=[s.lon for s in members], y=[s.lat for s in members], mode="markers+text",
                text=[s.code for s in members], textposition="top center", name=_place(zone),
                textfont={"color": "#dee2e6"}, customdata=markers["customdata"],
                marker={"color": markers["color"], "size": 16, "line": {"width": 1, "color": "#111"}},
                hovertemplate="%{customdata[0]}<br>risk %{customdata[1]} · %{customdata[2]} flagged of "
                              "%{customdata[3]}<extra></extra>"), row=row, col=col)
            mid_lat = sum(s.lat for s in members) / len(members)
            axis = "" if n == 0 else str(n + 1)
            figure.update_yaxes(scaleanchor=f"x{axis}", scaleratio=1 / max(math.cos(math.radians(mid_lat)), 0.1),
                                row=row, col=col)
        figure.update_xaxes(visible=False, automargin=True)
        figure.update_yaxes(visible=False, automargin=True)
    figure.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(255,255,255,0.03)",
                         margin={"l": 8, "r": 8, "t": 28, "b": 8}, showlegend=False, uirevision="wall",
                         font={"size": 13})
    return figure


def map_patch(sites: Sequence[WallSite], threshold: float) -> Patch:
    """Recolour the map in place (same structure as ``map_key`` says)."""
    patch = Patch()
    for n, (_, members) in enumerate(_panels(sites)):
        markers = _markers(members, threshold)
        patch["data"][n]["marker"]["color"] = markers["color"]
        patch["data"][n]["customdata"] = markers["customdata"]
    return patch


# -- the page ----------------------------------------------------------------------------------

def _panel(title: str, body: Any, class_name: str = "") -> html.Div:
    return html.Div([html.Div(title, className="wall-panel-title"), body], className=f"wall-panel {class_name}")


def wall_page(view: WallView, *, scope: str) -> html.Div:
    """The page skeleton with its first view filled in (no waiting for a callback)."""
    now = view.as_of or datetime.now().astimezone()
    return html.Div([
        html.Div([
            html.Div([html.I(className="bi bi-display me-2"), "NOC wall",
                      html.Span(f" · {scope}", className="wall-scope")], className="wall-title"),
            html.Div([html.Span(id=ids.WALL_UPDATED, className="wall-updated"),
                      dbc.Button([html.I(className="bi bi-volume-up me-1"), "Enable sound"], id=ids.WALL_SOUND,
                                 size="sm", color="secondary", outline=True, className="wall-sound",
                                 title="Beep on new high and critical events")],
                     className="wall-header-right"),
        ], className="wall-header"),
        dbc.Row(kpi_tiles(view.tiles), id=ids.WALL_TILES, className="wall-tiles g-2"),
        dbc.Row([
            dbc.Col(_panel("Live events", html.Div(feed_rows(view.events, now=now), id=ids.WALL_FEED,
                                                   className="wall-feed")), lg=5, className="wall-col"),
            dbc.Col(_panel("Sites by risk · 24 h", dcc.Graph(
                id=ids.WALL_MAP, figure=site_map(view.sites, view.tiles.risk_threshold),
                config={"displayModeBar": False, "responsive": True}, className="wall-map")),
                lg=4, className="wall-col"),
            dbc.Col(_panel("Highest-risk guards · 24 h", html.Div(
                person_list(view.persons, view.tiles.risk_threshold), id=ids.WALL_PERSONS)),
                lg=3, className="wall-col"),
        ], className="wall-main g-2"),
        html.Div(id=ids.WALL_OVERLAY, className="wall-overlay"),
        dcc.Store(id=ids.WALL_FEED_STATE, data={"seq": None, "ids": [e.id for e in view.events[:FEED_MAX]]}),
        dcc.Store(id=ids.WALL_MAP_KEY, data=map_key(view.sites)),
        dcc.Store(id=ids.WALL_DIRTY, data=0),
        dcc.Store(id=ids.WALL_REFRESH),
        dcc.Store(id=ids.WALL_UPDATED_AT, data=now.isoformat()),
        dcc.Store(id=ids.WALL_CONFIG, data={"refresh_id": ids.WALL_REFRESH, "throttle_ms": REFRESH_THROTTLE_MS}),
        dcc.Interval(id=ids.WALL_SLOW_TICK, interval=SLOW_REFRESH_MS),
    ], id=ids.WALL, className="wall")


# assets/wall.js: throttle tile refreshes, show the connection state and the "last updated"
# time, and beep (once enabled) on new high/critical events.
clientside_callback(ClientsideFunction(namespace="nocWall", function_name="throttle"),
                    Output(ids.WALL_REFRESH, "data"), Input(ids.WALL_DIRTY, "data"), State(ids.WALL_CONFIG, "data"),
                    prevent_initial_call=True)
clientside_callback(ClientsideFunction(namespace="nocWall", function_name="status"),
                    Output(ids.WALL_OVERLAY, "className"), Output(ids.WALL_OVERLAY, "children"),
                    Output(ids.WALL_SLOW_TICK, "disabled"), Output(ids.WALL_UPDATED, "children"),
                    Input(LIVE_STATUS, "data"), Input(ids.WALL_UPDATED_AT, "data"))
clientside_callback(ClientsideFunction(namespace="nocWall", function_name="sound"),
                    Output(ids.WALL_SOUND, "children"), Input(ids.WALL_SOUND, "n_clicks"), Input(LIVE_EVENTS, "data"))
