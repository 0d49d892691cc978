"""PUT /api/v1/<kind>: reference data upserted by code, validated, and kept inside the tenant."""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from backend.ingest.reference import upsert_reference
from backend.models import Checkpoint, Client, Person, Shift, Site, Tour
from backend.runtime import Runtime
from tests.factories import World, make_world
from tests.integration.ingest_data import bearer, check_in, scan, stored_counts


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def put(client: FlaskClient, world: World, kind: str, items: Any) -> tuple[int, dict[str, Any]]:
    response = client.put(f"/api/v1/{kind}", json=items, headers=bearer(world.api_token))
    assert response.is_json, response.data[:200]
    return response.status_code, response.get_json()


def errors_of(result: dict[str, Any]) -> dict[str, str]:
    return {error["field"]: error["reason"] for error in result["errors"]}


def rows(runtime: Runtime, model: Any, tenant_id: int) -> dict[str, Any]:
    """The tenant's rows of a reference table by code."""
    with runtime.transaction() as session:
        return {row.code: row for row in session.scalars(sa.select(model).where(model.tenant_id == tenant_id))}


def site(code: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "name": f"Site {code}", "client": "C1", "city": "New York",
            "timezone": "America/New_York", "lat": 40.75, "lon": -73.99, "geofence_radius_m": 200, **fields}


def test_sites_are_created_then_replaced_by_code(client: FlaskClient, world: World, pg_runtime: Runtime) -> None:
    status, body = put(client, world, "sites", [site("NY1"), site("NY2", schedule={"posts": 2})])
    assert (status, body["accepted"]) == (200, 2)
    created = rows(pg_runtime, Site, world.tenant_id)["NY1"]

    status, body = put(client, world, "sites", [site("NY1", name="Renamed", timezone="Europe/Paris", client=None)])

    assert (status, body["results"][0]["status"]) == (200, "accepted")
    sites = rows(pg_runtime, Site, world.tenant_id)
    assert set(sites) == {"S1", "S2", "NY1", "NY2"}
    updated = sites["NY1"]
    assert updated.id == created.id and created.client_id is not None
    assert (updated.name, updated.timezone, updated.client_id, updated.geofence_radius_m) == (
        "Renamed", "Europe/Paris", None, 200.0)
    assert sites["NY2"].schedule == {"posts": 2}


def test_invalid_reference_items_are_rejected_with_the_field_named(client: FlaskClient, world: World,
                                                                   pg_runtime: Runtime) -> None:
    items = [site("OK1"), site("BAD-TZ", timezone="Mars/Olympus"), site("BAD-CLIENT", client="NOPE"),
             site("BAD-LAT", lat=91), site("OK1", name="again"), {"name": "no code", "lat": 1, "lon": 1},
             site("BAD-FENCE", geofence_radius_m=0)]

    status, body = put(client, world, "sites", items)

    assert status == 207
    results = body["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "rejected", "duplicate",
                                              "rejected", "rejected"]
    assert "unknown time zone" in errors_of(results[1])["timezone"]
    assert errors_of(results[2]) == {"client": "unknown client code 'NOPE'"}
    assert set(errors_of(results[3])) == {"lat"}
    assert set(errors_of(results[5])) == {"code"}
    assert set(errors_of(results[6])) == {"geofence_radius_m"}
    sites = rows(pg_runtime, Site, world.tenant_id)
    assert set(sites) == {"S1", "S2", "OK1"} and sites["OK1"].name == "Site OK1"  # the repeat wrote nothing


