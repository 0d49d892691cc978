"""The fraud page's pieces: the live high-risk table (rows patched in place), the score
distribution, the 30-day trend, the site map and the site × hour-of-day heatmap, and the
shared score badge and access-denied state."""
from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Patch, dcc, html

from backend.enums import Role
from backend.queries.fraud_schemas import SCORE_BINS, DailyScores, FraudOverview, SiteHourCell
from backend.queries.risk_schemas import PersonRisk, SiteRisk
from backend.queries.schemas import site_zone
from components import ids
from components.figures import SCORE_COLORSCALE, figure, graph, hline, throttle, vline
from components.live import new_live_events

SLOW_REFRESH_MS = 60_000      # rows age out of the 24 h window even when no event arrives
FLAG_COLOR, CALM_COLOR = "#e74c3c", "#375a7f"


def person_href(person_id: int) -> str:
    return f"/persons/{person_id}"


def score_badge(score: float | None, threshold: float) -> dbc.Badge:
    if score is None:
        return dbc.Badge("not scored", color="secondary", className="score-badge")
    color = "danger" if score >= max(threshold, 0.8) else "warning" if score >= threshold else "success"
    return dbc.Badge(f"{score:.2f}", color=color, className="score-badge", text_color="dark" if color == "warning" else None)


def access_denied(needed: Role, what: str) -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-shield-lock me-2"), html.Strong(f"{what} is not shown to this account. "),
                      f"Person-level fraud detail needs the {needed.value.replace('_', ' ')} role or higher; "
                      "wall displays (viewer) see anomalies without names or reasons. Ask an admin for access."],
                     id=ids.ACCESS_DENIED, color="secondary", className="mt-2")


# -- the high-risk table ------------------------------------------------------------------

def risk_row(risk: PersonRisk, threshold: float, *, new: bool = False) -> html.Tr:
    local = risk.last_flagged_at.astimezone(site_zone(risk.site_timezone))
    reasons = list(risk.reasons)
    return html.Tr([
        html.Td(dcc.Link([risk.person_name, html.Small(f" {risk.person_code}", className="text-muted")],
                         href=person_href(risk.person_id), className="fraud-person-link")),
        html.Td(score_badge(risk.score, threshold)),
        html.Td(str(risk.flagged), className="text-end"),
        html.Td([html.Span(local.strftime("%H:%M"), className="fraud-time"),
                 html.Small(f" {local.strftime('%d %b')} {local.tzname()}", className="text-muted")],
                title=f"{risk.last_flagged_at.isoformat()} (UTC)", className="text-nowrap"),
        html.Td(risk.site_name),
        html.Td([reasons[0] if reasons else "—",
                 *([html.Small(f" · {' · '.join(reasons[1:])}", className="text-muted")] if len(reasons) > 1 else [])],
                className="fraud-reasons"),
    ], key=f"p{risk.person_id}", className="fraud-row" + (" fraud-row-new" if new else ""),
        **{"data-person": str(risk.person_id)})


def risk_rows(risks: Sequence[PersonRisk], threshold: float, new: Collection[int] = ()) -> list[html.Tr]:
    return [risk_row(r, threshold, new=r.person_id in new) for r in risks]


def row_key(risk: PersonRisk) -> list[Any]:
    """What the table's order is decided by (riskiest first), kept in the page state."""
    return [risk.person_id, risk.score, risk.flagged]


def _sort_key(key: Sequence[Any]) -> tuple[float, int, int]:
    return (-float(key[1]), -int(key[2]), int(key[0]))


def patch_rows(order: list[list[Any]], updates: Sequence[PersonRisk], threshold: float,
               limit: int) -> tuple[Patch, list[list[Any]]]:
    """A Patch of the table body that moves/inserts the updated persons' rows (highlighted) to
    where the order puts them, and the new order. The table keeps at most ``limit`` rows."""
    body, order = Patch(), [list(k) for k in order]
    for risk in updates:
        index = next((i for i, k in enumerate(order) if k[0] == risk.person_id), None)
        if index is not None:
            del body[index]
            del order[index]
        key = row_key(risk)
        at = next((i for i, k in enumerate(order) if _sort_key(key) < _sort_key(k)), len(order))
        if at >= limit:
            continue
        body.insert(at, risk_row(risk, threshold, new=True))
        order.insert(at, key)
        if len(order) > limit:
            del body[limit]
            del order[limit]
    return body, order


