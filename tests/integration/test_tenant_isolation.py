"""A user of tenant B sees nothing of tenant A — through the feed service, the rendered page,
a hand-made POST to Dash's callback endpoint, and the API — and a site-scoped user sees only
its site. Events go in through the real ingestion API."""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from backend.auth.principal import Principal
from backend.auth.users import create_user, principal_of
from backend.enums import InputType, Role
from backend.models import Site, User
from backend.queries.feed import latest_events, site_options
from backend.runtime import Runtime
from components import ids
from tests.factories import World
from tests.sample_events import bearer, sample_events
from tests.web import call_dash, callback_payload, logged_in_client, login, render_page


def _post_events(app: Flask, token: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = app.test_client().post("/api/v1/events", json=items, headers=bearer(token))
    assert response.is_json, response.get_data()[:300]
    return response.json


def _ingest(app: Flask, world: World, site: str = "S1") -> list[dict[str, Any]]:
    items = sample_events(site=site)
    result = _post_events(app, world.api_token, items)
    assert result["accepted"] == len(items), result
    return items


def _principal(runtime: Runtime, email: str) -> Principal:
    with runtime.sessions() as session:
        return principal_of(session.scalars(sa.select(User).where(User.email == email)).one())


def _feed_response(app: Flask, client: FlaskClient, **values: Any) -> str:
    payload = callback_payload(app, ids.FEED_LIST, {f"{ids.FEED_TICK}.n_intervals": 1,
                                                    **{f"{k}.value": v for k, v in values.items()}})
    response = call_dash(client, payload)
    assert response.status_code == 200, response.get_data()[:300]
    return response.get_data(as_text=True)


@pytest.fixture
def a_and_b(app: Flask, world: World, other_world: World) -> tuple[World, World]:
    """A has events at both sites; B has its own at S1."""
    _ingest(app, world, "S1")
    _ingest(app, world, "S2")
    _ingest(app, other_world, "S1")
    return world, other_world


def test_the_feed_service_returns_only_the_principals_tenant(pg_runtime: Runtime, a_and_b: tuple[World, World]) -> None:
    a, b = a_and_b
    as_b = _principal(pg_runtime, b.users[Role.ADMIN])
    with pg_runtime.sessions() as session:
        items = latest_events(session, as_b)
        by_a_site = latest_events(session, as_b, site_id=a.site_ids["S1"])
        options = site_options(session, as_b)
    assert len(items) == len(InputType)
    assert {item.site_code for item in items} == {"S1"}
    assert all(b.slug in (item.site_name or "") for item in items)
    assert not any(a.slug in repr(item) for item in items)
    assert by_a_site == [], "filtering by another tenant's site id finds nothing"
    assert {option.id for option in options} == set(b.site_ids.values())


def test_a_direct_dash_callback_post_returns_none_of_another_tenants_data(app: Flask,
                                                                           a_and_b: tuple[World, World]) -> None:
    a, b = a_and_b
    client = logged_in_client(app, b.users[Role.SUPERVISOR])
    body = _feed_response(app, client)
    assert b.slug in body, "B sees its own events"
    assert a.slug not in body
    # Asking for A's site by id, or for every type, changes nothing.
    for site_id in a.site_ids.values():
        body = _feed_response(app, client, **{ids.FEED_SITE_FILTER: site_id,
                                              ids.FEED_TYPE_FILTER: [t.value for t in InputType]})
        assert a.slug not in body and "No events match" in body
    # The rendered page (its site filter options) lists only B's sites.
    page = render_page(app, client, "/").get_data(as_text=True)
    assert b.slug in page and a.slug not in page


def test_malformed_callback_inputs_are_ignored_not_errors(app: Flask, a_and_b: tuple[World, World]) -> None:
    _, b = a_and_b
    client = logged_in_client(app, b.users[Role.OPERATOR])
    body = _feed_response(app, client, **{ids.FEED_SITE_FILTER: "1 OR 1=1", ids.FEED_TYPE_FILTER: ["nope", 3]})
    assert b.slug in body  # the bad filters were dropped, the user's own feed remains


def test_another_tenants_api_token_can_neither_read_nor_write_its_data(
        app: Flask, pg_runtime: Runtime, a_and_b: tuple[World, World]) -> None:
    a, b = a_and_b
    # A site only A has: B's token cannot post events to it.
    with pg_runtime.transaction() as session:
        session.add(Site(tenant_id=a.tenant_id, code="A-ONLY", name=f"Only of {a.slug}", timezone="UTC",
                         lat=38.7, lon=-9.1))
    result = _post_events(app, b.api_token, sample_events(site="A-ONLY")[:1])
    assert result["rejected"] == 1 and result["results"][0]["errors"][0]["field"] == "site"

    # The same client event ids as A's: stored as B's own events, not "duplicates" of A's.
    a_items = sample_events(site="S2")
    assert _post_events(app, a.api_token, a_items)["accepted"] == len(a_items)
    assert _post_events(app, b.api_token, a_items)["accepted"] == len(a_items)

    # Reference data by the same code: B's upsert changes B's site, never A's.
    response = app.test_client().put("/api/v1/sites", headers=bearer(b.api_token), json=[
        {"code": "S1", "name": "Renamed by B", "timezone": "Asia/Tokyo", "lat": 35.68, "lon": 139.69}])
    assert response.status_code == 200, response.json
    with pg_runtime.sessions() as session:
        names = dict(session.execute(sa.select(Site.tenant_id, Site.name).where(Site.code == "S1",
                     Site.tenant_id.in_([a.tenant_id, b.tenant_id]))).all())
    assert names == {a.tenant_id: f"Site 1 of {a.slug}", b.tenant_id: "Renamed by B"}

    # Reading: an API token opens no UI data route.
    payload = callback_payload(app, ids.FEED_LIST, {f"{ids.FEED_TICK}.n_intervals": 1})
    assert call_dash(app.test_client(), payload, **bearer(b.api_token)).status_code == 401

    with pg_runtime.sessions() as session:
        a_feed = latest_events(session, _principal(pg_runtime, a.users[Role.ADMIN]), limit=500)
    assert all(a.slug in (item.site_name or "") for item in a_feed), "nothing of B's landed in A"


def test_a_site_scoped_user_sees_only_its_site(app: Flask, pg_runtime: Runtime, a_and_b: tuple[World, World]) -> None:
    a, _ = a_and_b
    email = f"scoped@{a.slug}.test"
    with pg_runtime.transaction() as session:
        create_user(session, a.tenant_id, email, "Scoped Guard Lead", "scoped-password-1", Role.OPERATOR,
                    site_id=a.site_ids["S2"])
    scoped = _principal(pg_runtime, email)
    with pg_runtime.sessions() as session:
        items = latest_events(session, scoped)
        asked_for_s1 = latest_events(session, scoped, site_id=a.site_ids["S1"])
        options = site_options(session, scoped)
    assert items and {item.site_code for item in items} == {"S2"}
    assert asked_for_s1 == []
    assert [option.code for option in options] == ["S2"]

    client = app.test_client()
    assert login(client, email, "scoped-password-1").status_code == 302
    body = _feed_response(app, client, **{ids.FEED_SITE_FILTER: a.site_ids["S1"]})
    assert f"Site 1 of {a.slug}" not in body and "No events match" in body
    body = _feed_response(app, client)
    assert f"Site 2 of {a.slug}" in body and f"Site 1 of {a.slug}" not in body
    page = render_page(app, client, "/").get_data(as_text=True)
    assert f"Site 2 of {a.slug}" in page and f"Site 1 of {a.slug}" not in page
