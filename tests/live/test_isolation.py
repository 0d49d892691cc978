"""Who sees what, live and on replay: nothing across tenants, only their site for site-scoped
users, and no person-level fraud details for viewers (wall displays)."""
from __future__ import annotations

from collections.abc import Callable

from backend.auth.users import create_user
from backend.enums import EventType, Role, Severity
from backend.runtime import Runtime
from tests.factories import PASSWORD, World
from tests.live.client import LiveClient
from tests.live.publishing import publish


def _publish_a_mix(runtime: Runtime, world: World) -> dict[str, int]:
    """One event of each shape that matters for filtering; name -> event id."""
    s1, s2, p1 = world.site_ids["S1"], world.site_ids["S2"], world.person_ids["P1"]
    fraud = {"score": 0.97, "reasons": ["mock location on", "outside geofence"], "person_name": "Guard 1",
             "types": ["gps_spoofing"], "severity": "high"}
    return {
        "alert_s1": publish(runtime, world.tenant_id, type=EventType.ALERT_RECEIVED, site_id=s1, person_id=p1,
                            severity=Severity.HIGH, data={"kind": "panic"})[0],
        "alert_s2": publish(runtime, world.tenant_id, type=EventType.ALERT_RECEIVED, site_id=s2,
                            data={"kind": "door_forced"})[0],
        "anomaly_s1": publish(runtime, world.tenant_id, type=EventType.ANOMALY_DETECTED, site_id=s1, person_id=p1,
                              data=fraud)[0],
        "fraud_ticket_s1": publish(runtime, world.tenant_id, type=EventType.TICKET_CREATED, site_id=s1, person_id=p1,
                                   data={"source": "fraud", "ticket_id": 9, "title": "GPS spoofing by Guard 1"})[0],
        "ticket_no_site": publish(runtime, world.tenant_id, type=EventType.TICKET_UPDATED,
                                  data={"ticket_id": 10, "state": "acknowledged"})[0],
        "model_trained": publish(runtime, world.tenant_id, type=EventType.MODEL_TRAINED, data={"version": 3})[0],
    }


def test_a_tenant_receives_nothing_of_another_live_or_on_replay(
        pg_runtime: Runtime, world: World, other_world: World, connect: Callable[..., LiveClient],
        login: Callable[[str], str]) -> None:
    b_cookie = login(other_world.users[Role.ADMIN])
    a_client, b_client = connect(login(world.users[Role.ADMIN])), connect(b_cookie)
    a_wall = connect(query=f"wallboard_token={world.wallboard_token}")
    start = b_client.cursor
    a_ids = set(_publish_a_mix(pg_runtime, world).values()) | set(publish(pg_runtime, world.tenant_id, 20))
    (b_sentinel,) = publish(pg_runtime, other_world.tenant_id, data={"sentinel": True})
    a_client.wait_for_ids(a_ids)
    a_wall.wait_for_ids(a_ids)
    b_client.wait_for_ids({b_sentinel})
    assert b_client.ids() == [b_sentinel]  # A's 26 events were all published before it
    assert {e["tenant"] for e in a_client.events} == {world.tenant_id}
    replay = connect(b_cookie, last_id=start)
    assert replay.ids() == [b_sentinel]


def test_a_site_scoped_user_sees_its_site_and_tenant_wide_events_only(
        pg_runtime: Runtime, world: World, connect: Callable[..., LiveClient], login: Callable[[str], str]) -> None:
    email = f"site-operator@{world.slug}.test"
    with pg_runtime.transaction() as session:
        create_user(session, world.tenant_id, email, "Site operator", PASSWORD, Role.OPERATOR,
                    site_id=world.site_ids["S1"])
    cookie = login(email)
    client = connect(cookie)
    start = client.cursor
    events = _publish_a_mix(pg_runtime, world)
    expected = [events[name] for name in ("alert_s1", "anomaly_s1", "fraud_ticket_s1", "model_trained")]
    (after,) = publish(pg_runtime, world.tenant_id, site_id=world.site_ids["S1"])
    client.wait_for_ids({after})
    assert client.ids() == [*expected, after]
    replay = connect(cookie, last_id=start)
    assert replay.ids() == [*expected, after]


def test_viewers_get_person_level_fraud_events_without_the_person(
        pg_runtime: Runtime, world: World, connect: Callable[..., LiveClient], login: Callable[[str], str]) -> None:
    wall = connect(query=f"wallboard_token={world.wallboard_token}")
    viewer = connect(login(world.users[Role.VIEWER]))
    manager = connect(login(world.users[Role.SECURITY_MANAGER]))
    start = wall.cursor
    events = _publish_a_mix(pg_runtime, world)
    for client in (wall, viewer, manager):
        client.wait_for_ids(set(events.values()))
    replayed_wall = connect(query=f"wallboard_token={world.wallboard_token}", last_id=start)
    for client in (wall, viewer, replayed_wall):
        by_id = {e["id"]: e for e in client.events}
        anomaly, ticket = by_id[events["anomaly_s1"]], by_id[events["fraud_ticket_s1"]]
        assert anomaly["person"] is None and anomaly["data"] == {"types": ["gps_spoofing"], "severity": "high"}
        assert ticket["person"] is None and ticket["data"] == {"source": "fraud", "ticket_id": 9}
        assert by_id[events["alert_s1"]]["person"] == world.person_ids["P1"]  # an alert is not a fraud detail
    full = {e["id"]: e for e in manager.events}
    assert full[events["anomaly_s1"]]["data"]["person_name"] == "Guard 1"
    assert full[events["anomaly_s1"]]["person"] == world.person_ids["P1"]