def risk_table(risks: Sequence[PersonRisk], threshold: float, new: Collection[int] = ()) -> html.Div:
    head = html.Thead(html.Tr([html.Th("Person"), html.Th("Risk"), html.Th("Flagged", className="text-end"),
                               html.Th("Last flagged (site)"), html.Th("Site"), html.Th("Top reasons")]))
    return html.Div([
        dbc.Table([head, html.Tbody(risk_rows(risks, threshold, new), id=ids.FRAUD_TABLE_BODY)],
                  id=ids.FRAUD_TABLE, hover=True, size="sm", responsive=True, className="fraud-table align-middle mb-0"),
        risk_empty(threshold, hidden=bool(risks)),
    ])


def risk_empty(threshold: float, *, hidden: bool) -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-emoji-smile me-2"),
                      html.Strong(f"No one scored {threshold:.2f} or more in the last 24 h. "),
                      "Check-ins are scored as they arrive; a flagged one appears here at once. If nothing "
                      "is scored at all, check that devices post check-ins and the scoring worker runs."],
                     id=ids.FRAUD_EMPTY, color="secondary", className="mt-2", is_open=not hidden)


def fraud_status(view: FraudOverview) -> str:
    return (f"{len(view.high_risk)} high-risk · {view.scored_24h} check-ins scored in 24 h · "
            f"threshold {view.threshold:.2f} · updates live")


# -- figures -----------------------------------------------------------------------------

def distribution_figure(bins: Sequence[int], threshold: float) -> go.Figure:
    width = 1 / SCORE_BINS
    centres = [round((i + 0.5) * width, 4) for i in range(SCORE_BINS)]
    colors = [FLAG_COLOR if (i + 1) * width > threshold else CALM_COLOR for i in range(SCORE_BINS)]
    bars = go.Bar(x=centres, y=list(bins), width=width * 0.92, marker_color=colors,
                  hovertemplate="score %{x:.2f} ± 0.025: %{y} check-ins<extra></extra>")
    return figure([bars], title="Score distribution, last 24 h", shapes=[vline(threshold)],
                  xaxis={"range": [0, 1], "title": {"text": "fraud score"}},
                  yaxis={"title": {"text": "check-ins"}, "rangemode": "tozero"})


def patch_distribution(bins: Sequence[int], changed: Collection[int]) -> Patch:
    fig = Patch()
    for i in changed:
        fig["data"][0]["y"][i] = bins[i]
    return fig


def trend_figure(days: Sequence[DailyScores], threshold: float, title: str) -> go.Figure:
    """Daily highest and mean score (left axis) and flagged check-ins (bars, right axis)."""
    x = [d.day.isoformat() for d in days]
    traces = [
        go.Bar(x=x, y=[d.flagged for d in days], name="flagged", marker_color=FLAG_COLOR, opacity=0.45, yaxis="y2",
               hovertemplate="%{x}: %{y} flagged<extra></extra>"),
        go.Scatter(x=x, y=[d.max_score for d in days], name="max score", mode="lines+markers", line_color="#f39c12"),
        go.Scatter(x=x, y=[d.mean_score for d in days], name="mean score", mode="lines",
                   line={"color": "#3498db", "dash": "dot"}),
    ]
    return figure(traces, title=title, shapes=[hline(threshold)],
                  yaxis={"range": [0, 1.02], "title": {"text": "score"}},
                  yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                          "title": {"text": "flagged"}})


def site_map_figure(sites: Sequence[SiteRisk]) -> go.Figure:
    """Sites at their coordinates, coloured by risk and sized by flagged check-ins. A plain
    longitude/latitude plot: map tiles would need the internet, and the console must stay clean."""
    shown = [s for s in sites if s.lat is not None and s.lon is not None]
    points = go.Scatter(
        x=[s.lon for s in shown], y=[s.lat for s in shown], mode="markers",
        marker={"size": [10 + 4 * math.sqrt(s.flagged) for s in shown],
                "color": [s.risk if s.risk is not None else 0.0 for s in shown], "cmin": 0, "cmax": 1,
                "colorscale": SCORE_COLORSCALE, "showscale": True, "colorbar": {"title": {"text": "risk"}, "thickness": 10},
                "line": {"width": 1, "color": "#222"}},
        customdata=[[s.site_name, s.site_code, "—" if s.risk is None else f"{s.risk:.2f}", s.flagged, s.scored]
                    for s in shown],
        hovertemplate="%{customdata[0]} (%{customdata[1]})<br>risk %{customdata[2]} · "
                      "%{customdata[3]} flagged of %{customdata[4]} scored (24 h)<extra></extra>")
    return figure([points], height=300, title="Sites by risk, last 24 h",
                  xaxis={"title": {"text": "longitude"}}, yaxis={"title": {"text": "latitude"}})


