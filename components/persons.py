"""The persons list and one person's evidence page: header with the current risk, the 30-day
score trend, the check-in trail on a plain lat/lon plot, the check-in timeline (score, anomalies,
top reasons), the person's tickets, and the not-found state."""
from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Patch, dcc, html

from backend.queries.fraud_schemas import CheckIn, PersonDetail, PersonList, PersonSummary, PersonTicket, SiteArea
from components import ids
from components.figures import SCORE_COLORSCALE, figure, graph, throttle
from components.fraud import SLOW_REFRESH_MS, person_href, score_badge, trend_figure

SEARCH_DEBOUNCE_MS = 300
_M_PER_DEGREE = 111_320.0


# -- the list -----------------------------------------------------------------------------

def _risk_cell(p: PersonSummary, threshold: float) -> html.Td:
    if p.risk is None:
        return html.Td(html.Small("no check-ins in 24 h", className="text-muted"))
    return html.Td([score_badge(p.risk, threshold),
                    html.Small(f" {p.flagged} flagged of {p.scored}", className="text-muted ms-1")])


def person_row(p: PersonSummary, threshold: float) -> html.Tr:
    return html.Tr([
        html.Td(dcc.Link([p.name, html.Small(f" {p.code}", className="text-muted")], href=person_href(p.person_id),
                         className="person-link")),
        html.Td(p.home_site_name or "—"),
        _risk_cell(p, threshold),
        html.Td(p.top_reason or "—", className="fraud-reasons"),
        html.Td("" if p.active else dbc.Badge("inactive", color="secondary")),
    ], key=f"p{p.person_id}", **{"data-person": str(p.person_id)})


def persons_table(listing: PersonList) -> dbc.Table | dbc.Alert:
    if not listing.persons:
        return persons_empty(listing.search)
    head = html.Thead(html.Tr([html.Th("Person"), html.Th("Home site"), html.Th("Risk (24 h)"),
                               html.Th("Top reason"), html.Th("")]))
    return dbc.Table([head, html.Tbody([person_row(p, listing.threshold) for p in listing.persons])],
                     id=ids.PERSONS_TABLE, hover=True, size="sm", responsive=True, className="persons-table align-middle")


def persons_empty(search: str) -> dbc.Alert:
    if search:
        message = [html.Strong(f"No person matches “{search}”. "), "Search by name or code, or clear the search."]
    else:
        message = [html.Strong("No persons yet. "), "Persons are created with ", html.Code("PUT /api/v1/persons"),
                   " (or appear with the first check-ins of a new site); they are listed here with their risk."]
    return dbc.Alert([html.I(className="bi bi-people me-2"), *message], id=ids.PERSONS_EMPTY, color="secondary")


def persons_status(listing: PersonList) -> str:
    shown = f"first {len(listing.persons)} persons (refine the search)" if listing.truncated else (
        f"{len(listing.persons)} person" + ("s" if len(listing.persons) != 1 else ""))
    return f"{shown} · riskiest first · updates live"


