"""The Models page's figures, one pure factory each (Plotly, dark theme), from a ModelDetail:
PR curve, confusion matrix, feature importance, and the score distribution of the last days
against training."""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from backend.ml.schemas import HISTOGRAM_BINS, RECENT_DAYS, ModelDetail

IMPORTANCE_TOP = 15
HEIGHT = 320
RECENT_TRACE = 1        # index of the "last 7 days" trace in the score figure (patched live)
_BIN_CENTRES = [(i + 0.5) / HISTOGRAM_BINS for i in range(HISTOGRAM_BINS)]


@lru_cache(maxsize=1)
def _dark_template() -> dict[str, Any]:
    return pio.templates["plotly_dark"].to_plotly_json()


def themed(figure: go.Figure) -> dict[str, Any]:
    """The figure for dcc.Graph, with the dark theme. The template goes into the finished JSON:
    assigning it on the Figure re-validates the whole template, ~50 ms a figure (measured)."""
    out = figure.to_plotly_json()
    out["layout"]["template"] = _dark_template()
    return out


def _base(title: str, **layout: object) -> go.Figure:
    figure = go.Figure()
    defaults: dict[str, object] = {"height": HEIGHT, "margin": {"l": 50, "r": 20, "t": 45, "b": 45}}
    figure.update_layout(title={"text": title, "font": {"size": 14}}, paper_bgcolor="rgba(0,0,0,0)",
                         plot_bgcolor="rgba(0,0,0,0)", **{**defaults, **layout})
    return figure


def _note(figure: go.Figure, text: str) -> go.Figure:
    """An empty figure says why it is empty."""
    figure.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                          font={"color": "#aaa"})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def pr_curve_figure(detail: ModelDetail) -> go.Figure:
    """Precision against recall on the held-out days, with the model's operating point."""
    figure = _base(f"Precision-recall, held-out days (v{detail.version})",
                   xaxis={"title": "recall", "range": [0, 1.02]}, yaxis={"title": "precision", "range": [0, 1.05]})
    if not detail.pr_curve:
        return _note(figure, "No PR curve: training stopped before the held-out days were scored.")
    points = pd.DataFrame([{"recall": p.recall, "precision": p.precision, "threshold": p.threshold}
                           for p in detail.pr_curve]).sort_values("recall")
    figure.add_scatter(x=points["recall"], y=points["precision"], mode="lines", name="PR curve",
                       customdata=points["threshold"], line={"color": "#3498db"},
                       hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<br>threshold %{customdata:.3f}"
                                     "<extra></extra>")
    if detail.confusion is not None:
        c = detail.confusion
        recall = c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0
        precision = c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0
        figure.add_scatter(x=[recall], y=[precision], mode="markers", name="decision threshold",
                           marker={"size": 11, "color": "#f39c12"},
                           hovertemplate="at the model's threshold<br>recall %{x:.3f}<br>precision %{y:.3f}"
                                         "<extra></extra>")
    figure.update_layout(showlegend=False)
    return figure


def confusion_figure(detail: ModelDetail) -> go.Figure:
    """Held-out check-ins by truth and verdict at the model's decision threshold."""
    figure = _base(f"Confusion matrix, held-out days (v{detail.version})")
    if detail.confusion is None:
        return _note(figure, "No confusion matrix: training stopped before the gates.")
    c = detail.confusion
    counts = [[c.tn, c.fp], [c.fn, c.tp]]
    figure.add_heatmap(z=counts, x=["flagged: no", "flagged: yes"], y=["honest", "fraud"], colorscale="Blues",
                       showscale=False, text=[[f"{v:,}" for v in row] for row in counts], texttemplate="%{text}",
                       hovertemplate="%{y}, %{x}: %{z:,}<extra></extra>")
    figure.update_yaxes(autorange="reversed")
    return figure


def importance_figure(detail: ModelDetail) -> go.Figure:
    """The features the model leans on most (share of the total split gain)."""
    top = list(detail.importance[:IMPORTANCE_TOP])
    figure = _base(f"Feature importance (v{detail.version}, share of gain)",
                   height=max(HEIGHT, 24 * len(top) + 80))
    if not top:
        return _note(figure, "No feature importance: this version has no trained model.")
    frame = pd.DataFrame(top, columns=["feature", "share"]).iloc[::-1]   # largest on top
    figure.add_bar(x=frame["share"], y=frame["feature"], orientation="h", marker={"color": "#00bc8c"},
                   hovertemplate="%{y}: %{x:.1%}<extra></extra>")
    figure.update_layout(margin={"l": 190, "r": 20, "t": 45, "b": 40}, xaxis={"tickformat": ".0%"})
    return figure


def shares(counts: Sequence[int]) -> list[float]:
    """Counts per bin as shares of their total (distributions of different sizes compare)."""
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


def recent_trace_name(counts: Sequence[int]) -> str:
    return f"last {RECENT_DAYS} days ({sum(counts):,} check-ins)"


def score_distribution_figure(detail: ModelDetail) -> go.Figure:
    """Share of check-ins per score bin: the model's training data against what it scored in
    the last days. A shift between the two means the world moved since training."""
    figure = _base(f"Scores: training vs last {RECENT_DAYS} days (v{detail.version})",
                   xaxis={"title": "fraud score", "range": [0, 1]},
                   yaxis={"title": "share of check-ins", "type": "log", "tickformat": ".1%"},
                   barmode="group", legend={"orientation": "h", "y": -0.25})
    if not detail.training_histogram:
        return _note(figure, "No training score distribution stored for this version.")
    figure.add_bar(x=_BIN_CENTRES, y=shares(detail.training_histogram), name="training",
                   marker={"color": "#7f8c8d"}, hovertemplate="score %{x:.2f}: %{y:.2%}<extra>training</extra>")
    figure.add_bar(x=_BIN_CENTRES, y=shares(detail.recent_histogram), name=recent_trace_name(detail.recent_histogram),
                   marker={"color": "#3498db"}, hovertemplate="score %{x:.2f}: %{y:.2%}<extra>recent</extra>")
    if not sum(detail.recent_histogram):
        figure.add_annotation(text=f"v{detail.version} scored no check-ins in the last {RECENT_DAYS} days",
                              showarrow=False, x=0.5, y=1.0, xref="paper", yref="paper", font={"color": "#aaa"})
    return figure
