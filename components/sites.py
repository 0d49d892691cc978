"""The sites table and the pieces of a site's page: header, signals figure, findings,
incidents, tickets, persons on site and tours, with their empty states.

Pure factories over ``backend.queries.site_schemas`` / ``backend.audit.schemas`` values; every
time is shown in the site's time zone."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dash_table, dcc, html
from dash.dash_table.Format import Format, Scheme
from plotly.subplots import make_subplots

from backend.audit.schemas import AnomalousWindow, FindingItem, SiteSignals
from backend.enums import TicketPriority
from backend.queries.site_schemas import (IncidentItem, PersonOnSite, SiteDetail, SiteRow, TicketItem,
                                          TourCompliance, local)
from components import ids

REFRESH_CHECK_MS = 5000      # the pages check this often whether a refresh is due
SEVERITY_COLORS = {"low": "secondary", "medium": "warning", "high": "danger", "critical": "danger"}
PRIORITY_COLORS = {TicketPriority.P1: "danger", TicketPriority.P2: "warning", TicketPriority.P3: "info",
                   TicketPriority.P4: "secondary"}
WINDOW_FILL = "rgba(231, 76, 60, 0.18)"


def site_href(site_id: int) -> str:
    return f"/sites/{site_id}"


def person_href(person_id: int) -> str:
    return f"/persons/{person_id}"


def tickets_href(site_id: int) -> str:
    return f"/tickets?site={site_id}"


def _when(ts: datetime | None, timezone: str | None, fmt: str = "%d %b %H:%M") -> str:
    shown = local(ts, timezone)
    return f"{shown.strftime(fmt)} {shown.tzname()}" if shown else "—"


def _percent(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "—"


def severity_badge(severity: str | None) -> dbc.Badge | str:
    if not severity:
        return ""
    return dbc.Badge(severity, color=SEVERITY_COLORS.get(severity, "secondary"), className="text-uppercase")


def risk_text(risk: float | None, flag_score: float) -> html.Span:
    if risk is None:
        return html.Span("not scored", className="text-muted")
    return html.Span(f"{risk:.2f}", className="site-risk-high" if risk >= flag_score else "site-risk")


# -- the sites table --------------------------------------------------------------------------

def _quiet_minutes(row: SiteRow, now: datetime) -> int | None:
    return int((now - row.last_activity).total_seconds() // 60) if row.last_activity else None


def sites_table_rows(rows: Sequence[SiteRow], now: datetime) -> list[dict[str, Any]]:
    """DataTable records: numbers stay numbers, so native sorting is numeric."""
    return [{
        "id": row.site_id,
        "site": f"[{row.name}]({site_href(row.site_id)})",
        "code": row.code, "city": row.city or "",
        "risk": round(row.risk, 3) if row.risk is not None else None,
        "flagged": row.flagged,
        "open": row.open_tickets,
        **{p.value: row.open_by_priority.get(p, 0) for p in TicketPriority},
        "compliance": round(row.compliance, 3) if row.compliance is not None else None,
        "last": _when(row.last_activity, row.timezone, "%Y-%m-%d %H:%M") if row.last_activity else "",
        "quiet": _quiet_minutes(row, now),
    } for row in rows]


def sites_table(flag_score: float) -> dash_table.DataTable:
    numeric = {"type": "numeric"}
    columns = [
        {"name": "Site", "id": "site", "presentation": "markdown"},
        {"name": "Code", "id": "code"},
        {"name": "City", "id": "city"},
        {"name": "Risk (24 h)", "id": "risk", **numeric, "format": Format(precision=2, scheme=Scheme.fixed)},
        {"name": "Flagged", "id": "flagged", **numeric},
        {"name": "Open tickets", "id": "open", **numeric},
        *({"name": p.value.upper(), "id": p.value, **numeric} for p in TicketPriority),
        {"name": "Tours (24 h)", "id": "compliance", **numeric, "format": Format(precision=0, scheme=Scheme.percentage)},
        {"name": "Last activity (site time)", "id": "last"},
        {"name": "Quiet (min)", "id": "quiet", **numeric},
    ]
    return dash_table.DataTable(
        id=ids.SITES_TABLE, columns=columns, data=[], sort_action="native", sort_mode="single",
        markdown_options={"link_target": "_self"}, page_action="none", cell_selectable=False,
        style_as_list_view=True, style_table={"overflowX": "auto"},
        style_header={"backgroundColor": "#303030", "color": "#f1f1f1", "fontWeight": "600", "border": "none"},
        style_cell={"backgroundColor": "transparent", "color": "#e4e4e4", "border": "none",
                    "borderBottom": "1px solid #444", "padding": "6px 10px", "textAlign": "left",
                    "fontFamily": "inherit", "fontSize": "0.9rem"},
        style_data_conditional=[
            {"if": {"filter_query": f"{{risk}} >= {flag_score}", "column_id": "risk"},
             "color": "#e74c3c", "fontWeight": "700"},
            {"if": {"filter_query": "{p1} > 0", "column_id": "p1"}, "color": "#e74c3c", "fontWeight": "700"},
            {"if": {"filter_query": "{compliance} < 0.8", "column_id": "compliance"}, "color": "#f39c12"},
        ],
        css=[{"selector": ".dash-cell-value p", "rule": "margin: 0;"}],
    )


def sites_empty() -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-building me-2"), html.Strong("No active sites yet. "),
                      "Sites come from ", html.Code("PUT /api/v1/sites"),
                      " (an admin creates an API token with ", html.Code("flask --app app token create <tenant>"),
                      "); they appear here with their risk, tickets and tours."],
                     color="secondary", className="sites-empty-state")


def sites_status(rows: Sequence[SiteRow], now: datetime, flag_score: float) -> str:
    risky = sum(1 for r in rows if r.risk is not None and r.risk >= flag_score)
    return (f"{len(rows)} site{'s' if len(rows) != 1 else ''} · {risky} with a check-in scored ≥ {flag_score:g} "
            f"in 24 h · read {now:%H:%M:%S} UTC · updates live")


def sites_page(flag_score: float) -> html.Div:
    """The skeleton: the refresh callback fills the table's data (the table stays, so its sort
    order survives refreshes) or the empty state."""
    return html.Div([
        html.Div([html.H4("Sites", className="mb-0 me-3"),
                  html.Small("Loading…", id=ids.SITES_STATUS, className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        html.Div(id=ids.SITES_EMPTY),
        html.Div(sites_table(flag_score), id=ids.SITES_TABLE_WRAP, hidden=True),
        dcc.Interval(id=ids.SITES_TICK, interval=REFRESH_CHECK_MS),
        dcc.Store(id=ids.SITES_SHOWN), dcc.Store(id=ids.SITES_DIRTY, data=False), dcc.Store(id=ids.SITES_SEQ),
    ])


# -- a site's page ----------------------------------------------------------------------------

def site_not_found() -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-question-circle me-2"), html.Strong("Site not found. "),
                      "It does not exist or is not one of your sites. ",
                      dcc.Link("Back to the sites", href="/sites", className="alert-link")],
                     color="warning", className="site-not-found")


def _stat(label: str, value: Any, hint: str | None = None) -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([html.Div(label, className="text-muted small"),
                                          html.Div(value, className="fs-5"),
                                          html.Div(hint or "", className="small text-muted")])), xs=6, md=3)


def site_header(detail: SiteDetail) -> html.Div:
    row = detail.summary
    open_parts = [f"{p.value.upper()} {n}" for p, n in row.open_by_priority.items() if n]
    return html.Div([
        html.Div([html.H4(row.name, className="mb-0 me-2"),
                  html.Span(f"{row.code} · {row.city or ''} · {row.timezone}", className="text-muted me-3"),
                  dcc.Link("All sites", href="/sites", className="small")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        dbc.Row([
            _stat("Risk (24 h)", risk_text(row.risk, detail.flag_score),
                  f"{row.flagged} flagged of {row.scored} scored check-ins"),
            _stat("Open tickets", dcc.Link(str(row.open_tickets), href=tickets_href(row.site_id)),
                  " · ".join(open_parts) or "none open"),
            _stat("Tour compliance (24 h)", _percent(row.compliance), f"{row.rounds_due} rounds due"),
            _stat("Last activity", _when(row.last_activity, row.timezone), "newest input at the site"),
        ], className="g-2 mb-3"),
    ])


def _local_naive(ts: datetime, timezone: str) -> datetime:
    # Plotly draws wall-clock times as given: hand it the site's wall clock.
    shown = local(ts, timezone)
    assert shown is not None
    return shown.replace(tzinfo=None)


def window_shape(window: AnomalousWindow, timezone: str) -> dict[str, Any]:
    """A shaded band over every metric's panel for an anomalous window (live patches append these)."""
    return {"type": "rect", "xref": "x", "yref": "paper", "x0": _local_naive(window.start, timezone).isoformat(),
            "x1": _local_naive(window.end, timezone).isoformat(), "y0": 0, "y1": 1, "fillcolor": WINDOW_FILL,
            "line": {"width": 0}, "layer": "below", "name": "anomalous window"}