def persons_page(listing: PersonList) -> html.Div:
    return html.Div([
        html.Div([html.H4("Persons", className="mb-0 me-3"),
                  html.Small(persons_status(listing), id=ids.PERSONS_STATUS, className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        dbc.Row(dbc.Col(dbc.Input(id=ids.PERSONS_SEARCH, type="search", placeholder="Search name or code…",
                                  debounce=SEARCH_DEBOUNCE_MS, maxLength=100, value=listing.search), md=6, lg=4),
                className="mb-2"),
        html.Div(persons_table(listing), id=ids.PERSONS_LIST),
        throttle(ids.PERSONS_REFRESH),
        dcc.Store(id=ids.PERSONS_LIVE_SEQ),
    ])


# -- one person ---------------------------------------------------------------------------

def person_not_found() -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-person-x me-2"), html.Strong("Person not found. "),
                      "There is no such person among the sites you can see. Pick one from ",
                      dcc.Link("the persons list", href="/persons"), " or ", dcc.Link("the fraud page", href="/fraud"), "."],
                     id=ids.PERSON_NOT_FOUND, color="secondary", className="mt-2")


def person_header(d: PersonDetail, export_url: str | None) -> dbc.CardBody:
    """The body of the header card (the refresh replaces it): who, the current risk and why."""
    s = d.summary
    risk = ([score_badge(s.risk, d.threshold), html.Span(f" highest score in 24 h · {s.flagged} flagged of "
                                                        f"{s.scored} check-ins", className="text-muted")]
            if s.risk is not None else [html.Span("No check-in scored in the last 24 h.", className="text-muted")])
    facts = [f"code {s.code}", f"home site {s.home_site_name or '—'}", f"device {d.device_id or '—'}",
             *([] if s.active else ["inactive"])]
    export = (html.A([html.I(className="bi bi-download me-1"), "Evidence (CSV)"], id=ids.PERSON_EXPORT,
                     href=export_url, className="btn btn-outline-light btn-sm ms-auto", download="")
              if export_url else None)
    return dbc.CardBody([
        html.Div([html.H4(s.name, className="mb-0 me-3"), html.Small(" · ".join(facts), className="text-muted"),
                  export], className="d-flex align-items-baseline flex-wrap gap-2"),
        html.Div(risk, className="mt-2"),
        *([html.Div([html.Strong("Why: "), s.top_reason], className="mt-1 person-top-reason")] if s.top_reason else []),
    ])


def _anomaly_badges(c: CheckIn) -> list[Any]:
    return [dbc.Badge(a.type.value.replace("_", " "), color="danger" if a.severity.value in ("high", "critical")
                      else "warning", className="me-1", title=f"severity {a.severity.value}") for a in c.anomalies]


def checkin_row(c: CheckIn, threshold: float, *, new: bool = False) -> html.Tr:
    local = c.local_ts
    position = f"{c.lat:.5f}, {c.lon:.5f}" + (f" ±{c.gps_accuracy_m:.0f} m" if c.gps_accuracy_m is not None else "")
    flagged = c.score is not None and c.score >= threshold
    return html.Tr([
        html.Td([html.Span(local.strftime("%H:%M:%S"), className="fraud-time"),
                 html.Small(f" {local.strftime('%d %b')} {local.tzname()}", className="text-muted")],
                title=f"{c.ts.isoformat()} (UTC); {c.site_timezone}", className="text-nowrap"),
        html.Td(c.kind.value.replace("_", "-")),
        html.Td(c.site_name),
        html.Td(score_badge(c.score, threshold)),
        html.Td(_anomaly_badges(c) or "—"),
        html.Td(html.Ul([html.Li(r.text, title=r.doc or r.feature) for r in c.reasons], className="mb-0 ps-3")
                if c.reasons else "—", className="person-reasons"),
        html.Td([position, *([dbc.Badge("mock location", color="danger", className="ms-1")] if c.mock_location else []),
                 html.Small(f" {c.device_id}" if c.device_id else "", className="text-muted")], className="small"),
    ], key=f"e{c.event_id}", className="checkin-row" + (" checkin-flagged" if flagged else "")
        + (" fraud-row-new" if new else ""), **{"data-event": str(c.event_id)})


def timeline_table(d: PersonDetail) -> html.Div:
    head = html.Thead(html.Tr([html.Th("Time (site)"), html.Th("Punch"), html.Th("Site"), html.Th("Score"),
                               html.Th("Anomalies"), html.Th("Top reasons"), html.Th("Position · device")]))
    empty = dbc.Alert([html.Strong(f"No check-ins in the last {d.days} days. "),
                       "They appear here as the person's phone sends them."], id=ids.PERSON_TIMELINE_EMPTY,
                      color="secondary", className="mt-2", is_open=not d.checkins)
    return html.Div([dbc.Table([head, html.Tbody(checkin_rows(d), id=ids.PERSON_TIMELINE_BODY)],
                               id=ids.PERSON_TIMELINE, size="sm", hover=True, responsive=True,
                               className="person-timeline align-middle mb-0"), empty])


def checkin_rows(d: PersonDetail, new: Collection[int] = ()) -> list[html.Tr]:
    return [checkin_row(c, d.threshold, new=c.event_id in new) for c in d.checkins]


def prepend_checkins(checkins: Sequence[CheckIn], threshold: float) -> Patch:
    """New check-ins go on top of the timeline (they arrive newest last)."""
    body = Patch()
    for c in sorted(checkins, key=lambda c: c.ts):
        body.prepend(checkin_row(c, threshold, new=True))
    return body


def tickets_body(tickets: Sequence[PersonTicket]) -> dbc.CardBody:
    return dbc.CardBody([html.H6("Tickets", className="mb-2"), tickets_table(tickets)], className="p-2")


def tickets_table(tickets: Sequence[PersonTicket]) -> dbc.Table | html.P:
    if not tickets:
        return html.P("No tickets about this person.", className="text-muted mb-0")
    head = html.Thead(html.Tr([html.Th("Opened (site)"), html.Th("Ticket"), html.Th("Priority"), html.Th("State"),
                               html.Th("Disposition")]))
    rows = [html.Tr([html.Td(f"{t.local_created_at:%d %b %H:%M} {t.local_created_at.tzname()}", className="text-nowrap"),
                     html.Td([t.title, html.Small(f" #{t.id}", className="text-muted")]),
                     html.Td(t.priority.value.upper()), html.Td(t.state.value.replace("_", " ")),
                     html.Td((t.disposition or "—").replace("_", " "))]) for t in tickets]
    return dbc.Table([head, html.Tbody(rows)], size="sm", responsive=True, className="align-middle mb-0")


def trail_figure(checkins: Sequence[CheckIn], sites: Sequence[SiteArea], threshold: float) -> go.Figure:
    """Check-ins in time order on a longitude/latitude plot at true scale, coloured by score,
    over the sites' geofences. No map tiles: they would need the internet."""
    ordered = sorted(checkins, key=lambda c: c.ts)
    fences = []
    for site in sites:
        dlat = site.radius_m / _M_PER_DEGREE
        dlon = dlat / max(0.01, math.cos(math.radians(site.lat)))
        fences.append({"type": "circle", "x0": site.lon - dlon, "x1": site.lon + dlon, "y0": site.lat - dlat,
                       "y1": site.lat + dlat, "line": {"color": "#00bc8c", "dash": "dot"},
                       "fillcolor": "rgba(0,188,140,0.08)"})
    site_points = go.Scatter(x=[s.lon for s in sites], y=[s.lat for s in sites], mode="markers+text",
                             text=[s.name for s in sites], textposition="top center", name="site",
                             marker={"symbol": "square", "color": "#00bc8c", "size": 9}, hoverinfo="text")
    trail = go.Scatter(
        x=[c.lon for c in ordered], y=[c.lat for c in ordered], mode="lines+markers", name="check-ins",
        line={"color": "rgba(200,200,200,0.35)", "width": 1},
        marker={"size": [12 if c.score is not None and c.score >= threshold else 7 for c in ordered],
                "color": [c.score if c.score is not None else 0.0 for c in ordered], "cmin": 0, "cmax": 1,
                "colorscale": SCORE_COLORSCALE, "line": {"width": 1, "color": "#222"}},
        customdata=[[f"{c.local_ts:%d %b %H:%M %Z}", c.kind.value.replace("_", "-"), c.site_name,
                     "not scored" if c.score is None else f"{c.score:.2f}", c.reasons[0].text if c.reasons else ""]
                    for c in ordered],
        hovertemplate="%{customdata[0]} %{customdata[1]} · %{customdata[2]}<br>score %{customdata[3]}"
                      "<br>%{customdata[4]}<extra></extra>")
    centre = sites[0].lat if sites else (ordered[0].lat if ordered else 0.0)
    return figure([site_points, trail], height=340, title="Check-in trail", shapes=fences, showlegend=False,
                  xaxis={"title": {"text": "longitude"}},
                  yaxis={"title": {"text": "latitude"}, "scaleanchor": "x",
                         "scaleratio": 1 / max(0.01, math.cos(math.radians(centre)))})


def person_figures(d: PersonDetail) -> tuple[go.Figure, go.Figure]:
    return (trend_figure(d.trend, d.threshold, f"Fraud score, {d.days} days (site-local days)"),
            trail_figure(d.checkins, d.sites, d.threshold))


def person_page(d: PersonDetail, export_url: str | None, state: dict[str, Any]) -> html.Div:
    trend, trail = person_figures(d)
    return html.Div([
        dbc.Card(person_header(d, export_url), id=ids.PERSON_HEADER, className="mb-3"),
        dbc.Row([dbc.Col(dbc.Card(dbc.CardBody(graph(ids.PERSON_TREND, trend), className="p-2"), className="mb-3"), lg=7),
                 dbc.Col(dbc.Card(dbc.CardBody(graph(ids.PERSON_TRAIL, trail), className="p-2"), className="mb-3"), lg=5)]),
        dbc.Card(dbc.CardBody([html.H6(f"Check-ins, last {d.days} days", className="mb-2"), timeline_table(d)],
                              className="p-2"), className="mb-3"),
        dbc.Card(tickets_body(d.tickets), id=ids.PERSON_TICKETS, className="mb-3"),
        dcc.Store(id=ids.PERSON_STATE, data=state),
        throttle(ids.PERSON_REFRESH),
        dcc.Interval(id=ids.PERSON_SLOW_TICK, interval=SLOW_REFRESH_MS),
    ])
