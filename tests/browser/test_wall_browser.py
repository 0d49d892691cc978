"""The wall display in real Chromium: a wallboard token opens it in kiosk mode (no login form, no
navigation), its ticket tiles follow tickets changed by backend transactions (as the product
changes them) without a reload, new events join the feed and beep once sound is enabled, and
?rotate= moves between the registered pages keeping the kiosk arguments — with a clean console."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from dash.testing.wait import until

from backend.enums import EventType, Severity, TicketPriority, TicketSource, TicketState
from backend.models import Ticket, TicketHistory, utcnow
from backend.runtime import Runtime
from backend.tickets.opening import TicketSpec, open_or_add_occurrence
from components import ids
from tests.browser.wall_display import open_kiosk_wall, p1_counts
from tests.factories import World

pytestmark = pytest.mark.browser


def _open_breached_ticket(runtime: Runtime, world: World) -> int:
    """A P1 ticket opened 20 min ago: its 15-min acknowledgement is overdue."""
    with runtime.transaction() as session:
        outcome = open_or_add_occurrence(session, runtime.events, TicketSpec(
            tenant_id=world.tenant_id, source=TicketSource.AUDIT, type="no_show", dedup_key=f"wall:{uuid.uuid4()}",
            title="No-show at the gate", priority=TicketPriority.P1, severity=Severity.HIGH,
            site_id=world.site_ids["S1"]), now=utcnow() - timedelta(minutes=20))
    return outcome.ticket_id


def _acknowledge(runtime: Runtime, world: World, ticket_id: int) -> None:
    """What the ticket service does on "acknowledge": the state change, its history row and the
    ``ticket_updated`` event, in one transaction."""
    with runtime.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.tenant_id == world.tenant_id
        ticket.state, ticket.acknowledged_at = TicketState.ACKNOWLEDGED, utcnow()
        session.add(TicketHistory(tenant_id=world.tenant_id, ticket_id=ticket_id, action="acknowledged",
                                  from_state=TicketState.OPEN, to_state=TicketState.ACKNOWLEDGED))
        runtime.events.publish(session, EventType.TICKET_UPDATED, world.tenant_id, site_id=ticket.site_id,
                               severity=ticket.severity,
                               data={"ticket_id": ticket_id, "source": "audit", "type": "no_show", "title": ticket.title,
                                     "priority": "p1", "state": "acknowledged", "change": "acknowledged"})


def _alert(runtime: Runtime, world: World, severity: Severity, message: str) -> None:
    with runtime.transaction() as session:
        runtime.events.publish(session, EventType.ALERT_RECEIVED, world.tenant_id, site_id=world.site_ids["S2"],
                               severity=severity, data={"kind": "intrusion", "message": message})


def _p1(dash_duo: Any) -> list[str]:
    return p1_counts(dash_duo.driver)


def _feed_text(dash_duo: Any) -> str:
    return _js(dash_duo, f"return document.getElementById('{ids.WALL_FEED}').innerText")


def _js(dash_duo: Any, script: str) -> Any:
    return dash_duo.driver.execute_script(script)


def test_kiosk_wall_with_a_token_follows_tickets_live_beeps_and_rotates(
        dash_duo: Any, live_url: str, pg_runtime: Runtime, world: World) -> None:
    open_kiosk_wall(dash_duo.driver, live_url, world)

    # Kiosk: no login form, no navigation, the secret gone from the address bar.
    assert "wallboard_token" not in dash_duo.driver.current_url and "kiosk=1" in dash_duo.driver.current_url
    assert not dash_duo.find_elements("#login-form")
    assert not dash_duo.find_element(f"#{ids.NAVBAR}").is_displayed()
    assert _js(dash_duo, "return document.documentElement.classList.contains('kiosk')")
    assert float(_js(dash_duo, "return parseFloat(getComputedStyle(document.documentElement).fontSize)")) >= 16
    assert _p1(dash_duo) == ["0", "0", "0"]
    assert "No events yet" in _feed_text(dash_duo)
    _js(dash_duo, "window.__sameDocument = true")

    # A ticket opens, overdue: the tile says so within the refresh throttle; the feed has it.
    ticket_id = _open_breached_ticket(pg_runtime, world)
    until(lambda: _p1(dash_duo) == ["1", "0", "0"], timeout=10, msg=lambda: f"P1 row {_p1(dash_duo)}")
    assert _js(dash_duo, f"return document.querySelector('#{ids.WALL_TICKETS_TILE} .wall-tile-value').textContent") == "1"
    assert "New P1 ticket" in _feed_text(dash_duo)
    assert dash_duo.find_elements(f"#{ids.WALL_FEED} .wall-event-new")

    # Acknowledged elsewhere: no longer breached (its resolution is hours away).
    _acknowledge(pg_runtime, world, ticket_id)
    until(lambda: _p1(dash_duo) == ["0", "0", "1"], timeout=10, msg=lambda: f"P1 row {_p1(dash_duo)}")
    until(lambda: f"Ticket #{ticket_id} acknowledged" in _feed_text(dash_duo), timeout=5)

    # Sound: nothing before it is enabled; then one beep per urgent event; medium ones and muted ones never.
    assert _js(dash_duo, "return window.nocWall.beeps") == 0
    dash_duo.find_element(f"#{ids.WALL_SOUND}").click()
    dash_duo.wait_for_contains_text(f"#{ids.WALL_SOUND}", "Sound on")
    _alert(pg_runtime, world, Severity.MEDIUM, "door 1 ajar")
    until(lambda: "door 1 ajar" in _feed_text(dash_duo), timeout=5)
    _alert(pg_runtime, world, Severity.CRITICAL, "intrusion at door 4")
    until(lambda: "intrusion at door 4" in _feed_text(dash_duo), timeout=5)
    until(lambda: _js(dash_duo, "return window.nocWall.beeps") == 1, timeout=3)
    dash_duo.find_element(f"#{ids.WALL_SOUND}").click()
    dash_duo.wait_for_contains_text(f"#{ids.WALL_SOUND}", "Muted")
    _alert(pg_runtime, world, Severity.HIGH, "intrusion at door 5")
    until(lambda: "intrusion at door 5" in _feed_text(dash_duo), timeout=5)
    assert _js(dash_duo, "return window.nocWall.beeps") == 1

    assert _js(dash_duo, "return window.__sameDocument") is True, "no reload happened"
    logs = dash_duo.get_logs()
    assert logs == [], "\n".join(str(entry) for entry in logs)

    # Rotation: unknown names are ignored; the kiosk arguments travel along; no page reload.
    dash_duo.driver.get(f"{live_url}/wall?kiosk=1&rotate=wall,nonsense,feed&every=10")
    dash_duo.wait_for_element(f"#{ids.WALL_TILES}")
    _js(dash_duo, "window.__sameDocument = true")
    until(lambda: _js(dash_duo, "return window.location.pathname") == "/", timeout=20, poll=0.5)
    assert _js(dash_duo, "return window.location.search") == "?kiosk=1&rotate=wall,nonsense,feed&every=10"
    dash_duo.wait_for_element(f"#{ids.FEED_LIST}")
    assert not dash_duo.find_element(f"#{ids.NAVBAR}").is_displayed()
    assert _js(dash_duo, "return window.__sameDocument") is True
    logs = dash_duo.get_logs()
    assert logs == [], "\n".join(str(entry) for entry in logs)