def signals_figure(signals: SiteSignals | None) -> go.Figure:
    """One panel per metric: the hourly value, its baseline centre and band (centre ∓
    threshold × spread), anomalous windows shaded; the x axis in the site's time zone."""
    if signals is None or not signals.series:
        figure = go.Figure()
        figure.update_layout(template="plotly_dark", height=120, paper_bgcolor="rgba(0,0,0,0)",
                             annotations=[{"text": "No signals yet", "showarrow": False}])
        return figure
    tz = signals.timezone
    figure = make_subplots(rows=len(signals.series), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                           subplot_titles=[s.label for s in signals.series])
    for row, series in enumerate(signals.series, start=1):
        x = [_local_naive(p.start, tz) for p in series.points]
        lower = [p.lower for p in series.points]
        upper = [p.upper for p in series.points]
        first = row == 1
        figure.add_trace(go.Scatter(x=x, y=lower, mode="lines", line={"width": 0}, showlegend=False,
                                    hoverinfo="skip", legendgroup="band"), row=row, col=1)
        figure.add_trace(go.Scatter(x=x, y=upper, mode="lines", line={"width": 0}, fill="tonexty",
                                    fillcolor="rgba(52, 152, 219, 0.18)", name="baseline band", showlegend=first,
                                    legendgroup="band", hoverinfo="skip"), row=row, col=1)
        figure.add_trace(go.Scatter(x=x, y=[p.centre for p in series.points], mode="lines",
                                    line={"dash": "dot", "color": "#3498db", "width": 1}, name="baseline",
                                    showlegend=first, legendgroup="centre"), row=row, col=1)
        figure.add_trace(go.Scatter(
            x=x, y=[p.value for p in series.points], mode="lines+markers", name="observed", showlegend=first,
            legendgroup="value", line={"color": "#f1c40f", "width": 2},
            marker={"size": [9 if p.anomalous else 4 for p in series.points],
                    "color": ["#e74c3c" if p.anomalous else "#f1c40f" for p in series.points]}), row=row, col=1)
    # The end of the window is always drawn, so the figure always has a shapes list to patch.
    now = _local_naive(signals.end, tz).isoformat()
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": now, "x1": now, "y0": 0, "y1": 1,
               "line": {"color": "#888", "width": 1, "dash": "dash"}, "name": "now"},
              *(window_shape(w, tz) for w in signals.anomalous_windows)]
    figure.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                         height=130 * len(signals.series) + 60, margin={"l": 40, "r": 10, "t": 30, "b": 30},
                         legend={"orientation": "h", "y": 1.06, "x": 0}, hovermode="x unified", shapes=shapes,
                         uirevision="site-signals")
    figure.update_xaxes(title_text=f"hour ({tz})", row=len(signals.series), col=1)
    return figure


