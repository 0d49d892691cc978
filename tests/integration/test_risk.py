"""Person and site risk from the fraud scores of the last 24 h, on both databases: the highest
score wins with its reasons, old scores and other tenants are out, site scope holds."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.auth.principal import Principal
from backend.enums import AttendanceKind, Role, Scorer
from backend.models import AttendanceEvent, FraudPrediction
from backend.queries.risk import high_risk_persons, site_risks
from backend.runtime import Runtime
from tests.factories import World, make_world

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _score(runtime: Runtime, world: World, person: str, site: str, ago: timedelta, score: float,
           reason: str) -> None:
    with runtime.transaction() as session:
        event = AttendanceEvent(tenant_id=world.tenant_id, client_event_id=f"{person}-{ago}-{score}",
                                ts=NOW - ago, kind=AttendanceKind.CHECK_IN, person_id=world.person_ids[person],
                                site_id=world.site_ids[site], lat=38.7, lon=-9.14)
        session.add(event)
        session.flush()
        session.add(FraudPrediction(tenant_id=world.tenant_id, attendance_event_id=event.id,
                                    person_id=event.person_id, site_id=event.site_id, ts=event.ts, score=score,
                                    scorer=Scorer.MODEL, reasons=[{"feature": "f", "text": reason, "weight": 1.0}]))


def _viewer(world: World, site: str | None = None) -> Principal:
    return Principal(tenant_id=world.tenant_id, role=Role.VIEWER, name="v", user_id=1,
                     site_id=world.site_ids[site] if site else None)


def test_person_and_site_risk(any_runtime: Runtime) -> None:
    world, other = make_world(any_runtime), make_world(any_runtime)
    _score(any_runtime, world, "P1", "S1", timedelta(hours=2), 0.91, "mock-location flag set")
    _score(any_runtime, world, "P1", "S2", timedelta(hours=1), 0.62, "checked in 2.4 km outside the geofence")
    _score(any_runtime, world, "P2", "S2", timedelta(hours=3), 0.2, "nothing much")
    _score(any_runtime, world, "P3", "S1", timedelta(hours=30), 0.99, "too old to count")
    _score(any_runtime, other, "P1", "S1", timedelta(hours=1), 0.95, "another tenant")

    with any_runtime.read() as session:
        persons = high_risk_persons(session, _viewer(world), min_score=0.5, now=NOW)
        scoped = high_risk_persons(session, _viewer(world, "S2"), min_score=0.5, now=NOW)
        asked_elsewhere = high_risk_persons(session, _viewer(world, "S2"), min_score=0.5, site_id=world.site_ids["S1"], now=NOW)
        sites = site_risks(session, _viewer(world), flag_score=0.5, now=NOW)
        scoped_sites = site_risks(session, _viewer(world, "S1"), flag_score=0.5, now=NOW)

    [p1] = persons
    assert (p1.person_id, p1.score, p1.flagged, p1.reasons) == (world.person_ids["P1"], 0.91, 2, ("mock-location flag set",))
    assert p1.site_id == world.site_ids["S1"] and p1.last_flagged_at == NOW - timedelta(hours=1)
    assert p1.site_timezone == "Europe/Lisbon" and p1.scorer is Scorer.MODEL
    [p1_at_s2] = scoped
    assert p1_at_s2.score == 0.62 and p1_at_s2.reasons == ("checked in 2.4 km outside the geofence",)
    assert asked_elsewhere == []
    assert [(s.site_code, s.risk, s.flagged, s.scored) for s in sites] == [("S1", 0.91, 1, 1), ("S2", 0.62, 1, 2)]
    assert [s.site_code for s in scoped_sites] == ["S1"]


def test_sites_without_scores_are_listed_without_risk(any_runtime: Runtime) -> None:
    world = make_world(any_runtime)
    with any_runtime.read() as session:
        sites = site_risks(session, _viewer(world), flag_score=0.5, now=NOW)
        persons = high_risk_persons(session, _viewer(world), min_score=0.5, now=NOW)
    assert [(s.site_code, s.risk, s.scored) for s in sites] == [("S1", None, 0), ("S2", None, 0)] and persons == []
