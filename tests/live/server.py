"""Running the real web server for live-channel tests and benchmarks: ``gunicorn app:server``
(the repo's gunicorn.conf.py, gthread) as a subprocess on a free loopback port."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from backend.config import PROJECT_ROOT, Settings


@dataclass(frozen=True)
class WebServer:
    url: str           # http://127.0.0.1:<port>
    ws_url: str        # ws://127.0.0.1:<port>/ws
    pid: int
    log_path: Path

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(settings: Settings, log_path: Path, *, workers: int = 1, threads: int = 32,
             extra_env: dict[str, str] | None = None, port: int | None = None) -> Iterator[WebServer]:
    """The production server against ``settings``' database and Redis; stopped on exit.
    ``port`` (default: a free one) lets a test stop a server and start it again at the same address."""
    port = port or free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL") and not key.startswith("NOC_")}
    env.update(WEB_HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY=str(workers), WEB_THREADS=str(threads),
               SECRET_KEY=settings.effective_secret_key, NOC_VAR_DIR=str(settings.var_dir),
               PYTHONPATH=str(PROJECT_ROOT), **(extra_env or {}))
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "app:server"],
                                   cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # its own group: stopped as one
    server = WebServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", process.pid, log_path)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        _stop(process)


def _wait_until_up(server: WebServer, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if requests.get(f"{server.url}/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still importing the app
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not come up in {timeout} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """gunicorn's quick shutdown (SIGINT); workers still finishing socket threads after a
    second are killed with the whole group (tests and benchmarks need no graceful stop)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(1.0)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the arbiter's group: any worker left over
    except ProcessLookupError:
        pass
    process.wait()
