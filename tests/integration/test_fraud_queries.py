"""The fraud and person read services on both databases: who may read them, tenant and site
scope, and the aggregates (score bins, site-local days and hours, a person's evidence)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.auth.principal import Principal
from backend.enums import FraudKind, Role, Severity, TicketPriority, TicketSource
from backend.models import Person, Site, Ticket
from backend.queries.access import NotAllowed
from backend.queries.evidence import person_evidence_csv
from backend.queries.fraud import fraud_overview, fraud_rows
from backend.queries.fraud_schemas import score_bin
from backend.queries.persons import person_checkins, person_detail, person_list
from backend.runtime import Runtime
from tests.factories import World, make_world
from tests.fraud_data import scored_checkin

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
T = 0.5


def _as(world: World, role: Role = Role.OPERATOR, site: str | None = None) -> Principal:
    return Principal(tenant_id=world.tenant_id, role=role, name="t", user_id=1,
                     site_id=world.site_ids[site] if site else None)


def _seed(runtime: Runtime) -> tuple[World, World]:
    world, other = make_world(runtime), make_world(runtime)
    with runtime.transaction() as session:  # S2 in Tokyo: its days and hours are 9 h ahead
        session.execute(sa.update(Site).where(Site.id == world.site_ids["S2"]).values(timezone="Asia/Tokyo"))
    scored_checkin(runtime, world, "P1", "S1", NOW - timedelta(hours=2), 0.91, ("mock-location flag set",),
                   anomalies=(FraudKind.GPS_SPOOFING,), mock_location=True)
    scored_checkin(runtime, world, "P1", "S2", NOW - timedelta(hours=16), 0.62, ("checked in 2.4 km outside the geofence",))
    scored_checkin(runtime, world, "P2", "S2", NOW - timedelta(hours=3), 0.1)
    scored_checkin(runtime, world, "P3", "S1", NOW - timedelta(days=3), 0.97, ("same device as G. Two",))
    scored_checkin(runtime, world, "P3", "S1", NOW - timedelta(days=45), 0.99, ("too old",))
    scored_checkin(runtime, world, "P2", "S1", NOW - timedelta(minutes=5), None)  # not scored yet
    scored_checkin(runtime, other, "P1", "S1", NOW - timedelta(hours=1), 0.95, ("another tenant",))
    return world, other


def test_fraud_overview_aggregates_in_site_local_time(any_runtime: Runtime) -> None:
    world, _ = _seed(any_runtime)
    with any_runtime.read() as session:
        view = fraud_overview(session, _as(world), threshold=T, now=NOW)
        with pytest.raises(NotAllowed):
            fraud_overview(session, _as(world, Role.VIEWER), threshold=T, now=NOW)

    assert [(p.person_code, p.score, p.flagged, p.reasons) for p in view.high_risk] == [
        ("P1", 0.91, 2, ("mock-location flag set",))]
    expected_bins = [0] * 20
    for score in (0.91, 0.62, 0.1):  # the last 24 h only, this tenant only
        expected_bins[score_bin(score)] += 1
    assert list(view.bins) == expected_bins and view.scored_24h == 3
    assert score_bin(1.0) == 19 and score_bin(0.0) == 0

    by_day = {d.day: d for d in view.trend}
    assert view.trend[0].day == date(2026, 10, 22) and view.trend[-1].day == date(2026, 11, 20)
    assert len(view.trend) == 30 and view.days == 30
    today = by_day[date(2026, 11, 20)]  # P1 at S2 16 h ago is 20:00 UTC yesterday = 05:00 today in Tokyo
    assert (today.scored, today.flagged, today.max_score) == (3, 2, 0.91)
    assert today.mean_score == pytest.approx((0.91 + 0.62 + 0.1) / 3)
    assert by_day[date(2026, 11, 17)].flagged == 1 and by_day[date(2026, 11, 18)].scored == 0
    assert by_day[date(2026, 11, 18)].max_score is None

    cells = {(c.site_name.split(" of ")[0], c.hour): c.flagged for c in view.site_hours}
    assert cells == {("Site 1", 10): 1, ("Site 1", 12): 1, ("Site 2", 5): 1}, "flagged only, site-local hours"
    assert [(s.site_code, s.risk, s.flagged) for s in view.sites] == [("S1", 0.91, 1), ("S2", 0.62, 1)]


def test_fraud_overview_respects_site_scope(any_runtime: Runtime) -> None:
    world, _ = _seed(any_runtime)
    with any_runtime.read() as session:
        view = fraud_overview(session, _as(world, site="S2"), threshold=T, now=NOW)
        rows = fraud_rows(session, _as(world), person_ids=[world.person_ids["P1"], world.person_ids["P2"]],
                          threshold=T, now=NOW)
    assert [(p.person_code, p.score) for p in view.high_risk] == [("P1", 0.62)]
    assert view.scored_24h == 2 and {c.site_id for c in view.site_hours} == {world.site_ids["S2"]}
    assert [s.site_code for s in view.sites] == ["S2"]
    assert [(p.person_code, p.score) for p in rows] == [("P1", 0.91)], "P2 is below the threshold"


def test_person_list_search_risk_and_scope(any_runtime: Runtime) -> None:
    world, other = _seed(any_runtime)
    with any_runtime.transaction() as session:
        session.execute(sa.update(Person).where(Person.id == world.person_ids["P2"]).values(name="Zoë 100%_real"))
    with any_runtime.read() as session:
        everyone = person_list(session, _as(world), threshold=T, now=NOW)
        found = person_list(session, _as(world), threshold=T, search="100%_", now=NOW)
        by_code = person_list(session, _as(world), threshold=T, search="p3", now=NOW)
        none = person_list(session, _as(world), threshold=T, search="P%3", now=NOW)
        at_s2 = person_list(session, _as(world, site="S2"), threshold=T, now=NOW)
        limited = person_list(session, _as(world), threshold=T, limit=2, now=NOW)
        with pytest.raises(NotAllowed):
            person_list(session, _as(world, Role.VIEWER), threshold=T, now=NOW)
    assert [(p.code, p.risk, p.flagged, p.scored, p.top_reason) for p in everyone.persons] == [
        ("P1", 0.91, 2, 2, "mock-location flag set"), ("P2", 0.1, 0, 1, None), ("P3", None, 0, 0, None)]
    assert not everyone.truncated and limited.truncated and len(limited.persons) == 2
    assert [p.code for p in found.persons] == ["P2"] and [p.code for p in by_code.persons] == ["P3"]
    assert none.persons == (), "% is a character searched for, not a wildcard"
    # S2's persons: P2 lives there, P1 checked in there; P1's risk there is S2's score only.
    assert [(p.code, p.risk) for p in at_s2.persons] == [("P1", 0.62), ("P2", 0.1)]
    assert all(other.slug not in p.name for p in everyone.persons)


def test_person_detail_evidence_and_isolation(any_runtime: Runtime) -> None:
    world, other = _seed(any_runtime)
    p1 = world.person_ids["P1"]
    with any_runtime.transaction() as session:
        session.add(Ticket(tenant_id=world.tenant_id, site_id=world.site_ids["S1"], person_id=p1,
                           source=TicketSource.FRAUD, type="gps_spoofing", dedup_key=f"fraud:{p1}:gps_spoofing",
                           title="GPS spoofing suspected: Guard 1", priority=TicketPriority.P3,
                           severity=Severity.HIGH, created_at=NOW - timedelta(hours=2)))
    with any_runtime.read() as session:
        detail = person_detail(session, _as(world), p1, threshold=T, now=NOW)
        scoped = person_detail(session, _as(world, site="S2"), p1, threshold=T, now=NOW)
        foreign = person_detail(session, _as(other), p1, threshold=T, now=NOW)
        missing = person_detail(session, _as(world), 10**12, threshold=T, now=NOW)
        p3_from_s2 = person_detail(session, _as(world, site="S2"), world.person_ids["P3"], threshold=T, now=NOW)
        with pytest.raises(NotAllowed):
            person_detail(session, _as(world, Role.VIEWER), p1, threshold=T, now=NOW)
    assert foreign is None and missing is None and p3_from_s2 is None
    assert detail is not None and scoped is not None
    assert (detail.summary.code, detail.summary.risk, detail.summary.flagged) == ("P1", 0.91, 2)
    newest, older = detail.checkins
    assert newest.score == 0.91 and [r.text for r in newest.reasons] == ["mock-location flag set"]
    assert newest.reasons[0].doc.startswith("1 if the device flagged") and newest.mock_location
    assert [(a.type, a.severity) for a in newest.anomalies] == [(FraudKind.GPS_SPOOFING, Severity.HIGH)]
    assert older.site_timezone == "Asia/Tokyo" and older.local_ts.hour == 5
    assert [t.title for t in detail.tickets] == ["GPS spoofing suspected: Guard 1"]
    assert {s.site_id for s in detail.sites} == set(world.site_ids.values())
    [today] = [d for d in detail.trend if d.day == date(2026, 11, 20)]
    assert (today.scored, today.flagged, today.max_score) == (2, 2, 0.91)
    assert detail.may_export is False, "operators read, security managers export"
    # Scoped to S2: only what happened there, and no ticket of S1.
    assert [c.site_id for c in scoped.checkins] == [world.site_ids["S2"]] and scoped.tickets == ()
    assert scoped.summary.risk == 0.62

    with any_runtime.read() as session:
        [only] = person_checkins(session, _as(world), p1, event_ids=[newest.event_id], now=NOW)
        assert person_checkins(session, _as(other), p1, event_ids=[newest.event_id], now=NOW) == []
    assert only == newest


def test_evidence_csv_for_security_managers(any_runtime: Runtime) -> None:
    world, other = _seed(any_runtime)
    p1 = world.person_ids["P1"]
    with any_runtime.transaction() as session:
        session.execute(sa.update(Site).where(Site.id == world.site_ids["S1"]).values(name="=HYPERLINK(1)"))
    manager = _as(world, Role.SECURITY_MANAGER)
    with any_runtime.read() as session:
        evidence = person_evidence_csv(session, manager, p1, threshold=T, now=NOW)
        assert person_evidence_csv(session, _as(other, Role.ADMIN), p1, threshold=T, now=NOW) is None
        with pytest.raises(NotAllowed):
            person_evidence_csv(session, _as(world), p1, threshold=T, now=NOW)
    assert evidence is not None and evidence.filename == "evidence-P1-20261120.csv"
    rows = list(csv.DictReader(io.StringIO(evidence.content)))
    assert [r["fraud_score"] for r in rows] == ["0.91", "0.62"]
    first = rows[0]
    assert first["reason_1"] == "mock-location flag set" and first["anomalies"] == "gps_spoofing:high"
    assert first["flagged"] == "1" and first["mock_location"] == "1" and first["lon"] == "-9.14"
    assert first["site_name"] == "'=HYPERLINK(1)", "no formula reaches a spreadsheet"
    assert first["time_utc"] == "2026-11-20T10:00:00+00:00" and rows[1]["time_local"].endswith("+09:00")