def _item_row(title: Any, meta: Sequence[Any], severity: str | None, key: str, extra_class: str = "") -> html.Div:
    # A plain div styled as a list-group item: it carries data-key (dbc's item takes no data-*).
    return html.Div([
        html.Div([severity_badge(severity), html.Span(title, className="ms-2")], className="site-item-title"),
        html.Small(list(meta), className="text-muted"),
    ], className=f"list-group-item site-item {extra_class}".strip(), **{"data-key": key})


def _person_link(person_id: int | None, name: str | None) -> list[Any]:
    if person_id is None or not name:
        return []
    return [" · ", dcc.Link(name, href=person_href(person_id))]


def finding_row(item: FindingItem, new: bool = False) -> html.Div:
    meta = [item.label, " · ", f"{_when(item.window_start, item.site_timezone)} – {_when(item.window_end, item.site_timezone, '%H:%M')}",
            *_person_link(item.person_id, item.person_name)]
    return _item_row(item.summary, meta, item.severity, f"finding:{item.id}", "site-item-new" if new else "")


def incident_row(item: IncidentItem, timezone: str, new: bool = False) -> html.Div:
    meta = [f"{_when(item.window_start, timezone)} – {_when(item.window_end, timezone, '%H:%M')}",
            f" · {item.alerts} alert(s), {item.findings} finding(s)", *_person_link(item.person_id, item.person_name)]
    return _item_row(item.title, meta, item.severity, f"incident:{item.id}", "site-item-new" if new else "")


