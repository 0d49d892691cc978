"""First render of every page in real Chromium, on the demo world (issue 6: within 1.5 s).

The world is what ``make run`` shows after its first minute: the demo world seeded (40 sites,
400 guards, 30 days), the initial model trained and the history scored. The app runs under
gunicorn (``web_process``); headless Chromium signs in as the demo admin (who may open every
page) and loads each page of ``dash.page_registry`` by URL — a full navigation: HTML, the
(cached) Dash bundles, the layout, the page's layout callback and its initial callbacks. Path
templates (``/sites/<site_id>``) are filled with ids of the demo world, so pages added later are
measured without touching this file.

"Rendered" = the page container has content, nothing shows Dash's loading state and the
renderer has no callback requested or in flight, for two checks in a row (the first of them
counts). A script installed before each document (DevTools ``addScriptToEvaluateOnNewDocument``)
checks every 5 ms and records ``performance.now()``, i.e. milliseconds since the navigation
started, so Selenium's polling adds nothing to the figure. Callbacks started later by the live
socket (the first-connect resync) are after the first view and not counted.

Figures: ``ui_render_<page>_s`` (median of RUNS loads; <page> is the page module's name) and
``ui_first_render_max_s`` (the slowest page's median), plus ``ui_pages`` (pages measured) and
``ui_skipped_pages`` when a template could not be filled."""
from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from backend.enums import Role
from backend.ml.service import ensure_initial_model
from backend.models import AttendanceEvent, FraudPrediction, Person, Site, Ticket
from backend.runtime import Runtime
from backend.scoring.service import score_checkins
from backend.simulator import ensure_demo_world
from backend.simulator.seed import DEMO_PASSWORD
from tests.bench.harness import BenchContext, median
from tests.bench.web_process import web_process

RUNS = 3
TIMEOUT_S = 30
_TEMPLATE_VARIABLE = re.compile(r"<([^>]+)>")

# Installed before every document: records when the first view is complete (see the docstring).
_PROBE = """
(function () {
  var streak = null;
  function rendered() {
    var store = window.store;
    var content = document.getElementById('_pages_content');
    if (!store || !content || !content.firstElementChild) { return false; }
    if (document.querySelector('._dash-loading, [data-dash-is-loading="true"]')) { return false; }
    var state = store.getState();
    if (state.isLoading) { return false; }
    var cbs = state.callbacks || {};
    var busy = ['requested', 'prioritized', 'blocked', 'executing', 'watched', 'executed'];
    for (var i = 0; i < busy.length; i++) { if ((cbs[busy[i]] || []).length) { return false; } }
    return true;
  }
  var timer = setInterval(function () {
    if (!rendered()) { streak = null; return; }
    if (streak === null) { streak = performance.now(); return; }
    window.__firstViewMs = streak;
    clearInterval(timer);
  }, 5);
})();
"""


def run(ctx: BenchContext) -> dict[str, float | int | str]:
    with ctx.fresh_runtime("ui") as runtime:
        tenant_id, admin_email = _demo_world(runtime)
        paths, skipped = _page_paths(runtime, tenant_id)
        with web_process(runtime) as url, _chromium() as driver:
            _sign_in(driver, url, admin_email)
            timings = {name: [_first_view_s(driver, url + path) for _ in range(RUNS)] for name, path in paths.items()}
    figures: dict[str, float | int | str] = {f"ui_render_{name}_s": round(median(values), 3)
                                             for name, values in timings.items()}
    figures["ui_first_render_max_s"] = max(v for k, v in figures.items() if isinstance(v, float))
    figures["ui_pages"] = len(timings)
    if skipped:
        figures["ui_skipped_pages"] = ", ".join(skipped)
    return figures


