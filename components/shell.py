"""The app shell: navigation bar around the current page."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids


def app_shell() -> html.Div:
    return html.Div([
        dcc.Location(id=ids.URL),
        dbc.NavbarSimple(brand="NOC Intelligence", brand_href="/", color="dark", dark=True,
                         children=[dbc.NavItem(dbc.NavLink("Sign out", href="/logout", external_link=True))]),
        dbc.Container(dash.page_container, fluid=True, className="pt-3"),
    ])
