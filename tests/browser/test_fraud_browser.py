"""The fraud drill-down in real Chromium: the fraud table → the person's page → the reason for
the score, a flagged check-in arriving live over the socket (patched in without a reload), and
what a viewer (wall display) gets instead — with a clean console."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dash.testing.wait import until

from backend.enums import EventType, FraudKind, Role, Severity
from backend.runtime import Runtime
from components import ids
from components.live_ids import LIVE_BADGE
from tests.factories import World
from tests.fraud_data import scored_checkin

pytestmark = pytest.mark.browser

ROWS = f"#{ids.FRAUD_TABLE_BODY} tr"
REASON = "same device as G. Two 3 min earlier"


def _row_persons(dash_duo: Any) -> list[str]:
    return dash_duo.driver.execute_script(
        f"return Array.from(document.querySelectorAll('{ROWS}')).map(r => r.dataset.person)")


def _clean_console(dash_duo: Any) -> None:
    logs = dash_duo.get_logs()
    assert logs == [], "\n".join(str(entry) for entry in logs)


def test_fraud_table_to_person_page_shows_the_reason_and_updates_live(
        dash_duo: Any, live_url: str, sign_in: Callable[[str], None], pg_runtime: Runtime, world: World) -> None:
    now = datetime.now(UTC)
    scored_checkin(pg_runtime, world, "P1", "S1", now - timedelta(hours=3), 0.92, (REASON, "face match 0.41"),
                   anomalies=(FraudKind.BUDDY_PUNCHING,))
    scored_checkin(pg_runtime, world, "P2", "S2", now - timedelta(hours=2), 0.2)
    p1, p3 = world.person_ids["P1"], world.person_ids["P3"]

    sign_in(world.users[Role.SECURITY_MANAGER])
    dash_duo.driver.get(live_url + "/fraud")
    until(lambda: _row_persons(dash_duo) == [str(p1)], timeout=8, msg=lambda: f"rows {_row_persons(dash_duo)}")
    assert REASON in dash_duo.find_element(ROWS).text
    dash_duo.wait_for_element(f"#{ids.FRAUD_SITE_HOURS} .main-svg")
    dash_duo.wait_for_text_to_equal(f"#{LIVE_BADGE}", "Live", timeout=10)
    dash_duo.driver.execute_script("window.__sameDocument = true")

    # The scoring worker flags P3: the anomaly event reaches the socket and the row is patched in.
    event_id = scored_checkin(pg_runtime, world, "P3", "S1", datetime.now(UTC), 0.97, ("mock-location flag set",))
    with pg_runtime.transaction() as session:
        pg_runtime.events.publish(session, EventType.ANOMALY_DETECTED, world.tenant_id, site_id=world.site_ids["S1"],
                                  person_id=p3, severity=Severity.CRITICAL,
                                  data={"attendance_event_id": event_id, "score": 0.97, "reasons": ["mock-location flag set"]})
    until(lambda: _row_persons(dash_duo) == [str(p3), str(p1)], timeout=8, msg=lambda: f"rows {_row_persons(dash_duo)}")
    assert "fraud-row-new" in dash_duo.find_element(ROWS).get_attribute("class")
    assert dash_duo.driver.execute_script("return window.__sameDocument") is True, "patched, not reloaded"
    _clean_console(dash_duo)

    # Drill down: click P1 in the table, land on their page, read why they scored 0.92.
    dash_duo.find_element(f'{ROWS}[data-person="{p1}"] a.fraud-person-link').click()
    dash_duo.wait_for_contains_text(f"#{ids.PERSON_HEADER}", REASON, timeout=8)
    assert dash_duo.driver.current_url.endswith(f"/persons/{p1}")
    timeline = dash_duo.find_element(f"#{ids.PERSON_TIMELINE_BODY}").text
    assert REASON in timeline and "face match 0.41" in timeline and "buddy punching" in timeline
    assert dash_duo.find_element(f"#{ids.PERSON_EXPORT}").get_attribute("href").endswith(
        f"/exports/persons/{p1}/evidence.csv")
    dash_duo.wait_for_element(f"#{ids.PERSON_TRAIL} .main-svg")
    _clean_console(dash_duo)

    # A wall display's viewer account: no fraud link, and the page itself refuses.
    # (By URL: the navbar's sign-out click is the feed test's; here the person page's trail can
    # still be animating under it on a loaded machine.)
    dash_duo.driver.get(dash_duo.server_url + "/logout")
    dash_duo.wait_for_element("#login-form")
    dash_duo.reset_log_timestamp()
    sign_in(world.users[Role.VIEWER])
    links = [a.text for a in dash_duo.find_elements(f"#{ids.NAVBAR} a.nav-link")]
    assert "Fraud" not in links and "Persons" not in links
    dash_duo.driver.get(f"{live_url}/persons/{p1}")
    assert "not shown to this account" in dash_duo.wait_for_element(f"#{ids.ACCESS_DENIED}").text
    assert REASON not in dash_duo.find_element("#react-entry-point").text
    _clean_console(dash_duo)