def test_every_kind_round_trips_and_events_can_then_reference_it(client: FlaskClient, world: World,
                                                                 pg_runtime: Runtime) -> None:
    assert put(client, world, "clients", [{"code": "ACME", "name": "Acme Corp"}])[0] == 200
    assert put(client, world, "sites", [site("HQ", client="ACME"), site("DEPOT")])[0] == 200
    status, body = put(client, world, "checkpoints", [
        {"code": "HQ-GATE", "site": "HQ", "name": "Gate", "lat": 40.75, "lon": -73.99},
        {"code": "HQ-ROOF", "site": "HQ", "name": "Roof", "lat": 40.75, "lon": -73.99},
        {"code": "DEPOT-DOOR", "site": "DEPOT", "name": "Door", "lat": 40.7, "lon": -73.9},
        {"code": "LOST", "site": "NOWHERE", "name": "Lost", "lat": 0, "lon": 0}])
    assert status == 207 and errors_of(body["results"][3]) == {"site": "unknown site code 'NOWHERE'"}
    status, body = put(client, world, "persons", [
        {"code": "G100", "name": "New Guard", "device_id": "dev-100", "home_site": "HQ"},
        {"code": "G101", "name": "Other Guard", "home_site": "ATLANTIS"}])
    assert status == 207 and errors_of(body["results"][1]) == {"home_site": "unknown site code 'ATLANTIS'"}
    status, body = put(client, world, "shifts", [
        {"code": "SH-1", "site": "HQ", "person": "G100", "starts_at": "2026-11-02T08:00:00Z",
         "ends_at": "2026-11-02T16:00:00Z"},
        {"code": "SH-OPEN", "site": "HQ", "starts_at": "2026-11-02T16:00:00Z", "ends_at": "2026-11-03T00:00:00Z"},
        {"code": "SH-BACKWARDS", "site": "HQ", "starts_at": "2026-11-02T16:00:00Z",
         "ends_at": "2026-11-02T08:00:00Z"}])
    assert status == 207 and errors_of(body["results"][2]) == {"ends_at": "must be after starts_at"}
    status, body = put(client, world, "tours", [
        {"code": "T-HQ", "site": "HQ", "name": "HQ round", "checkpoints": ["HQ-GATE", "HQ-ROOF"],
         "interval_minutes": 60, "active_from": "20:00", "active_to": "06:00"},
        {"code": "T-MIXED", "site": "HQ", "name": "Mixed", "checkpoints": ["HQ-GATE", "DEPOT-DOOR", "NOPE"],
         "interval_minutes": 60},
        {"code": "T-BADTIME", "site": "HQ", "name": "Bad", "checkpoints": ["HQ-GATE"], "interval_minutes": 60,
         "active_from": "25:00"}])
    assert status == 207
    assert errors_of(body["results"][1]) == {"checkpoints.2": "unknown checkpoint code 'NOPE'"}
    assert set(errors_of(body["results"][2])) == {"active_from"}

    sites, checkpoints = rows(pg_runtime, Site, world.tenant_id), rows(pg_runtime, Checkpoint, world.tenant_id)
    persons, shifts = rows(pg_runtime, Person, world.tenant_id), rows(pg_runtime, Shift, world.tenant_id)
    tours = rows(pg_runtime, Tour, world.tenant_id)
    assert sites["HQ"].client_id == rows(pg_runtime, Client, world.tenant_id)["ACME"].id
    assert checkpoints["HQ-ROOF"].site_id == sites["HQ"].id and "LOST" not in checkpoints
    assert persons["G100"].home_site_id == sites["HQ"].id and "G101" not in persons
    assert set(shifts) == {"SH-1", "SH-OPEN"} and shifts["SH-1"].person_id == persons["G100"].id
    assert shifts["SH-OPEN"].person_id is None
    assert set(tours) == {"T-HQ"}
    assert tours["T-HQ"].checkpoint_ids == [checkpoints["HQ-GATE"].id, checkpoints["HQ-ROOF"].id]

    # A tour whose checkpoints are at another site is refused, item by item.
    status, body = put(client, world, "tours", [{"code": "T-X", "site": "DEPOT", "name": "X",
                                                 "checkpoints": ["DEPOT-DOOR", "HQ-GATE"], "interval_minutes": 30}])
    assert status == 422
    assert errors_of(body["results"][0]) == {"checkpoints.1": "the checkpoint belongs to another site than the tour"}

    # The new reference data is usable by events at once; a scan's tour must be at its checkpoint's site.
    events = [check_in(person="G100", site="HQ"), scan(person="G100", checkpoint="HQ-ROOF", tour="T-HQ"),
              scan(person="G100", checkpoint="DEPOT-DOOR", tour="T-HQ")]
    response = client.post("/api/v1/events", json=events, headers=bearer(world.api_token))
    assert [r["status"] for r in response.get_json()["results"]] == ["accepted", "accepted", "rejected"]
    assert errors_of(response.get_json()["results"][2]) == {
        "tour": "the tour belongs to another site than the checkpoint"}
    counts = stored_counts(pg_runtime, world.tenant_id)
    assert (counts["attendance_events"], counts["checkpoint_scans"]) == (1, 1)


def test_a_tenant_upserts_only_its_own_rows(client: FlaskClient, world: World, other_world: World,
                                            pg_runtime: Runtime) -> None:
    before = {code: (s.id, s.name) for code, s in rows(pg_runtime, Site, other_world.tenant_id).items()}
    put(client, other_world, "clients", [{"code": "B-ONLY", "name": "B's client"}])

    # Same code as tenant B's S1: tenant A's own S1 changes; B's client code is unknown to A.
    status, body = put(client, world, "sites", [site("S1", name="A's S1"), site("A9", client="B-ONLY")])

    assert status == 207
    assert errors_of(body["results"][1]) == {"client": "unknown client code 'B-ONLY'"}
    assert rows(pg_runtime, Site, world.tenant_id)["S1"].name == "A's S1"
    assert {code: (s.id, s.name) for code, s in rows(pg_runtime, Site, other_world.tenant_id).items()} == before
    status, body = put(client, world, "checkpoints", [
        {"code": "X", "site": "S1", "name": "x", "lat": 1, "lon": 1}])
    assert rows(pg_runtime, Checkpoint, world.tenant_id)["X"].site_id == world.site_ids["S1"]
    assert "X" not in rows(pg_runtime, Checkpoint, other_world.tenant_id)


def test_unknown_kinds_and_bad_bodies_are_json_errors(client: FlaskClient, world: World) -> None:
    assert put(client, world, "widgets", [])[0] == 404
    status, body = put(client, world, "sites", {"code": "S1"})
    assert (status, body["error"]) == (400, "not_an_array")
    assert client.put("/api/v1/sites", json=[site("Z")]).status_code == 401


def test_the_upsert_works_on_both_databases(any_runtime: Runtime) -> None:
    world = make_world(any_runtime)
    for name in ("first", "second"):
        with any_runtime.transaction() as session:
            result = upsert_reference(session, world.tenant_id, "persons",
                                      [{"code": "P1", "name": name, "home_site": "S2"},
                                       {"code": "P9", "name": name}, {"code": "P9", "name": "repeat"}])
        assert [item.status for item in result.items] == ["accepted", "accepted", "duplicate"]
    persons = rows(any_runtime, Person, world.tenant_id)
    assert set(persons) == {"P1", "P2", "P3", "P9"}
    assert (persons["P1"].id, persons["P1"].name, persons["P1"].home_site_id) == (
        world.person_ids["P1"], "second", world.site_ids["S2"])
    assert persons["P9"].name == "second"
