"""The app shell: the navigation bar (built from ``dash.page_registry``, so a new page shows
up by registering itself) and the signed-in user, around the current page."""
from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from backend.auth.principal import Principal
from components import ids
from components.display import pages_store
from components.live import live_status_badge, live_stores
from components.registry import may_open

PRODUCT_NAME = "NOC Intelligence"


def nav_links(registry: dict[str, dict[str, Any]], principal: Principal | None = None) -> list[dbc.NavItem]:
    """One link per registered page the principal may open (``components.registry``), in
    registry order; a page opts out with ``nav=False``. A link is active on its page and the
    pages below it (``/persons`` on ``/persons/12``)."""
    return [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"],
                                    active="exact" if page["relative_path"] == "/" else "partial"))
            for page in registry.values() if page.get("nav", True) and may_open(page, principal)]


def user_menu(principal: Principal | None) -> list[Any]:
    if principal is None:  # the guard keeps anonymous users out; render nothing personal
        return []
    role = principal.role.value.replace("_", " ")
    return [
        dbc.NavItem(html.Span([html.I(className="bi bi-person-circle me-2"), principal.name,
                               dbc.Badge(role, color="secondary", className="ms-2")],
                              id=ids.NAV_USER, className="navbar-text me-3")),
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-box-arrow-right me-1"), "Sign out"],
                                id=ids.SIGN_OUT, href="/logout", external_link=True)),
    ]


def navbar(registry: dict[str, dict[str, Any]], principal: Principal | None) -> dbc.Navbar:
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand([html.I(className="bi bi-shield-check me-2"), PRODUCT_NAME], href="/"),
        dbc.Nav(nav_links(registry, principal), navbar=True, className="me-auto"),
        dbc.Nav([dbc.NavItem(live_status_badge(), className="me-3"), *user_menu(principal)],
                navbar=True, className="ms-auto align-items-center"),
    ], fluid=True), id=ids.NAVBAR, color="dark", dark=True, className="border-bottom border-secondary")


def app_shell(principal: Principal | None) -> html.Div:
    """The whole app's layout around ``dash.page_container``. Built per page load (see app.py)
    so the navbar shows who is signed in."""
    return html.Div([
        dcc.Location(id=ids.URL),
        *live_stores(),  # the WebSocket bridge (assets/live.js) writes here, whatever the page
        pages_store(dash.page_registry, principal),  # kiosk mode and page rotation (components/display.py)
        navbar(dash.page_registry, principal),
        dbc.Container(dash.page_container, fluid=True, className="pt-3 pb-4"),
    ])
