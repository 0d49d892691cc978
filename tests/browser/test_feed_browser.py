"""The live feed in real Chromium: log in through the form, watch events posted to the ingestion
API appear without a reload, filter them, sign out, and open it as a wall display with its token —
with a clean browser console."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from dash.testing.wait import until

from backend.enums import InputType, Role
from components import ids
from tests.factories import World
from tests.sample_events import bearer, sample_events

pytestmark = pytest.mark.browser

ROWS = f"#{ids.FEED_TABLE} tbody tr"


def _post(url: str, world: World, items: list[dict[str, Any]]) -> None:
    response = requests.post(f"{url}/api/v1/events", json=items, headers=bearer(world.api_token), timeout=10)
    assert response.status_code == 200 and response.json()["accepted"] == len(items), response.text


def _row_types(dash_duo: Any) -> list[str]:
    return dash_duo.driver.execute_script(
        f"return Array.from(document.querySelectorAll('{ROWS}')).map(r => r.dataset.type)")


def _wait_for_rows(dash_duo: Any, count: int, what: str) -> list[str]:
    until(lambda: len(_row_types(dash_duo)) == count, timeout=8,
          msg=f"{what}: expected {count} rows, saw {_row_types(dash_duo)}")
    return _row_types(dash_duo)


def test_events_appear_live_filter_by_type_and_site_and_the_console_stays_clean(
        dash_duo: Any, live_url: str, sign_in: Callable[[str], None], world: World) -> None:
    sign_in(world.users[Role.OPERATOR])

    # A new tenant: the page says what is missing and what to do.
    empty = dash_duo.wait_for_element(f"#{ids.FEED_EMPTY}")
    assert "No events yet" in empty.text and "POST /api/v1/events" in empty.text
    user = dash_duo.find_element(f"#{ids.NAV_USER}").text
    assert "Operator" in user and "operator" in user
    assert dash_duo.find_element(f"#{ids.NAVBAR} a.nav-link.active").text == "Live feed"
    dash_duo.driver.execute_script("window.__sameDocument = true")  # a reload would drop it

    # Devices post; the rows arrive without a reload, newest first, times in the site's zone.
    _post(live_url, world, sample_events("S1", "P1") + sample_events("S2", "P2"))
    types = _wait_for_rows(dash_duo, 12, "after the first batch")
    assert types[0] == InputType.CHECK_OUT and set(types) == {t.value for t in InputType}
    first_row = dash_duo.find_element(ROWS).text
    assert ("WET" in first_row or "WEST" in first_row) and f"Site 2 of {world.slug}" in first_row
    assert "Showing 12 events" in dash_duo.find_element(f"#{ids.FEED_STATUS}").text

    # Type filter: only NOC alerts, and new alerts still arrive live under the filter.
    dash_duo.select_dcc_dropdown(f"#{ids.FEED_TYPE_FILTER}", value="NOC alert")
    assert _wait_for_rows(dash_duo, 2, "alerts only") == ["noc_alert"] * 2
    _post(live_url, world, sample_events("S1", "P3"))
    assert _wait_for_rows(dash_duo, 3, "a new alert under the filter") == ["noc_alert"] * 3
    assert "PANIC" in dash_duo.find_element(ROWS).text

    # Site filter on top: Site 2's one alert.
    dash_duo.driver.find_element("tag name", "body").click()  # close the type menu
    dash_duo.select_dcc_dropdown(f"#{ids.FEED_SITE_FILTER}", value=f"Site 2 of {world.slug} (S2)")
    _wait_for_rows(dash_duo, 1, "alerts at Site 2")
    assert f"Site 2 of {world.slug}" in dash_duo.find_element(ROWS).text

    assert dash_duo.driver.execute_script("return window.__sameDocument") is True, "no reload happened"
    logs = dash_duo.get_logs()
    assert logs == [], "\n".join(str(entry) for entry in logs)

    # Sign out from the navbar: back on the login form, and the app stays closed.
    dash_duo.find_element(f"#{ids.SIGN_OUT}").click()
    dash_duo.wait_for_element("#login-form")
    dash_duo.driver.get(live_url + "/")
    dash_duo.wait_for_element("#login-form")
    # A refresh that fired between the logout and the page change gets a (harmless) 401: the
    # console was checked above, so start afresh.
    dash_duo.reset_log_timestamp()

    # A wall display opens the feed with its token instead: no form, and the secret leaves the URL.
    dash_duo.driver.get(f"{live_url}/?wallboard_token={world.wallboard_token}")
    _wait_for_rows(dash_duo, 18, "the wall display's feed")
    assert "wallboard_token" not in dash_duo.driver.current_url
    assert "viewer" in dash_duo.find_element(f"#{ids.NAV_USER}").text
    logs = dash_duo.get_logs()
    assert logs == [], "\n".join(str(entry) for entry in logs)
