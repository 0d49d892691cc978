"""The look every figure shares (dark theme, no logo, compact margins) and the throttle that
keeps aggregate figures from refreshing more often than every few seconds."""
from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import dcc

AGGREGATE_REFRESH_MS = 5000   # live events enable a throttle interval; it fires once and disables itself
GRAPH_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True,
                                "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
SCORE_COLORSCALE = [[0.0, "#00bc8c"], [0.5, "#f39c12"], [1.0, "#e74c3c"]]


def styled(fig: go.Figure, *, height: int = 260, title: str | None = None) -> go.Figure:
    fig.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      height=height, margin={"l": 48, "r": 16, "t": 36 if title else 12, "b": 36},
                      title={"text": title, "font": {"size": 14}} if title else None,
                      font={"size": 11}, legend={"orientation": "h", "y": -0.2}, hovermode="closest")
    return fig


def graph(id_: str, fig: go.Figure) -> dcc.Graph:
    return dcc.Graph(id=id_, figure=fig, config=GRAPH_CONFIG)


def throttle(id_: str) -> dcc.Interval:
    """Disabled until a live event enables it; its one tick refreshes the aggregates, and the
    refresh disables it again: at most one refresh per ``AGGREGATE_REFRESH_MS``, none when idle."""
    return dcc.Interval(id=id_, interval=AGGREGATE_REFRESH_MS, disabled=True)
