"""Authentication against the real app (PostgreSQL + Redis): the login form, sessions, the
wallboard token, and the one guard that must refuse anonymous requests to every route."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, Rule

from backend.auth.web import PUBLIC_ENDPOINTS
from backend.enums import Role
from backend.models import User, WallboardToken, utcnow
from backend.runtime import Runtime
from components import ids
from tests.factories import PASSWORD, World
from tests.web import HTML, callback_payload, csrf_token, logged_in_client, login


def _is_login_redirect(response, next_path: str | None = None) -> bool:
    if response.status_code != 302:
        return False
    location = urlsplit(response.headers["Location"])
    if location.path != "/login":
        return False
    return next_path is None or parse_qs(location.query).get("next") == [next_path]


def _is_401_json(response) -> bool:
    return response.status_code == 401 and response.is_json and response.json["error"] == "unauthorized"


# -- the login form ---------------------------------------------------------------------------

def test_login_form_logs_in_and_refuses_a_post_without_its_csrf_token(app: Flask, world: World) -> None:
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)

    forged = client.post("/login", data={"email": world.users[Role.OPERATOR], "password": PASSWORD})
    assert forged.status_code == 401 and "expired" in forged.get_data(as_text=True)
    bad_token = client.post("/login", data={"email": world.users[Role.OPERATOR], "password": PASSWORD,
                                            "csrf_token": "not-the-token"})
    assert bad_token.status_code == 401
    assert _is_login_redirect(client.get("/", headers=HTML)), "no session after refused posts"

    response = login(client, world.users[Role.OPERATOR])
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/", headers=HTML).status_code == 200
    assert client.get("/_dash-layout").status_code == 200


@pytest.mark.parametrize(("email", "password"), [("known", "wrong-password-1"), ("nobody@nowhere.test", PASSWORD)])
def test_a_wrong_password_or_unknown_email_is_refused_alike(app: Flask, world: World, email: str,
                                                            password: str) -> None:
    client = app.test_client()
    response = login(client, world.users[Role.OPERATOR] if email == "known" else email, password)
    assert response.status_code == 401
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert _is_401_json(client.get("/_dash-layout"))


@pytest.mark.parametrize(("next_", "expected"), [
    ("/tickets?state=open", "/tickets?state=open"),
    ("https://evil.example/phish", "/"),
    ("//evil.example/phish", "/"),
    ("evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_only_redirects_within_the_site(app: Flask, world: World, next_: str, expected: str) -> None:
    response = login(app.test_client(), world.users[Role.VIEWER], next_=next_)
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_a_page_load_remembers_where_it_was_going(app: Flask) -> None:
    response = app.test_client().get("/sites/12?tab=tickets", headers=HTML)
    assert _is_login_redirect(response, next_path="/sites/12?tab=tickets")


def test_logout_ends_the_session(app: Flask, world: World) -> None:
    client = logged_in_client(app, world.users[Role.SUPERVISOR])
    response = client.get("/logout")
    assert _is_login_redirect(response)
    assert _is_login_redirect(client.get("/", headers=HTML))
    assert _is_401_json(client.get("/_dash-layout"))


def test_a_deactivated_users_session_stops_working(app: Flask, world: World, pg_runtime: Runtime) -> None:
    email = world.users[Role.OPERATOR]
    client = logged_in_client(app, email)
    assert client.get("/_dash-layout").status_code == 200
    with pg_runtime.transaction() as session:
        session.execute(sa.update(User).where(User.email == email).values(active=False))
    assert _is_401_json(client.get("/_dash-layout"))
    assert _is_login_redirect(client.get("/", headers=HTML))
    assert login(app.test_client(), email).status_code == 401, "and cannot log in again"


# -- every route refuses anonymous requests ------------------------------------------------

def _sample_url(app: Flask, rule: Rule) -> str:
    """A concrete URL for the rule: a valid value for each of its variables."""
    values = {}
    for name, converter in rule._converters.items():  # werkzeug has no public accessor
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, PathConverter):
            values[name] = "some/sample/path.js"
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        else:
            values[name] = "sample"
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=next(iter(rule.methods or {"GET"})))


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    return sorted({(rule.endpoint, method, _sample_url(app, rule))
                   for rule in app.url_map.iter_rules()
                   for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}})


def test_only_login_logout_and_health_are_public(app: Flask) -> None:
    assert PUBLIC_ENDPOINTS == {"auth.login", "auth.logout", "health"}
    endpoints = {endpoint for endpoint, _, _ in _routes(app)}
    assert PUBLIC_ENDPOINTS <= endpoints
    # The routes this test must cover exist (a renamed Dash route would otherwise go unchecked).
    assert {"/_dash-update-component", "/_dash-layout", "/_dash-dependencies", "/", "/<path:path>",
            "api.post_events"} <= endpoints


def test_anonymous_requests_to_every_route_are_refused(app: Flask) -> None:
    client = app.test_client()
    client.get("/health")  # the first request makes Dash register its remaining routes
    feed_payload = callback_payload(app, ids.FEED_LIST, {f"{ids.FEED_TICK}.n_intervals": 1})
    checked = []
    for endpoint, method, url in _routes(app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        body = {"json": feed_payload} if url == "/_dash-update-component" else {}
        response = client.open(url, method=method, headers=HTML, **body)
        page_load = method == "GET" and not url.startswith(("/_dash", "/api/"))
        if page_load:
            assert _is_login_redirect(response), (method, url, response.status_code)
            # The same URL asked for by script (not a page load) gets a 401, not a redirect.
            assert _is_401_json(client.get(url, headers={"Accept": "application/json"})), url
        else:
            assert _is_401_json(response), (method, url, response.status_code, response.get_data()[:200])
        checked.append((method, url))
    assert len(checked) >= 12, checked


def test_the_public_endpoints_answer_anonymously(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/health").json == {"status": "ok"}
    assert client.get("/login").status_code == 200
    assert _is_login_redirect(client.get("/logout"))


def test_a_bearer_api_token_opens_no_dash_route(app: Flask, world: World) -> None:
    client = app.test_client()
    auth = {"Authorization": f"Bearer {world.api_token}"}
    assert _is_401_json(client.get("/_dash-layout", headers=auth))
    payload = callback_payload(app, ids.FEED_LIST, {f"{ids.FEED_TICK}.n_intervals": 1})
    assert _is_401_json(client.post("/_dash-update-component", json=payload, headers=auth))


# -- wallboard tokens ------------------------------------------------------------------------

def test_a_wallboard_token_logs_in_a_read_only_viewer_and_leaves_the_address_bar(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.get(f"/?kiosk=1&wallboard_token={world.wallboard_token}", headers=HTML)
    assert response.status_code == 302 and response.headers["Location"] == "/?kiosk=1"
    assert client.get("/?kiosk=1", headers=HTML).status_code == 200
    shell = client.get("/_dash-layout").get_data(as_text=True)
    assert '"wall"' in shell and '"viewer"' in shell  # the token's name and the viewer role


def test_a_bad_or_revoked_wallboard_token_is_refused(app: Flask, world: World, pg_runtime: Runtime) -> None:
    client = app.test_client()
    assert _is_401_json(client.get("/?wallboard_token=wall_not-a-real-token", headers=HTML))
    assert client.get(f"/?wallboard_token={world.wallboard_token}", headers=HTML).status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    with pg_runtime.transaction() as session:
        session.execute(sa.update(WallboardToken).where(WallboardToken.tenant_id == world.tenant_id)
                        .values(revoked_at=utcnow()))
    assert _is_401_json(client.get("/_dash-layout")), "the kiosk's session ends with its token"
    assert _is_401_json(client.get(f"/?wallboard_token={world.wallboard_token}", headers=HTML))


def test_the_login_form_token_is_per_session(app: Flask) -> None:
    # A token scraped from one browser's form is useless in another session.
    first, second = app.test_client(), app.test_client()
    token = csrf_token(first)
    response = second.post("/login", data={"email": "x@y.test", "password": "whatever-1", "csrf_token": token})
    assert response.status_code == 401 and "expired" in response.get_data(as_text=True)