def _empty_item(text: str, key: str) -> html.Div:
    return html.Div(text, className="list-group-item text-muted site-empty", **{"data-key": key})


def findings_list(items: Sequence[FindingItem]) -> list[html.Div]:
    if not items:
        return [_empty_item("No findings in the last 7 days: the audit (every 5 min) found nothing wrong here.",
                            "empty")]
    return [finding_row(i) for i in items]


def incidents_list(items: Sequence[IncidentItem], timezone: str) -> list[html.Div]:
    if not items:
        return [_empty_item("No incidents in the last 7 days: no NOC alert here matched a finding or a silent phone.",
                            "empty")]
    return [incident_row(i, timezone) for i in items]


def tickets_table(items: Sequence[TicketItem], site_id: int, timezone: str) -> Any:
    if not items:
        return dbc.Alert(["No tickets in the last 7 days. High and critical findings and fraud scores "
                          "≥ the ticket threshold open them; see ", dcc.Link("all tickets", href=tickets_href(site_id)),
                          "."], color="secondary", className="mb-0")
    head = html.Thead(html.Tr([html.Th("Priority"), html.Th("Ticket"), html.Th("State"), html.Th("Opened"),
                               html.Th("Person")]))
    body = html.Tbody([html.Tr([
        html.Td(dbc.Badge(t.priority.value.upper(), color=PRIORITY_COLORS[t.priority])),
        html.Td([dcc.Link(f"#{t.id}", href=f"/tickets?ticket={t.id}"), f" {t.title}",
                 html.Small(f" ×{t.occurrences}", className="text-muted") if t.occurrences > 1 else ""]),
        html.Td(t.state.replace("_", " ")),
        html.Td(_when(t.created_at, timezone), className="text-nowrap"),
        html.Td(dcc.Link(t.person_name, href=person_href(t.person_id)) if t.person_id and t.person_name else "—"),
    ], **{"data-key": f"ticket:{t.id}"}) for t in items])
    return html.Div([dbc.Table([head, body], size="sm", hover=True, responsive=True, className="mb-1"),
                     dcc.Link("All tickets of this site", href=tickets_href(site_id), className="small")])


