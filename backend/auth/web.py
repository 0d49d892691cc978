"""The web side of auth: Flask-Login, the login page, and the one guard that covers every
route — pages, Dash callbacks (``/_dash-*``), the API and the WebSocket handshake.

Dash serves all pages from one catch-all view and its callbacks POST to
``/_dash-update-component``, so per-view decorators protect nothing; this guard runs
before every request instead (see STACK.md)."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import (Blueprint, Flask, Response, current_app, g, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from backend.auth.principal import Principal
from backend.auth.tokens import tenant_of_api_token
from backend.auth.users import authenticate, load_principal, wallboard_principal
from backend.runtime import Runtime

bp = Blueprint("auth", __name__, template_folder="../templates")

PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.logout", "health"})
WALLBOARD_PARAM = "wallboard_token"


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["noc_runtime"]


class LoginForm(FlaskForm):  # CSRF token included and checked by Flask-WTF
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        with runtime_of(current_app).read() as session:
            principal = authenticate(session, form.email.data or "", form.password.data or "")
        if principal is not None:
            login_user(principal)
            return redirect(_safe_next(request.args.get("next")))
        error = "Wrong e-mail or password."
    elif request.method == "POST":
        error = "The form expired or was incomplete; please try again."
    status = 401 if error else 200
    return render_template("login.html", form=form, error=error), status  # type: ignore[return-value]


@bp.route("/logout")
def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an absolute ``next`` would be an open redirect."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _unauthorized(detail: str, status: int = 401) -> Response:
    response = jsonify(error="unauthorized" if status == 401 else "forbidden", detail=detail)
    response.status_code = status
    return response


def _is_browser_page_load() -> bool:
    return (request.method == "GET" and not request.path.startswith(("/_dash", "/api/"))
            and request.headers.get("Upgrade", "").lower() != "websocket"
            and "text/html" in request.headers.get("Accept", "text/html"))


def guard() -> Response | None:
    """Runs before every request. Returns a refusal, or None to let the request through."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.path.startswith("/api/"):
        token = _bearer_token()
        if token is None:
            return _unauthorized("missing bearer token (Authorization: Bearer <API token>)")
        with runtime_of(current_app).read() as session:
            tenant_id = tenant_of_api_token(session, token)
        if tenant_id is None:
            return _unauthorized("invalid or revoked API token")
        g.api_tenant_id = tenant_id
        return None
    wall_token = request.args.get(WALLBOARD_PARAM)
    if wall_token and request.method == "GET":
        with runtime_of(current_app).read() as session:
            principal = wallboard_principal(session, wall_token)
        if principal is None:
            return _unauthorized("invalid or revoked wallboard token")
        login_user(principal, remember=True)  # a kiosk survives browser restarts
        if _is_browser_page_load():  # drop the secret from the address bar and history
            query = {k: v for k, v in request.args.items() if k != WALLBOARD_PARAM}
            return redirect(request.path + (f"?{urlencode(query)}" if query else ""))
        return None
    if current_user.is_authenticated:
        return None
    if _is_browser_page_load():
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return _unauthorized("login required")


def init_auth(server: Flask) -> None:
    manager = LoginManager()
    manager.init_app(server)
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(session_id: str) -> Principal | None:
        with runtime_of(server).read() as session:
            return load_principal(session, session_id)

    server.register_blueprint(bp)
    server.before_request(guard)
