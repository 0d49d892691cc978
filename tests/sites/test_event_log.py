"""The event log search on PostgreSQL and the embedded SQLite: filters by type, site, person
and time (in the site's zone), keyset pages, the live "newer than" read, and the live
channel's visibility (tenant, site scope, viewers' redaction)."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs

import pytest

from backend.auth.principal import Principal
from backend.config import Settings
from backend.enums import EventType, Role, Severity
from backend.queries.event_log import search_events
from backend.queries.event_schemas import EventQuery
from backend.queries.event_text import describe
from backend.runtime import Runtime
from components.events import type_badge
from tests.factories import World, make_world
from tests.sites.builders import NOW, log_event

SETTINGS = Settings(secret_key="x")


def _as(world: World, role: Role = Role.OPERATOR, site: str | None = None) -> Principal:
    return Principal(tenant_id=world.tenant_id, role=role, name="t", user_id=1,
                     site_id=world.site_ids[site] if site else None)


@pytest.fixture
def logged(any_runtime: Runtime) -> tuple[World, dict[str, int]]:
    world, rt = make_world(any_runtime), any_runtime
    ids = {
        "alert": log_event(rt, world, EventType.ALERT_RECEIVED, site="S1", person="P1", at=NOW - timedelta(hours=5),
                           severity=Severity.CRITICAL, kind="panic", message="Panic button"),
        "anomaly": log_event(rt, world, EventType.ANOMALY_DETECTED, site="S1", person="P1",
                             at=NOW - timedelta(hours=4), severity=Severity.HIGH, score=0.93, punch="check_in",
                             types=["gps_spoofing"], reasons=["mock-location flag set"], person_name="Guard 1"),
        "fraud_ticket": log_event(rt, world, EventType.TICKET_CREATED, site="S1", person="P1",
                                  at=NOW - timedelta(hours=3), ticket_id=7, source="fraud", priority="p2",
                                  title="Possible GPS spoofing by Guard 1", change="created", state="open"),
        "finding": log_event(rt, world, EventType.FINDING_CREATED, site="S2", person="P2", at=NOW - timedelta(hours=2),
                             title="No-show: Guard 2 never clocked in"),
        "model": log_event(rt, world, EventType.MODEL_TRAINED, at=NOW - timedelta(hours=1), version=3,
                           status="active"),
        "system_no_site": log_event(rt, world, EventType.ALERT_RECEIVED, at=NOW - timedelta(minutes=30),
                                    kind="tamper"),
    }
    return world, ids


def _ids(page: object) -> list[int]:
    return [item.id for item in page.items]  # type: ignore[attr-defined]


def test_filters_by_type_site_person_and_time(any_runtime: Runtime, logged: tuple[World, dict[str, int]]) -> None:
    world, ids = logged
    op = _as(world)
    with any_runtime.read() as session:
        def search(**criteria: object) -> list[int]:
            return _ids(search_events(session, op, EventQuery(**criteria), settings=SETTINGS))  # type: ignore[arg-type]

        assert search() == sorted(ids.values(), reverse=True), "everything, newest first"
        assert search(types=(EventType.ALERT_RECEIVED,)) == [ids["system_no_site"], ids["alert"]]
        assert search(types=(EventType.ALERT_RECEIVED, EventType.FINDING_CREATED)) == [
            ids["system_no_site"], ids["finding"], ids["alert"]]
        assert search(site_id=world.site_ids["S2"]) == [ids["finding"]]
        assert search(person="guard 1") == [ids["fraud_ticket"], ids["anomaly"], ids["alert"]], "name, any case"
        assert search(person="p2") == [ids["finding"]], "code"
        assert search(person="%") == [], "LIKE wildcards are literal"
        # Wall-clock bounds in the chosen site's zone (Lisbon = UTC in November), since inclusive.
        naive = NOW.replace(tzinfo=None)
        assert search(since=naive - timedelta(hours=4), until=naive - timedelta(hours=2)) == [
            ids["fraud_ticket"], ids["anomaly"]]
        page = search_events(session, op, EventQuery(person="nobody"), settings=SETTINGS)
        assert page.items == () and page.matched_persons == 0
        items = {i.id: i for i in search_events(session, op, EventQuery(), settings=SETTINGS).items}
    alert = items[ids["alert"]]
    assert alert.site_name == f"Site 1 of {world.slug}" and alert.person_code == "P1" and alert.severity == "critical"
    # The text is the wall feed's (backend.queries.event_text), one description per event.
    assert (alert.title, alert.summary) == ("Panic alert", "Panic button")
    assert alert.local_time.tzname() in ("WET", "WEST")
    assert (items[ids["anomaly"]].title, items[ids["anomaly"]].summary) == (
        "Fraud anomaly", "gps spoofing · check-in · score 0.93 · Guard 1 · mock-location flag set")
    fraud_ticket = items[ids["fraud_ticket"]]
    assert (fraud_ticket.title, fraud_ticket.summary) == ("New P2 ticket #7", "Possible GPS spoofing by Guard 1")
    assert (items[ids["model"]].title, items[ids["model"]].summary) == ("Model trained", "version 3 · active")
    assert items[ids["model"]].site_id is None


def test_keyset_pages_and_the_live_read(any_runtime: Runtime, logged: tuple[World, dict[str, int]]) -> None:
    world, ids = logged
    op, newest_first = _as(world), sorted(ids.values(), reverse=True)
    seen: list[int] = []
    with any_runtime.read() as session:
        query = EventQuery()
        while True:
            page = search_events(session, op, query, settings=SETTINGS, limit=4)
            seen += _ids(page)
            if page.older is None:
                break
            query = query.older_than(page.older)
        assert seen == newest_first and len(seen) == 6, "pages join up with no gap and no repeat"
        assert search_events(session, op, EventQuery(before=newest_first[-1]), settings=SETTINGS).items == ()
    later = log_event(any_runtime, world, EventType.ALERT_RECEIVED, site="S1", at=NOW + timedelta(minutes=1))
    log_event(any_runtime, world, EventType.FINDING_CREATED, site="S2", at=NOW + timedelta(minutes=2))
    with any_runtime.read() as session:
        fresh = search_events(session, op, EventQuery(types=(EventType.ALERT_RECEIVED,)), settings=SETTINGS,
                              after=newest_first[0])
    assert _ids(fresh) == [later] and fresh.older is None


def test_the_query_string_round_trips_and_drops_junk() -> None:
    query = EventQuery.from_query({"type": "finding_created,bogus,alert_received", "site": "12", "person": " G00 ",
                                   "since": "2026-11-21T08:00", "until": "not a time", "before": "-3"})
    assert query.types == (EventType.ALERT_RECEIVED, EventType.FINDING_CREATED) and query.site_id == 12
    assert query.person == "G00" and query.since == datetime(2026, 11, 21, 8, 0) and query.until is None
    assert query.before is None
    assert EventQuery.from_query(parse_qs(query.to_query()[1:])) == query, "what the page router hands the layout"
    assert EventQuery.from_query({"type": ["system", "model_trained"], "site": ["x"]}).types == (
        EventType.MODEL_TRAINED, EventType.SYSTEM)
    assert EventQuery().to_query() == "" and not EventQuery().filtered


def test_visibility_follows_the_live_channel(any_runtime: Runtime, logged: tuple[World, dict[str, int]]) -> None:
    world, ids = logged
    other = make_world(any_runtime)
    with any_runtime.read() as session:
        outsider = search_events(session, _as(other, Role.ADMIN), EventQuery(), settings=SETTINGS)
        at_s2 = search_events(session, _as(world, site="S2"), EventQuery(), settings=SETTINGS)
        s2_asks_s1 = search_events(session, _as(world, site="S2"), EventQuery(site_id=world.site_ids["S1"]),
                                   settings=SETTINGS)
        foreign_site = search_events(session, _as(world), EventQuery(site_id=other.site_ids["S1"]), settings=SETTINGS)
        viewer = {i.id: i for i in search_events(session, _as(world, Role.VIEWER), EventQuery(), settings=SETTINGS).items}
        viewer_person = search_events(session, _as(world, Role.VIEWER), EventQuery(person="P1"), settings=SETTINGS)
    assert outsider.items == ()
    assert _ids(at_s2) == [ids["model"], ids["finding"]], "its site and tenant-wide events, not site-less others"
    assert s2_asks_s1.items == () and s2_asks_s1.unknown_site
    assert foreign_site.items == () and foreign_site.unknown_site
    anomaly, fraud = viewer[ids["anomaly"]], viewer[ids["fraud_ticket"]]
    assert anomaly.person_id is None and anomaly.person_name is None
    assert anomaly.summary == "gps spoofing · check-in", "the live channel's redaction: no score, reason, name"
    assert fraud.person_id is None and (fraud.title, fraud.summary) == ("New P2 ticket #7", "Fraud ticket")
    assert viewer[ids["alert"]].person_code == "P1", "not person-level: shown"
    assert _ids(viewer_person) == [ids["alert"]], "a viewer's person search never reveals whom fraud events are about"


def test_every_event_type_has_a_badge_and_a_description() -> None:
    # model_training progress events are logged too: a type without a label broke the page.
    for type_ in EventType:
        assert type_badge(type_).children and describe(type_, None)[0], type_
