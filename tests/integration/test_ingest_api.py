"""POST /api/v1/events through the real Flask app on PostgreSQL + Redis: validation, per-item
results, idempotent replays, auth and tenancy, scoring jobs and published NOC alerts.

Every test asserts on what is stored (rows, jobs, stream entries), not only on status codes."""
from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue

from backend.enums import EventType
from backend.events import EVENT_STREAM_KEY
from backend.ingest.service import ingest_events
from backend.models import AttendanceEvent, CheckpointScan, EventLogEntry, NocAlert, UnscoredAttendance
from backend.queues import SCORE_CHECKINS_JOB, QueueName
from backend.runtime import Runtime
from tests.factories import World
from tests.integration.ingest_data import (alert, bearer, check_in, check_out, iso, mixed_batch, phone, ping,
                                           scan, stored_counts, total_stored)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def post(client: FlaskClient, world: World, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/api/v1/events", json=body, headers=bearer(world.api_token))
    assert response.is_json, response.data[:200]
    return response.status_code, response.get_json()


def errors_of(result: dict[str, Any]) -> dict[str, str]:
    return {error["field"]: error["reason"] for error in result["errors"]}


def scoring_jobs(runtime: Runtime, tenant_id: int) -> list[Any]:
    queue = Queue(QueueName.SCORING.value, connection=runtime.redis)
    return [job for job in queue.get_jobs() if job.args and job.args[0] == tenant_id]


def test_a_batch_of_every_kind_is_stored_with_resolved_ids(client: FlaskClient, world: World,
                                                          pg_runtime: Runtime) -> None:
    batch = mixed_batch(16)
    status, body = post(client, world, batch)

    assert status == 200
    assert (body["received"], body["accepted"], body["duplicate"], body["rejected"]) == (16, 16, 0, 0)
    assert [r["index"] for r in body["results"]] == list(range(16))
    assert stored_counts(pg_runtime, world.tenant_id) == {
        "attendance_events": 4, "location_pings": 6, "checkpoint_scans": 2, "phone_activities": 2,
        "noc_alerts": 2}
    with pg_runtime.transaction() as session:
        scans = session.execute(sa.select(CheckpointScan.site_id, CheckpointScan.checkpoint_id)
                                .where(CheckpointScan.tenant_id == world.tenant_id)).all()
    # A scan is stored at its checkpoint's site, though the device sent only the checkpoint.
    assert sorted(scans) == sorted((world.site_ids[item["checkpoint"].split("-")[0]],
                                    world.checkpoint_ids[item["checkpoint"]])
                                   for item in batch if item["type"] == "checkpoint_scan")


def test_replaying_the_same_1000_event_batch_stores_it_once(client: FlaskClient, world: World,
                                                           pg_runtime: Runtime) -> None:
    batch = mixed_batch(1000)

    first_status, first = post(client, world, batch)
    second_status, second = post(client, world, batch)

    assert (first_status, first["accepted"]) == (200, 1000)
    assert (second_status, second["accepted"], second["duplicate"]) == (200, 0, 1000)
    assert {r["status"] for r in second["results"]} == {"duplicate"}
    assert total_stored(pg_runtime, world.tenant_id) == 1000


def test_malformed_items_are_rejected_with_the_field_named_and_the_valid_ones_stored(
        client: FlaskClient, world: World, pg_runtime: Runtime) -> None:
    missing = check_in()
    del missing["person"]
    items = [
        check_in(),                                   # 0 valid
        missing,                                      # 1 missing field
        check_in(lat="north"),                        # 2 wrong type
        check_in(lat=91),                             # 3 out of range
        check_in(ts="2099-01-01T00:00:00+00:00"),     # 4 far future
        check_in(site="NO-SUCH-SITE"),                # 5 unknown site
        ping(person="NOBODY"),                        # 6 unknown person
        scan(checkpoint="NO-CP"),                     # 7 unknown checkpoint
        check_in(ts="2026-01-01T08:00:00"),           # 8 no UTC offset
        {"type": "teleport", "id": "x-1"},            # 9 unknown type
        {"id": "x-2"},                                # 10 no type
        "not an object",                              # 11
        check_in(colour="red"),                       # 12 unknown field
        check_in(ts=iso(seconds_ago=500 * 86400)),    # 13 too old
        alert(),                                      # 14 valid
        check_in(id=17),                              # 15 id of the wrong type
    ]

    status, body = post(client, world, items)

    assert status == 207
    results = body["results"]
    assert [r["status"] for r in results] == ["accepted"] + ["rejected"] * 13 + ["accepted", "rejected"]
    assert (body["accepted"], body["rejected"]) == (2, 14)
    assert "person" in errors_of(results[1]) and "required" in errors_of(results[1])["person"].lower()
    assert "number" in errors_of(results[2])["lat"]
    assert "90" in errors_of(results[3])["lat"]
    assert "future" in errors_of(results[4])["ts"]
    assert errors_of(results[5]) == {"site": "unknown site code 'NO-SUCH-SITE'"}
    assert errors_of(results[6]) == {"person": "unknown person code 'NOBODY'"}
    assert errors_of(results[7]) == {"checkpoint": "unknown checkpoint code 'NO-CP'"}
    assert "timezone" in errors_of(results[8])["ts"]
    assert errors_of(results[9]) == {"type": "unknown type 'teleport'"}
    assert set(errors_of(results[10])) == {"type"}
    assert errors_of(results[11]) == {"item": "must be a JSON object"}
    assert set(errors_of(results[12])) == {"colour"}
    assert "older than" in errors_of(results[13])["ts"]
    assert set(errors_of(results[15])) == {"id"}
    assert results[9]["id"] == "x-1" and results[15]["id"] is None  # the client's id is echoed when usable
    assert stored_counts(pg_runtime, world.tenant_id) == {
        "attendance_events": 1, "location_pings": 0, "checkpoint_scans": 0, "phone_activities": 0,
        "noc_alerts": 1}


def test_a_repeated_client_id_within_a_batch_is_stored_once(client: FlaskClient, world: World,
                                                           pg_runtime: Runtime) -> None:
    first = check_in()
    repeat = {**first, "lat": 38.0}

    status, body = post(client, world, [first, ping(), repeat])

    assert status == 200
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted", "duplicate"]
    with pg_runtime.transaction() as session:
        lats = session.scalars(sa.select(AttendanceEvent.lat).where(AttendanceEvent.tenant_id == world.tenant_id)).all()
    assert lats == [first["lat"]]  # the first one wins, the repeat wrote nothing


def test_a_scan_stating_another_site_than_its_checkpoints_is_rejected(client: FlaskClient, world: World,
                                                                     pg_runtime: Runtime) -> None:
    status, body = post(client, world, [scan(checkpoint="S1-CP1", site="S2"), scan(checkpoint="S1-CP1", site="S1")])

    assert status == 207
    assert errors_of(body["results"][0]) == {"site": "the checkpoint belongs to another site"}
    assert body["results"][1]["status"] == "accepted"
    assert stored_counts(pg_runtime, world.tenant_id)["checkpoint_scans"] == 1


def test_a_batch_with_every_item_rejected_is_422_and_stores_nothing(client: FlaskClient, world: World,
                                                                    pg_runtime: Runtime) -> None:
    status, body = post(client, world, [check_in(lat=95), ping(person="NOBODY")])

    assert (status, body["rejected"]) == (422, 2)
    assert total_stored(pg_runtime, world.tenant_id) == 0


@pytest.mark.parametrize(("data", "error"), [
    (b"{not json", "invalid_json"),
    (b"", "invalid_json"),
    (b"[NaN]", "invalid_json"),
    (b"[" * 50_000 + b"]" * 50_000, "invalid_json"),   # deep nesting: a 400, not a RecursionError
    (b'{"type": "check_in"}', "not_an_array"),
    (b'"events"', "not_an_array"),
])
def test_a_body_that_is_not_a_json_array_is_a_400_naming_the_problem(client: FlaskClient, world: World,
                                                                     data: bytes, error: str) -> None:
    response = client.post("/api/v1/events", data=data, content_type="application/json",
                           headers=bearer(world.api_token))

    assert response.status_code == 400
    assert response.get_json()["error"] == error


def test_more_items_than_the_batch_limit_is_a_413_naming_the_limit(client: FlaskClient, world: World,
                                                                   pg_runtime: Runtime) -> None:
    limit = pg_runtime.settings.ingest_max_batch

    status, body = post(client, world, mixed_batch(limit + 1))

    assert status == 413
    assert body["error"] == "batch_too_large" and body["limit"] == limit and str(limit) in body["detail"]
    assert total_stored(pg_runtime, world.tenant_id) == 0


def test_an_oversized_body_is_a_413_json_error(client: FlaskClient, world: World, pg_runtime: Runtime) -> None:
    limit = pg_runtime.settings.ingest_max_body_bytes
    event = check_in(device_id=None)
    body = json.dumps([event] * (limit // len(json.dumps(event)) + 10)).encode()
    assert len(body) > limit

    response = client.post("/api/v1/events", data=body, content_type="application/json",
                           headers=bearer(world.api_token))

    assert response.status_code == 413
    assert response.get_json() == {"error": "body_too_large", "limit": limit,
                                   "detail": f"the request body is larger than {limit} bytes"}
    assert total_stored(pg_runtime, world.tenant_id) == 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer noc_not-a-real-token"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_no_token_or_a_bad_token_is_a_401_and_stores_nothing(client: FlaskClient, world: World,
                                                             pg_runtime: Runtime, headers: dict[str, str]) -> None:
    response = client.post("/api/v1/events", json=[check_in()], headers=headers)

    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert total_stored(pg_runtime, world.tenant_id) == 0


def test_a_tenant_cannot_reference_another_tenants_sites(client: FlaskClient, world: World, other_world: World,
                                                         pg_runtime: Runtime) -> None:
    # A site only tenant B has (both worlds have S1/S2, which each resolve to their own).
    created = client.put("/api/v1/sites", headers=bearer(other_world.api_token),
                         json=[{"code": "ONLY-B", "name": "B's own site", "lat": 41.15, "lon": -8.61}])
    assert created.get_json()["accepted"] == 1

    status, body = post(client, world, [check_in(site="ONLY-B"), alert(site="ONLY-B"), check_in(site="S1")])

    assert status == 207
    assert [errors_of(r) for r in body["results"][:2]] == [{"site": "unknown site code 'ONLY-B'"}] * 2
    assert stored_counts(pg_runtime, world.tenant_id)["attendance_events"] == 1
    assert total_stored(pg_runtime, other_world.tenant_id) == 0
    with pg_runtime.transaction() as session:
        stored_site = session.scalar(sa.select(AttendanceEvent.site_id)
                                     .where(AttendanceEvent.tenant_id == world.tenant_id))
    assert stored_site == world.site_ids["S1"] != other_world.site_ids["S1"]


def test_accepted_check_ins_are_unscored_and_one_scoring_job_carries_their_ids(
        client: FlaskClient, world: World, pg_runtime: Runtime) -> None:
    batch = [check_in(), ping(), check_out(), phone(), check_in(person="P2", site="S2"), check_in(lat=-91)]

    status, body = post(client, world, batch)
    replay_status, replay = post(client, world, batch[:5])

    assert (status, body["accepted"], replay["duplicate"]) == (207, 5, 5)
    with pg_runtime.transaction() as session:
        stored = set(session.scalars(sa.select(AttendanceEvent.id).where(AttendanceEvent.tenant_id == world.tenant_id)))
    assert len(stored) == 3 and unscored_ids(pg_runtime, world.tenant_id) == stored
    jobs = scoring_jobs(pg_runtime, world.tenant_id)
    assert len(jobs) == 1  # one per batch that added check-ins; the replay added none
    assert jobs[0].func_name == SCORE_CHECKINS_JOB
    tenant_id, event_ids = jobs[0].args
    assert (tenant_id, set(event_ids)) == (world.tenant_id, stored)


def unscored_ids(runtime: Runtime, tenant_id: int) -> set[int]:
    """The tenant's check-ins listed in the scoring queue table (by the insert trigger)."""
    with runtime.read() as session:
        return set(session.scalars(sa.select(UnscoredAttendance.attendance_event_id)
                                   .where(UnscoredAttendance.tenant_id == tenant_id)))


def test_noc_alerts_are_published_to_the_event_log_and_the_redis_stream(
        client: FlaskClient, world: World, pg_runtime: Runtime) -> None:
    panic, offline = alert(site="S1", kind="panic", severity="critical"), alert(site="S2", kind="device_offline",
                                                                              severity="medium", person=None)

    status, _ = post(client, world, [panic, check_in(), offline])
    post(client, world, [panic])  # a replayed alert is not published again

    assert status == 200
    with pg_runtime.transaction() as session:
        alert_ids = dict(session.execute(sa.select(NocAlert.client_event_id, NocAlert.id)
                                         .where(NocAlert.tenant_id == world.tenant_id)).all())
        logged = session.scalars(sa.select(EventLogEntry).where(EventLogEntry.tenant_id == world.tenant_id)
                                 .order_by(EventLogEntry.id)).all()
    assert [(e.type, e.site_id, e.person_id, e.severity) for e in logged] == [
        (EventType.ALERT_RECEIVED, world.site_ids["S1"], world.person_ids["P2"], "critical"),
        (EventType.ALERT_RECEIVED, world.site_ids["S2"], None, "medium")]
    assert logged[0].data == {"alert_id": alert_ids[panic["id"]], "client_id": panic["id"], "kind": "panic",
                              "message": "panic button pressed", "ts": logged[0].data["ts"]}
    streamed = [json.loads(fields[b"event"]) for _, fields in pg_runtime.redis.xrange(EVENT_STREAM_KEY)]
    mine = [env for env in streamed if env["tenant"] == world.tenant_id]
    assert [(env["id"], env["type"], env["data"]["kind"]) for env in mine] == [
        (logged[0].id, "alert_received", "panic"), (logged[1].id, "alert_received", "device_offline")]


def test_with_redis_down_the_batch_is_still_stored_and_left_unscored(
        world: World, pg_runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    settings = pg_runtime.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})  # nothing listens
    runtime = Runtime(settings)
    try:
        with caplog.at_level(logging.WARNING):
            result = ingest_events(runtime, world.tenant_id, [check_in(), check_out(), alert()])
    finally:
        runtime.close()

    assert [item.status for item in result.items] == ["accepted"] * 3
    assert result.scoring_job_id is None
    assert "stay unscored" in caplog.text
    assert len(unscored_ids(pg_runtime, world.tenant_id)) == 2
    assert stored_counts(pg_runtime, world.tenant_id)["noc_alerts"] == 1


def test_unknown_api_paths_and_methods_answer_json(client: FlaskClient, world: World) -> None:
    for method, path in [("get", "/api/v1/nothing-here"), ("get", "/api/v1/events"), ("delete", "/api/v1/sites")]:
        response = getattr(client, method)(path, headers=bearer(world.api_token))
        assert response.status_code == 404 and response.get_json()["error"] == "not_found", (method, path)
