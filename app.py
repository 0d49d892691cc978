"""Entry point: ``create_app(settings)`` builds the Flask server with Dash, auth, the API and
the CLI. ``server`` (for gunicorn: ``app:server``) is built on first access, not at import."""
from __future__ import annotations

from typing import Any

import dash
from dash import _callback
from flask import Flask, jsonify

from backend.auth.web import init_auth
from backend.config import Settings, get_settings
from backend.live import init_live
from backend.runtime import Runtime
from backend.web_context import current_principal_or_none

_page_callbacks: tuple[dict[str, Any], list[Any]] | None = None

# The theme and icons are served from assets/vendor (see its README), not a CDN: wall displays
# on closed networks must not render unstyled. Listed here so they load before assets/app.css.
VENDORED_STYLESHEETS = ["/assets/vendor/bootswatch-5.3.6/darkly.min.css",
                        "/assets/vendor/bootstrap-icons-1.11.3/bootstrap-icons.min.css"]


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    server = Flask(__name__, static_folder=None)
    server.config.update(
        SECRET_KEY=settings.effective_secret_key,
        MAX_CONTENT_LENGTH=settings.ingest_max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookies_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.cookies_secure,
        NOC_SETTINGS=settings,
    )
    server.extensions["noc_runtime"] = Runtime(settings)

    @server.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    init_auth(server)
    init_live(server)  # /ws, after the auth guard
    _register_blueprints_and_cli(server)

    from components.shell import app_shell  # after Dash exists: pages import components

    dash_app = dash.Dash(__name__, server=server, use_pages=True, title="NOC Intelligence",
                         external_stylesheets=VENDORED_STYLESHEETS, assets_path_ignore=["vendor"],
                         suppress_callback_exceptions=True, update_title=None)
    # A function, so Dash builds the shell per page load, inside the request: it shows the user.
    dash_app.layout = lambda: app_shell(current_principal_or_none())
    _adopt_page_callbacks(dash_app)
    server.extensions["noc_dash"] = dash_app
    return server


def _register_blueprints_and_cli(server: Flask) -> None:
    from backend.api import api_blueprint
    from backend.cli import register_cli
    from backend.exports import exports_blueprint

    server.register_blueprint(api_blueprint)
    server.register_blueprint(exports_blueprint)
    register_cli(server)


def _adopt_page_callbacks(dash_app: dash.Dash) -> None:
    """Give this app every ``dash.callback`` of the pages.

    Pages are imported once per process, and Dash hands their module-level callbacks to the
    first app that serves a request, leaving none for a second app (tests build several).
    So keep one copy of them and give each app its own."""
    global _page_callbacks
    if _page_callbacks is None:
        _page_callbacks = (dict(_callback.GLOBAL_CALLBACK_MAP), list(_callback.GLOBAL_CALLBACK_LIST))
    callback_map, callback_list = _page_callbacks
    dash_app.callback_map.update(callback_map)
    dash_app._callback_list.extend(callback_list)
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_CALLBACK_LIST.clear()


def __getattr__(name: str) -> Any:
    # gunicorn (``app:server``) gets the server on first access; importing this module builds nothing.
    if name == "server":
        globals()["server"] = create_app()
        return globals()["server"]
    raise AttributeError(name)
