"""Driving a wall display in a browser: open it as a NOC screen does (the wallboard token, kiosk
mode) and read its ticket tiles. Shared by the wall's own test and the tickets test, whose
acknowledgement must reach the wall without a reload."""
from __future__ import annotations

from dash.testing.wait import until
from selenium.webdriver.remote.webdriver import WebDriver

from components import ids
from tests.factories import World

P1_ROW = f"#{ids.WALL_TICKETS_TILE} tr[data-priority='p1'] td"


def open_kiosk_wall(driver: WebDriver, url: str, world: World) -> None:
    """The wall with the tenant's wallboard token, in kiosk mode, its live socket connected."""
    driver.get(f"{url}/wall?kiosk=1&wallboard_token={world.wallboard_token}")
    until(lambda: driver.find_elements("css selector", f"#{ids.WALL_TILES}"), timeout=15, msg="the wall loads")
    # Kiosk mode hides the navbar and its Live badge: ask the socket client itself.
    until(lambda: driver.execute_script("return window.nocLive && window.nocLive.state") == "live", timeout=15,
          msg="the wall's live socket connects")


def p1_counts(driver: WebDriver) -> list[str]:
    """The P1 row of the ticket tile: late, due soon, on time. Read in one script: the tiles are
    replaced on refresh, and an element found a moment before may be gone (stale) when read."""
    return driver.execute_script(
        f"return Array.from(document.querySelectorAll(\"{P1_ROW}\")).map(c => c.textContent)")
