"""What a broadcast event's row shows wherever it appears (the wall's feed, the events page):
its time in the site's zone, and its title and summary (``backend.queries.event_text``).
The pages lay these out their own way (a feed card, a table row); the text and the clock are
one piece. Styles: ``.event-zone``, ``.event-site``, ``.event-summary`` in assets/app.css."""
from __future__ import annotations

from datetime import datetime

from dash import html


def event_clock(local: datetime, utc: datetime, fmt: str, class_name: str) -> html.Div:
    """The site's wall-clock time with its zone; hovering shows the UTC instant."""
    return html.Div([html.Span(local.strftime(fmt)), html.Small(f" {local.tzname()}", className="event-zone")],
                    className=class_name, title=f"{utc.isoformat()} (UTC)")


def event_what(title: str, summary: str, site_name: str | None = None) -> list[html.Div]:
    """Title (and the site, where the row has no column for it) over the one-line summary."""
    return [html.Div([html.Strong(title), html.Span(f" · {site_name}", className="event-site") if site_name else None]),
            html.Div(summary, className="event-summary")]
