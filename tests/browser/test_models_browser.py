"""The Models page in real Chromium: an admin retrains from the page, a real RQ worker process
trains, and the progress and the new version arrive over the socket without a reload; the
other roles see what they may and a second tenant sees nothing of the first — with a clean
browser console."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from dash.testing.wait import until

from backend.config import PROJECT_ROOT
from backend.enums import Role
from backend.models import Tenant
from backend.queues import QueueName
from backend.runtime import Runtime
from backend.simulator.seed import DEMO_PASSWORD, USER_LOGINS
from components import ids
from tests.factories import PASSWORD, World
from tests.scoring.conftest import SMALL, seed

pytestmark = pytest.mark.browser

VERSION_ROWS = f"#{ids.MODELS_VERSIONS_TABLE} tbody tr"


def _ml_worker(runtime: Runtime) -> subprocess.Popen[str]:
    """A real worker process (``python -m workers.worker ml``: an RQ SimpleWorker) in burst mode."""
    env = {**os.environ, "DATABASE_URL": runtime.settings.database_url or "",
           "REDIS_URL": runtime.settings.redis_url or "", "SECRET_KEY": "test-secret-key",
           "NOC_VAR_DIR": str(runtime.settings.var_dir), "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "workers.worker", QueueName.ML.value, "--burst"], cwd=PROJECT_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _versions(dash_duo: Any) -> list[tuple[str, str]]:
    return dash_duo.driver.execute_script(
        f"return Array.from(document.querySelectorAll('{VERSION_ROWS}'))"
        ".map(r => [r.dataset.version, r.dataset.status])")


def _stages(dash_duo: Any) -> list[str]:
    return dash_duo.driver.execute_script("return window.__stages || []")


def _assert_clean_console(dash_duo: Any) -> None:
    logs = dash_duo.get_logs()
    assert logs == [], "\n".join(str(entry) for entry in logs)


def _switch_user(dash_duo: Any, live_url: str, sign_in: Callable[..., None], email: str, password: str) -> None:
    dash_duo.driver.get(live_url + "/logout")
    dash_duo.reset_log_timestamp()
    sign_in(email, password)


def test_an_admin_retrains_from_the_page_and_the_new_version_arrives_live(
        dash_duo: Any, live_url: str, sign_in: Callable[..., None], pg_runtime: Runtime, other_world: World) -> None:
    seeded = seed(pg_runtime, SMALL)                      # a small demo world: labelled history, no model
    with pg_runtime.read() as session:
        slug = session.get(Tenant, seeded.tenant_id).slug
    login = {role: f"{local}@{slug}.noc" for role, local in USER_LOGINS.items()}
    pg_runtime.queues[QueueName.ML].empty()

    sign_in(login[Role.ADMIN], DEMO_PASSWORD)
    dash_duo.driver.get(live_url + "/models")
    # Waited for by text, then read afresh: the page's first callbacks may re-render it.
    dash_duo.wait_for_contains_text(f"#{ids.MODELS_EMPTY}", "No model trained yet")
    assert "heuristic" in dash_duo.find_element(f"#{ids.MODELS_EMPTY}").text
    assert "heuristic rules" in dash_duo.find_element(f"#{ids.MODELS_STATUS}").text
    dash_duo.wait_for_text_to_equal("#live-badge", "Live", timeout=10)
    # Remember every stage the progress area shows, and that no reload happens.
    dash_duo.driver.execute_script(f"""
        window.__sameDocument = true; window.__stages = [];
        new MutationObserver(() => {{
          document.querySelectorAll('#{ids.MODELS_PROGRESS} [data-stage]').forEach(el => {{
            const s = el.dataset.stage;
            if (window.__stages[window.__stages.length - 1] !== s) window.__stages.push(s);
          }});
        }}).observe(document.getElementById('{ids.MODELS_PROGRESS}'), {{childList: true, subtree: true}});""")

    dash_duo.find_element(f"#{ids.MODELS_RETRAIN}").click()
    dash_duo.wait_for_contains_text(f"#{ids.MODELS_ACTION_RESULT}", "Training queued", timeout=10)
    until(lambda: "queued" in _stages(dash_duo), timeout=10, msg=lambda: f"stages {_stages(dash_duo)}")
    worker = _ml_worker(pg_runtime)
    try:
        until(lambda: _versions(dash_duo) == [["1", "active"]], timeout=120,
              msg=lambda: f"versions {_versions(dash_duo)}, stages {_stages(dash_duo)}")
    finally:
        output = worker.communicate(timeout=60)[0]
    assert worker.returncode == 0, output
    dash_duo.wait_for_contains_text(f"#{ids.MODELS_PROGRESS}", "v1: Activated", timeout=10)
    assert _stages(dash_duo)[0] == "queued" and _stages(dash_duo)[-1] == "activated", _stages(dash_duo)
    assert "Scoring with model v1" in dash_duo.find_element(f"#{ids.MODELS_STATUS}").text
    for figure in (ids.MODELS_FIG_PR, ids.MODELS_FIG_CONFUSION, ids.MODELS_FIG_IMPORTANCE, ids.MODELS_FIG_SCORES):
        dash_duo.wait_for_element(f"#{figure} .main-svg")
    assert dash_duo.driver.execute_script("return window.__sameDocument") is True, "no reload happened"
    assert not dash_duo.find_element(f"#{ids.MODELS_RETRAIN}").get_attribute("disabled")
    _assert_clean_console(dash_duo)

    # A security manager sees the versions and figures, not the admin's buttons.
    _switch_user(dash_duo, live_url, sign_in, login[Role.SECURITY_MANAGER], DEMO_PASSWORD)
    assert "Models" in dash_duo.find_element(f"#{ids.NAVBAR}").text
    dash_duo.driver.get(live_url + "/models")
    until(lambda: _versions(dash_duo) == [["1", "active"]], timeout=10)
    assert dash_duo.find_element(f"#{ids.MODELS_ADMIN}").text == ""
    assert not dash_duo.driver.find_elements("css selector", f"#{ids.MODELS_RETRAIN}")
    _assert_clean_console(dash_duo)

    # An operator has no Models link, and the page itself says it is not for that role.
    _switch_user(dash_duo, live_url, sign_in, login[Role.OPERATOR], DEMO_PASSWORD)
    assert "Models" not in dash_duo.find_element(f"#{ids.NAVBAR}").text
    dash_duo.driver.get(live_url + "/models")
    assert "security managers" in dash_duo.wait_for_element(f"#{ids.MODELS_DENIED}").text
    _assert_clean_console(dash_duo)

    # Tenant B's admin: its own (empty) models, nothing of tenant A's.
    _switch_user(dash_duo, live_url, sign_in, other_world.users[Role.ADMIN], PASSWORD)
    dash_duo.driver.get(live_url + "/models")
    dash_duo.wait_for_element(f"#{ids.MODELS_EMPTY}")
    assert _versions(dash_duo) == []
    _assert_clean_console(dash_duo)