def _demo_world(runtime: Runtime) -> tuple[int, str]:
    """Seed, train the first model and score the history, as ``make run`` does in its first
    minute (scored here in-process by the worker's own service, chunk by chunk)."""
    info = ensure_demo_world(runtime, live_token=False)
    ensure_initial_model(runtime, info.tenant_id)
    with runtime.read() as session:
        ids = list(session.scalars(sa.select(AttendanceEvent.id).where(AttendanceEvent.tenant_id == info.tenant_id)
                                   .order_by(AttendanceEvent.ts)))
    chunk = runtime.settings.scoring_sweep_chunk
    for lo in range(0, len(ids), chunk):
        score_checkins(runtime, info.tenant_id, ids[lo:lo + chunk], coalesce=False)
    admin = next(login.email for login in info.logins if login.role is Role.ADMIN)
    return info.tenant_id, admin


def _page_paths(runtime: Runtime, tenant_id: int) -> tuple[dict[str, str], list[str]]:
    """(page name -> the URL to load, pages skipped): every registered page, templates filled
    with real ids; a page whose template names something the demo world has none of (or that
    this file cannot map to a table) is skipped and reported, not guessed."""
    import dash

    from app import create_app

    create_app(runtime.settings)   # imports the pages: fills dash.page_registry
    samples = _sample_ids(runtime, tenant_id)
    paths: dict[str, str] = {}
    skipped: list[str] = []
    for module, page in dash.page_registry.items():
        name = module.removeprefix("pages.").replace(".", "_")
        template = page.get("path_template") or page["path"]
        try:
            paths[name] = _TEMPLATE_VARIABLE.sub(lambda m: str(samples[_entity(m.group(1))]), template)
        except KeyError as exc:
            skipped.append(f"{name} (no id for {exc} in {template})")
    return paths, skipped


def _entity(variable: str) -> str:
    """``site_id`` / ``site`` / ``siteId`` -> ``site``."""
    return re.sub(r"(_?id)$", "", variable, flags=re.IGNORECASE).lower()


def _sample_ids(runtime: Runtime, tenant_id: int) -> dict[str, int]:
    """An id per entity a page path may name: the site and the person with the highest fraud
    score (the pages have the most to show there), any ticket."""
    with runtime.read() as session:
        top = session.execute(sa.select(FraudPrediction.site_id, FraudPrediction.person_id)
                              .where(FraudPrediction.tenant_id == tenant_id)
                              .order_by(FraudPrediction.score.desc()).limit(1)).first()
        site = top.site_id if top else session.scalar(sa.select(sa.func.min(Site.id)).where(Site.tenant_id == tenant_id))
        person = top.person_id if top else session.scalar(
            sa.select(sa.func.min(Person.id)).where(Person.tenant_id == tenant_id))
        ticket = session.scalar(sa.select(sa.func.max(Ticket.id)).where(Ticket.tenant_id == tenant_id))
    return {k: v for k, v in {"site": site, "person": person, "ticket": ticket}.items() if v is not None}


@contextmanager
def _chromium() -> Iterator[webdriver.Chrome]:
    """Headless Chromium as dash.testing starts it, with the probe installed on every document."""
    if shutil.which("chromedriver") is None:
        raise RuntimeError("chromedriver not found (`make browser` installs Chromium and its driver)")
    options = webdriver.ChromeOptions()
    for argument in ("--headless", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1600,1000", "--remote-debugging-port=0"):
        options.add_argument(argument)
    os.makedirs(os.environ.get("TMPDIR", "/tmp"), exist_ok=True)
    driver = webdriver.Chrome(options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _PROBE})
        yield driver
    finally:
        driver.quit()


def _sign_in(driver: webdriver.Chrome, url: str, email: str) -> None:
    """Through the login form, as a person would; the app's bundles are cached from here on."""
    driver.get(url + "/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, TIMEOUT_S).until(expected_conditions.presence_of_element_located((By.ID, "_pages_content")))
    _wait_for_probe(driver)


def _first_view_s(driver: webdriver.Chrome, url: str) -> float:
    driver.get(url)
    return _wait_for_probe(driver) / 1000


def _wait_for_probe(driver: webdriver.Chrome) -> float:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        value: Any = driver.execute_script("return window.__firstViewMs")
        if value is not None:
            return float(value)
        time.sleep(0.05)
    raise RuntimeError(f"{driver.current_url}: no first view within {TIMEOUT_S} s")
