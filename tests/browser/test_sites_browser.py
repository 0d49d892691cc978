"""The sites table, a site page and the event log in real Chromium: drill from the table into
a site (its findings and persons), live prepends from the socket without a reload, the events
search in the URL, and what a site-scoped user and a viewer see — with a clean console."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dash.testing.wait import until

from backend.auth.users import create_user
from backend.enums import EventType, Role, Severity
from backend.runtime import Runtime
from components import ids
from components.live_ids import LIVE_BADGE
from tests.factories import PASSWORD, World
from tests.live.publishing import publish
from tests.sites.builders import finding, log_event, score, shift

pytestmark = pytest.mark.browser


def _clean_console(dash_duo: Any) -> None:
    logs = dash_duo.get_logs()
    assert logs == [], "\n".join(str(entry) for entry in logs)


def _text(dash_duo: Any, selector: str) -> str:
    return dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector)


def _event_ids(dash_duo: Any) -> list[str]:
    return dash_duo.driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{ids.EVENTS_BODY} tr')).map(r => r.dataset.id)")


def test_drill_from_the_table_into_a_site_and_search_events_live(
        dash_duo: Any, live_url: str, sign_in: Callable[[str], None], pg_runtime: Runtime, world: World) -> None:
    now = datetime.now(UTC)
    s1 = world.site_ids["S1"]
    score(pg_runtime, world, "P1", "S1", now - timedelta(hours=1), 0.93, "mock-location flag set")
    finding(pg_runtime, world, "S1", "no_show", person="P2", at=now - timedelta(hours=2),
            summary="No-show: Guard 2 never clocked in")
    shift(pg_runtime, world, "S1", "P3", now - timedelta(hours=2), now + timedelta(hours=6))
    alert = log_event(pg_runtime, world, EventType.ALERT_RECEIVED, site="S1", person="P1",
                      at=now - timedelta(minutes=3), kind="panic", message="Panic button")
    sign_in(world.users[Role.SECURITY_MANAGER])

    # The sites table: riskiest first; the site's name opens its page.
    dash_duo.driver.get(f"{live_url}/sites")
    link = dash_duo.wait_for_element(f"#{ids.SITES_TABLE} a[href='/sites/{s1}']", timeout=10)
    assert "0.93" in _text(dash_duo, f"#{ids.SITES_TABLE}") and link.text == f"Site 1 of {world.slug}"
    link.click()
    dash_duo.wait_for_contains_text(f"#{ids.SITE_HEADER}", f"Site 1 of {world.slug}", timeout=10)
    dash_duo.wait_for_contains_text(f"#{ids.SITE_FINDINGS}", "No-show: Guard 2 never clocked in")
    persons = _text(dash_duo, f"#{ids.SITE_PERSONS}")
    assert f"Guard 1 of {world.slug}" in persons and "0.93" in persons and f"Guard 3 of {world.slug}" in persons
    assert dash_duo.find_element(f"#{ids.SITE_PERSONS} a[href='/persons/{world.person_ids['P1']}']")
    dash_duo.wait_for_element(f"#{ids.SITE_SIGNALS} .main-svg")

    # A finding of this site arrives on the socket: on top of the list, without a reload.
    dash_duo.wait_for_text_to_equal(f"#{LIVE_BADGE}", "Live", timeout=10)
    dash_duo.driver.execute_script("window.__sameDocument = true")
    publish(pg_runtime, world.tenant_id, type=EventType.FINDING_CREATED, site_id=s1, severity=Severity.HIGH, data={
        "finding_id": 987654321, "kind": "silent_device", "label": "Silent device",
        "title": "Silent device: Guard 3 quiet for 95 min", "window_start": (now - timedelta(minutes=95)).isoformat(),
        "window_end": now.isoformat()})
    until(lambda: _text(dash_duo, f"#{ids.SITE_FINDINGS} .site-item").startswith("HIGH"), timeout=8)
    dash_duo.wait_for_contains_text(f"#{ids.SITE_FINDINGS} .site-item", "Silent device: Guard 3 quiet for 95 min")
    assert dash_duo.driver.execute_script("return window.__sameDocument") is True
    _clean_console(dash_duo)

    # The event log, searched by URL; a new matching event is prepended live, others are not.
    dash_duo.driver.get(f"{live_url}/events?type=alert_received")
    until(lambda: _event_ids(dash_duo) == [str(alert)], timeout=10, msg=lambda: f"saw {_event_ids(dash_duo)}")
    dash_duo.wait_for_text_to_equal(f"#{LIVE_BADGE}", "Live", timeout=10)
    [fresh] = publish(pg_runtime, world.tenant_id, type=EventType.ALERT_RECEIVED, site_id=s1,
                      data={"kind": "tamper", "message": "Case opened"})
    publish(pg_runtime, world.tenant_id, type=EventType.SYSTEM, data={"notice": "not an alert"})
    until(lambda: _event_ids(dash_duo) == [str(fresh), str(alert)], timeout=8, msg=lambda: f"saw {_event_ids(dash_duo)}")
    newest = _text(dash_duo, f"#{ids.EVENTS_BODY} tr")
    assert "Tamper alert" in newest and "Case opened" in newest

    # Choosing a site writes the search into the URL; the view follows it.
    dash_duo.driver.find_element("tag name", "body").click()
    dash_duo.select_dcc_dropdown(f"#{ids.EVENTS_SITE_FILTER}", value=f"Site 2 of {world.slug} (S2)")
    until(lambda: f"site={world.site_ids['S2']}" in dash_duo.driver.current_url, timeout=8)
    dash_duo.wait_for_contains_text(f"#{ids.EVENTS_EMPTY}", "No events match this search")
    assert "type=alert_received" in dash_duo.driver.current_url
    _clean_console(dash_duo)


def test_a_site_scoped_user_and_a_viewer_see_what_their_role_allows(
        dash_duo: Any, live_url: str, sign_in: Callable[[str], None], pg_runtime: Runtime, world: World,
        other_world: World) -> None:
    now = datetime.now(UTC)
    s1, s2 = world.site_ids["S1"], world.site_ids["S2"]
    score(pg_runtime, world, "P1", "S1", now - timedelta(hours=1), 0.93, "mock-location flag set")
    with pg_runtime.transaction() as session:
        create_user(session, world.tenant_id, f"lead@{world.slug}.test", "S2 lead", PASSWORD, Role.SUPERVISOR,
                    site_id=s2)
    sign_in(f"lead@{world.slug}.test")
    dash_duo.driver.get(f"{live_url}/sites")
    dash_duo.wait_for_element(f"#{ids.SITES_TABLE} a[href='/sites/{s2}']", timeout=10)
    assert f"Site 1 of {world.slug}" not in _text(dash_duo, f"#{ids.SITES_TABLE}")
    for foreign in (s1, other_world.site_ids["S1"]):
        dash_duo.driver.get(f"{live_url}/sites/{foreign}")
        dash_duo.wait_for_contains_text(f"#{ids.SITE_NOT_FOUND}", "Site not found", timeout=10)
        assert "Site 1" not in _text(dash_duo, "#react-entry-point")
    _clean_console(dash_duo)

    dash_duo.driver.get(f"{live_url}/logout")
    dash_duo.reset_log_timestamp()
    sign_in(world.users[Role.VIEWER])
    dash_duo.driver.get(f"{live_url}/sites/{s1}")
    dash_duo.wait_for_contains_text(f"#{ids.SITE_PERSONS}", "Fraud scores are not shown", timeout=10)
    assert "0.93" not in _text(dash_duo, f"#{ids.SITE_PERSONS}")
    assert "0.93" in _text(dash_duo, f"#{ids.SITE_HEADER}"), "the site's risk is not person-level"
    _clean_console(dash_duo)