def site_hours_figure(cells: Sequence[SiteHourCell], days: int) -> go.Figure:
    names: dict[int, str] = {}
    totals: dict[int, int] = {}
    for c in cells:
        names[c.site_id] = c.site_name
        totals[c.site_id] = totals.get(c.site_id, 0) + c.flagged
    order = sorted(names, key=lambda s: (-totals[s], names[s]))
    row = {site: i for i, site in enumerate(order)}
    z = [[0] * 24 for _ in order]
    for c in cells:
        z[row[c.site_id]][c.hour] = c.flagged
    heat = go.Heatmap(z=z, x=list(range(24)), y=[names[s] for s in order], colorscale=SCORE_COLORSCALE, zmin=0,
                      hovertemplate="%{y} · %{x}:00 (site time): %{z} flagged<extra></extra>",
                      colorbar={"title": {"text": "flagged"}, "thickness": 10})
    return figure([heat], height=max(260, 60 + 18 * len(order)),
                  title=f"Flagged check-ins by site and hour, {days} days",
                  xaxis={"title": {"text": "hour of day (site time)"}, "dtick": 3},
                  yaxis={"autorange": "reversed"})


def figures(view: FraudOverview) -> tuple[go.Figure, go.Figure, go.Figure, go.Figure]:
    return (distribution_figure(view.bins, view.threshold),
            trend_figure(view.trend, view.threshold, f"Daily scores, {view.days} days (site-local days)"),
            site_map_figure(view.sites), site_hours_figure(view.site_hours, view.days))


def _card(child: Any) -> dbc.Card:
    return dbc.Card(dbc.CardBody(child, className="p-2"), className="mb-3")


def fraud_page(view: FraudOverview, state: dict[str, Any]) -> html.Div:
    distribution, trend, site_map, site_hours = figures(view)
    return html.Div([
        html.Div([html.H4("Fraud", className="mb-0 me-3"),
                  html.Small(fraud_status(view), id=ids.FRAUD_STATUS, className="text-muted")],
                 className="d-flex align-items-baseline flex-wrap mb-2"),
        _card([html.H6("High-risk persons, last 24 h", className="mb-2"), risk_table(view.high_risk, view.threshold)]),
        dbc.Row([dbc.Col(_card(graph(ids.FRAUD_DISTRIBUTION, distribution)), lg=5),
                 dbc.Col(_card(graph(ids.FRAUD_TREND, trend)), lg=7)]),
        dbc.Row([dbc.Col(_card(graph(ids.FRAUD_SITE_MAP, site_map)), lg=5),
                 dbc.Col(_card(graph(ids.FRAUD_SITE_HOURS, site_hours)), lg=7)]),
        dcc.Store(id=ids.FRAUD_STATE, data=state),
        throttle(ids.FRAUD_REFRESH),
        dcc.Interval(id=ids.FRAUD_SLOW_TICK, interval=SLOW_REFRESH_MS),
    ])


Flagged = list[tuple[int, float | None, dict[str, Any]]]


def new_flagged_events(data: Any, state: dict[str, Any], *, person_id: int | None = None
                       ) -> tuple[Flagged, int | None, bool] | None:
    """For the fraud pages' live callbacks: (the anomaly events after ``state["seq"]``, the new
    seq, gap), or None when the live window holds nothing new. The first events after a render
    may already be in the view (``state["as_of"]``): only newer ones count then."""
    events, seq, gap = new_live_events(data if isinstance(data, dict) else None, state["seq"])
    if seq == state["seq"]:
        return None
    return flagged_events(events, person_id=person_id,
                          after=state["as_of"] if state["seq"] is None else None), seq, gap


def flagged_events(events: Sequence[dict[str, Any]], *, after: str | None = None,
                   person_id: int | None = None) -> Flagged:
    """(person id, score, data) of the ``anomaly_detected`` events among live events (browser
    data: anything malformed is skipped). ``after``: only events published after this ISO time
    (the ones a freshly rendered view may not contain); ``person_id``: only this person's."""
    found = []
    for event in events:
        if not isinstance(event, dict) or event.get("type") != "anomaly_detected":
            continue
        person, data = event.get("person"), event.get("data")
        if not isinstance(person, int) or isinstance(person, bool) or not isinstance(data, dict):
            continue  # viewers' redacted events carry no person
        if person_id is not None and person != person_id:
            continue
        if after is not None and not (isinstance(event.get("time"), str) and event["time"] > after):
            continue
        score = data.get("score")
        found.append((person, float(score) if isinstance(score, (int, float)) and 0 <= score <= 1 else None, data))
    return found