def persons_table(persons: Sequence[PersonOnSite], timezone: str, *, scores_hidden: bool, flag_score: float) -> Any:
    if not persons:
        return dbc.Alert("Nobody is rostered here now and nobody punched in or out here in the last 24 h. "
                         "Rosters come from PUT /api/v1/shifts.", color="secondary", className="mb-0")
    head = html.Thead(html.Tr([html.Th("Person"), html.Th("On shift"), html.Th("Last punch"),
                               html.Th("Risk (24 h)"), html.Th("Why")]))
    rows = []
    for p in persons:
        rows.append(html.Tr([
            html.Td([dcc.Link(p.name, href=person_href(p.person_id)), html.Small(f" {p.code}", className="text-muted")]),
            html.Td(f"until {_when(p.shift_end, timezone, '%H:%M')}" if p.on_shift else "no"),
            html.Td(f"{p.last_punch.replace('_', '-')} {_when(p.last_punch_at, timezone)}" if p.last_punch else "—"),
            html.Td("hidden" if scores_hidden else risk_text(p.risk, flag_score)),
            html.Td("; ".join(p.reasons[:2]) if not scores_hidden else "", className="small"),
        ], **{"data-person": str(p.person_id)}))
    note = html.Small("Fraud scores are not shown on wall displays (viewer role).", className="text-muted") \
        if scores_hidden else None
    return html.Div([dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, className="mb-1"),
                     note])


def tours_table(tours: Sequence[TourCompliance]) -> Any:
    if not tours:
        return dbc.Alert("No guard tours are set up for this site (PUT /api/v1/tours adds them).",
                         color="secondary", className="mb-0")
    head = html.Thead(html.Tr([html.Th("Tour"), html.Th("Schedule"), html.Th("Compliance (24 h)"),
                               html.Th("Rounds"), html.Th("Problems")]))
    rows = []
    for t in tours:
        problems = [f"{n} {label}" for n, label in ((t.missed, "missed"), (t.late, "late"),
                                                    (t.incomplete, "incomplete"), (t.suspicious, "suspicious")) if n]
        rows.append(html.Tr([
            html.Td(t.name),
            html.Td(f"every {t.interval_minutes} min, {t.active_from}–{t.active_to}, {t.checkpoints} checkpoints"),
            html.Td(_percent(t.rate), className="site-compliance-low" if t.rate is not None and t.rate < 0.8 else ""),
            html.Td(f"{t.compliant}/{t.due}"),
            html.Td(", ".join(problems) or "none"),
        ]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, className="mb-0")


def _section(title: str, body: Any, width: int = 12) -> dbc.Col:
    return dbc.Col(dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className="mb-3 h-100"), lg=width)


def site_page(site_id: int | None) -> html.Div:
    """The skeleton: the render callback fills every section (or shows the not-found state)."""
    return html.Div([
        html.Div(site_not_found() if site_id is None else None, id=ids.SITE_NOT_FOUND),
        html.Div([
            html.Div(dbc.Spinner(color="secondary", size="sm"), id=ids.SITE_HEADER),
            dbc.Row(_section("Signals against baseline (48 h, hourly; shaded: below the baseline band)",
                             dcc.Graph(id=ids.SITE_SIGNALS, config={"displaylogo": False}))),
            dbc.Row([_section("Findings (7 days)", dbc.ListGroup(id=ids.SITE_FINDINGS, flush=True), 6),
                     _section("Incidents (7 days)", dbc.ListGroup(id=ids.SITE_INCIDENTS, flush=True), 6)],
                    className="g-3 mb-3"),
            dbc.Row([_section("On site now", html.Div(id=ids.SITE_PERSONS), 6),
                     _section("Tickets", html.Div(id=ids.SITE_TICKETS), 6)], className="g-3 mb-3"),
            dbc.Row(_section("Tours", html.Div(id=ids.SITE_TOURS))),
        ], id=ids.SITE_BODY, hidden=site_id is None),
        dcc.Store(id=ids.SITE_ID, data=site_id), dcc.Store(id=ids.SITE_SHOWN), dcc.Store(id=ids.SITE_DIRTY, data=False),
        dcc.Store(id=ids.SITE_SEQ), dcc.Interval(id=ids.SITE_TICK, interval=REFRESH_CHECK_MS),
    ])
