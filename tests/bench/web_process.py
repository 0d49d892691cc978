"""The web app as the benchmarks drive it: gunicorn (``app:server`` with the repo's
gunicorn.conf.py) in one process on a free loopback port, pointed at a bench runtime."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from backend.config import PROJECT_ROOT
from backend.runtime import Runtime

WEB_THREADS = 8           # gthread threads of the one web process


@contextmanager
def web_process(runtime: Runtime) -> Iterator[str]:
    """gunicorn (app:server, the repo's gunicorn.conf.py) in one process, on a free loopback port."""
    port = free_port()
    settings = runtime.settings
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(WEB_HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1", WEB_THREADS=str(WEB_THREADS),
               SECRET_KEY="bench", NOC_VAR_DIR=str(settings.var_dir), PYTHONPATH=str(PROJECT_ROOT))
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    log_path = Path(settings.var_dir) / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "app:server"],
                                   cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if requests.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still importing the app
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not come up in {timeout} s: {log_path.read_text()[-2000:]}")
