"""The tickets page in real Chromium, three browser sessions at once: a supervisor acknowledges
a ticket and an admin's page (a second Chrome) shows it acknowledged without a reload — the row
and the open detail — and so does a wall display (a third Chrome, kiosk mode with the wallboard
token: its ticket tile), all through the live socket; filters go into the URL and a shared URL
reproduces the view; an operator sees no action controls. Clean consoles throughout."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from dash.testing.wait import until
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.remote.webdriver import WebDriver

from backend.enums import Role, TicketPriority
from backend.models import utcnow
from backend.runtime import Runtime
from components import ids
from components.live_ids import LIVE_BADGE
from tests.browser.wall_display import open_kiosk_wall, p1_counts
from tests.factories import PASSWORD, World
from tests.tickets.builders import open_ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def more_browsers(dash_duo: Any) -> Iterator[Callable[[], WebDriver]]:
    """Opens more Chromiums with dash_duo's own options (headless, sandbox flags, console
    logging): separate browser sessions, each with its own cookies. All quit at the end."""
    opened: list[WebDriver] = []

    def open_browser() -> WebDriver:
        opened.append(dash_duo._get_chrome())
        return opened[-1]
    yield open_browser
    for driver in opened:
        driver.quit()


def _sign_in(driver: WebDriver, url: str, email: str) -> None:
    driver.get(f"{url}/login?next=/tickets")
    until(lambda: driver.find_elements("css selector", "#login-form"), timeout=10)
    driver.find_element("css selector", "#email").send_keys(email)
    driver.find_element("css selector", "#password").send_keys(PASSWORD)
    driver.find_element("css selector", "#login-submit").click()
    _wait_live(driver)


def _wait_live(driver: WebDriver) -> None:
    until(lambda: _text(driver, f"#{LIVE_BADGE}") == "Live", timeout=15, msg="the live socket connects")


def _text(driver: WebDriver, selector: str) -> str:
    found = driver.find_elements("css selector", selector)
    return found[0].text if found else ""


def _row_states(driver: WebDriver) -> dict[int, str]:
    rows = driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{ids.TICKETS_TABLE} tbody tr'))"
        ".map(r => [r.dataset.ticket, r.dataset.state])")
    return {int(ticket): state for ticket, state in rows}


def _open(driver: WebDriver, ticket_id: int) -> None:
    button = f"tr[data-ticket='{ticket_id}'] button.ticket-open"
    detail = f"#{ids.TICKETS_DETAIL_BODY} [data-ticket='{ticket_id}']"
    until(lambda: driver.find_elements("css selector", button), timeout=10, msg=f"row {ticket_id} shows")

    def opened() -> bool:
        if driver.find_elements("css selector", detail):
            return True
        # A click that lands while the queue re-renders (the socket's first "resync") is lost
        # with the old row, as it would be for a person: click again.
        try:
            driver.find_element("css selector", button).click()
        except ElementClickInterceptedException:  # the panel is sliding in over it
            pass
        return False
    until(opened, timeout=10, poll=1.0, msg=f"the detail of {ticket_id} opens")
    # The panel slides in: wait for the end of the transition, or clicks land on moving targets.
    until(lambda: driver.find_elements("css selector", ".offcanvas.show:not(.showing)"), timeout=5)


def _click(driver: WebDriver, selector: str) -> None:
    """Click once the element is not covered any more (a closing alert, a fading backdrop)."""
    def clicked() -> bool:
        try:
            driver.find_element("css selector", selector).click()
        except ElementClickInterceptedException:
            return False
        return True
    until(clicked, timeout=5, msg=f"{selector} can be clicked")


def _close_detail(driver: WebDriver) -> None:
    _click(driver, ".offcanvas-header .btn-close")
    until(lambda: not driver.find_elements("css selector", ".offcanvas.show"), timeout=5, msg="the detail closes")


def _detail_state(driver: WebDriver) -> str | None:
    return driver.execute_script(
        f"var d = document.querySelector('#{ids.TICKETS_DETAIL_BODY} [data-state]'); return d && d.dataset.state")


def _action_buttons(driver: WebDriver) -> list[Any]:
    return driver.find_elements("css selector", f"[id*='{ids.TICKETS_ACTION}'], #{ids.TICKETS_BULK_ACK}, "
                                                f"[id*='{ids.TICKETS_ROW_CHECK}']")


def _clean(logs: list[dict[str, Any]]) -> None:
    assert logs == [], "\n".join(str(entry) for entry in logs)


def test_two_supervisors_and_the_wall_see_changes_live_and_an_operator_only_reads(
        dash_duo: Any, live_url: str, sign_in: Callable[[str], None], more_browsers: Callable[[], WebDriver],
        pg_runtime: Runtime, world: World) -> None:
    # Opened 20 minutes ago: its 15-minute acknowledgement is overdue, so the wall counts it late.
    urgent = open_ticket(pg_runtime, world, priority=TicketPriority.P1, site="S2", title="Panic at the gate",
                         type="panic", now=utcnow() - timedelta(minutes=20))
    routine = open_ticket(pg_runtime, world, priority=TicketPriority.P3)

    # Supervisor A and admin B (another supervisor and above) each open the tickets page.
    sign_in(world.users[Role.SUPERVISOR])
    a = dash_duo.driver
    a.get(f"{live_url}/tickets")
    _wait_live(a)
    until(lambda: _row_states(a) == {urgent: "open", routine: "open"}, timeout=10, msg=lambda: _row_states(a))
    b = more_browsers()
    _sign_in(b, live_url, world.users[Role.ADMIN])
    until(lambda: _row_states(b) == {urgent: "open", routine: "open"}, timeout=10, msg=lambda: _row_states(b))
    b.execute_script("window.__sameDocument = true")  # a reload would drop it
    _open(b, urgent)  # B looks at the ticket A is about to acknowledge
    row = _text(b, f"tr[data-ticket='{urgent}']")
    assert "P1" in row and f"Site 2 of {world.slug}" in row and ("WET" in row or "WEST" in row)

    # A opens it (the URL names the open ticket, to share it). A wall display (a third session)
    # comes up just before A acts, so its slow periodic refresh (a minute) cannot be what updates
    # it in time: only the ticket_updated event can.
    _open(a, urgent)
    assert f"ticket={urgent}" in a.current_url
    wall = more_browsers()
    open_kiosk_wall(wall, live_url, world)
    until(lambda: p1_counts(wall) == ["1", "0", "0"], timeout=10, msg=lambda: f"wall P1 row {p1_counts(wall)}")
    wall.execute_script("window.__sameDocument = true")

    # A acknowledges it from the detail panel.
    _click(a, f"[id*='\"action\":\"acknowledge\"']")
    until(lambda: _detail_state(a) == "acknowledged", timeout=10, msg="A's detail shows the new state")
    assert "Acknowledged." in _text(a, f"#{ids.TICKETS_DETAIL_ALERT}")

    # The wall follows without a reload: no longer late, on time for its resolution (hours away).
    until(lambda: p1_counts(wall) == ["0", "0", "1"], timeout=20, msg=lambda: f"wall P1 row {p1_counts(wall)}")
    assert wall.execute_script("return window.__sameDocument") is True, "the wall did not reload"
    _clean(wall.get_log("browser"))
    wall.get("about:blank")   # done with it: one Chrome less working through the rest

    # B's page follows without a reload: the row and the open detail, with the history line.
    until(lambda: _row_states(b).get(urgent) == "acknowledged", timeout=10, msg=lambda: _row_states(b))
    until(lambda: _detail_state(b) == "acknowledged", timeout=10, msg="B's open detail refreshes")
    history = _text(b, f"#{ids.TICKETS_HISTORY}")
    assert "acknowledged" in history and "Supervisor" in history
    assert b.execute_script("return window.__sameDocument") is True, "no reload happened"

    # B acknowledges the other one in bulk; A's row follows.
    _close_detail(b)
    _click(b, f"tr[data-ticket='{routine}'] input[type='checkbox']")
    until(lambda: "1 selected" in _text(b, f"#{ids.TICKETS_BULK_COUNT}"), timeout=5)
    _click(b, f"#{ids.TICKETS_BULK_ACK}")
    until(lambda: "Acknowledged 1 ticket." in _text(b, f"#{ids.TICKETS_ALERT}"), timeout=10)
    until(lambda: _row_states(a).get(routine) == "acknowledged", timeout=10, msg=lambda: _row_states(a))

    # Filters go into the URL; the shared URL reproduces the view in the other browser.
    _close_detail(a)
    until(lambda: "ticket=" not in a.current_url, timeout=5, msg=lambda: a.current_url)
    dash_duo.select_dcc_dropdown(f"#{ids.TICKETS_PRIORITY_FILTER}", value="P3")
    until(lambda: list(_row_states(a)) == [routine], timeout=10, msg=lambda: _row_states(a))
    until(lambda: "priority=p3" in a.current_url, timeout=5, msg=lambda: a.current_url)
    b.get(a.current_url)
    until(lambda: list(_row_states(b)) == [routine], timeout=10, msg=lambda: _row_states(b))
    assert not b.find_elements("css selector", ".offcanvas.show")

    _clean(dash_duo.get_logs())
    _clean(b.get_log("browser"))

    # An operator reads the same queue without a single action control.
    b.get(f"{live_url}/logout")
    _sign_in(b, live_url, world.users[Role.OPERATOR])
    until(lambda: set(_row_states(b)) == {urgent, routine}, timeout=10, msg=lambda: _row_states(b))
    assert "read-only" in _text(b, "body")
    _open(b, urgent)
    assert _action_buttons(b) == []
    assert "acknowledged" in _text(b, f"#{ids.TICKETS_HISTORY}")
    _clean(b.get_log("browser"))
