"""The live demo feed: posts the simulated demo world's events to the public ingestion API
(``POST {url}/api/v1/events``, bearer API token) like real devices would, about ``rate``
events a second in one batch a second.

Run as its own process (the launcher does): ``python -m backend.simulator.live --url
http://127.0.0.1:8050 --token ...`` (or ``NOC_LIVE_TOKEN``). It reads the demo world from the
database at start (same settings as the app) and again every 30 minutes, so a feed running for
days plays the shifts the daily cron adds to the roster; waits for the server to come up, backs
off while it is down (devices keep their events and send them later), and stops cleanly on
SIGTERM/SIGINT."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from sqlalchemy.exc import SQLAlchemyError

from backend.config import get_settings
from backend.runtime import Runtime, get_runtime
from backend.simulator.live_sim import LiveSimulator
from backend.simulator.live_world import DemoWorldMissing, LiveWorld, load_live_world
from backend.simulator.world import DEMO_SLUG

log = logging.getLogger(__name__)

EVENTS_PATH = "/api/v1/events"
MAX_BATCH = 500                  # below the API's batch limit; bigger ticks are split
BACKOFF_S = (0.5, 10.0)          # first and longest wait between retries (the server may start late)
REQUEST_TIMEOUT_S = 10.0
RELOAD_EVERY_S = 30 * 60.0       # re-read the world (new shifts) this often ...
RELOAD_IDLE_S = 60.0             # ... or this often once no shift is left ahead


class LiveFeedAuthError(RuntimeError):
    """The API refused the token (401/403): retrying cannot help."""


@dataclass
class LiveStats:
    posted: int = 0                  # events the server answered for
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    dropped: int = 0                 # batches the server refused as a whole (4xx), not retried
    retries: int = 0
    last_errors: list[Any] = field(default_factory=list)


class EventPoster:
    """Posts batches, retrying with exponential backoff while the server is unreachable or
    failing (5xx, 429). A batch is never lost to an outage, only to stopping."""

    def __init__(self, base_url: str, api_token: str, stop: threading.Event, stats: LiveStats,
                 session: requests.Session | None = None) -> None:
        self.url = base_url.rstrip("/") + EVENTS_PATH
        self.stop, self.stats = stop, stats
        self.http = session or requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {api_token}"})

    def post(self, batch: list[dict[str, Any]]) -> bool:
        """True once the server has answered for the batch; False if stopped first."""
        delay = BACKOFF_S[0]
        while not self.stop.is_set():
            try:
                response = self.http.post(self.url, json=batch, timeout=REQUEST_TIMEOUT_S)
            except requests.RequestException as exc:
                log.info("live feed: %s not reachable (%s); retrying in %.1f s", self.url, type(exc).__name__, delay)
            else:
                if response.status_code in (401, 403):
                    raise LiveFeedAuthError(f"{response.status_code} from {self.url}: check the API token")
                if response.status_code < 500 and response.status_code != 429:
                    self._count(batch, response)
                    return True
                log.warning("live feed: HTTP %s from %s; retrying in %.1f s", response.status_code, self.url, delay)
            self.stats.retries += 1
            self.stop.wait(delay)
            delay = min(delay * 2, BACKOFF_S[1])
        return False

    def _count(self, batch: list[dict[str, Any]], response: requests.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code in (200, 207, 422) and isinstance(body, dict) and "results" in body:
            self.stats.posted += len(batch)
            for status in ("accepted", "duplicate", "rejected"):
                setattr(self.stats, status, getattr(self.stats, status) + int(body.get(status, 0)))
            errors = [r for r in body["results"] if r.get("status") == "rejected"]
            if errors:
                self.stats.last_errors = errors[-5:]
                log.warning("live feed: %d of %d events rejected, e.g. %s", len(errors), len(batch), errors[0])
        else:
            # A refusal of the whole request (400, 413, ...): retrying the same body cannot help.
            self.stats.dropped += 1
            log.error("live feed: batch of %d refused with HTTP %s: %s", len(batch), response.status_code,
                      response.text[:300])


class WorldReloader:
    """Re-reads the demo world now and then (one read, ~the cost of the start) and hands the
    simulator the shifts it has not seen: the roster grows daily while the feed runs for days."""

    def __init__(self, runtime: Runtime, now: float, slug: str = DEMO_SLUG) -> None:
        self.runtime, self.slug = runtime, slug
        self.last = now

    def due(self, simulator: LiveSimulator, now: float) -> bool:
        return now - self.last >= (RELOAD_EVERY_S if simulator.shifts_ahead else RELOAD_IDLE_S)

    def reload(self, simulator: LiveSimulator, now: float) -> int:
        """The number of new shifts; 0 if the read failed (the feed plays on with what it has)."""
        self.last = now
        try:
            world = load_live_world(self.runtime, self.slug, now=datetime.fromtimestamp(now, UTC))
        except (DemoWorldMissing, SQLAlchemyError) as exc:
            log.warning("live feed: reloading the demo world failed (%s); trying again later", exc)
            return 0
        added = simulator.refresh(world, now)
        log.info("live feed: world reloaded, %d new shifts (%d ahead)", added, simulator.shifts_ahead)
        return added


def run_live_feed(base_url: str, api_token: str, rate: float, seed: int, stop_event: threading.Event, *,
                  world: LiveWorld | None = None, runtime: Runtime | None = None,
                  clock: Callable[[], float] = time.time, fraud_rate: float = 0.03) -> LiveStats:
    """Post the demo world's live events until ``stop_event`` is set (``rate`` <= 0: do nothing).
    ``world`` defaults to reading the demo world through ``runtime`` (default: the process's),
    which also serves the periodic reloads."""
    stats = LiveStats()
    if rate <= 0:
        log.info("live feed disabled (rate %s)", rate)
        return stats
    runtime = runtime or get_runtime()
    world = world or load_live_world(runtime)
    simulator = LiveSimulator(world, seed=seed, rate=rate, now=clock(), fraud_rate=fraud_rate)
    reloader = WorldReloader(runtime, clock())
    poster = EventPoster(base_url, api_token, stop_event, stats)
    log.info("live feed: posting ~%.1f events/s to %s (%d shifts ahead, %d guards on duty)",
             rate, poster.url, simulator.shifts_ahead, simulator.on_duty)
    while not stop_event.is_set():
        tick = clock()
        if reloader.due(simulator, tick):
            reloader.reload(simulator, tick)
        events = simulator.step(tick)
        for lo in range(0, len(events), MAX_BATCH):
            if not poster.post(events[lo:lo + MAX_BATCH]):
                return stats
        stop_event.wait(max(0.0, 1.0 - (clock() - tick)))
    return stats


def _wait_for_world(runtime: Runtime, stop: threading.Event) -> LiveWorld | None:
    """The launcher may start the feed while the demo world is still being seeded."""
    delay = BACKOFF_S[0]
    while not stop.is_set():
        try:
            return load_live_world(runtime)
        except DemoWorldMissing as exc:
            log.info("live feed: %s; waiting %.1f s", exc, delay)
        stop.wait(delay)
        delay = min(delay * 2, BACKOFF_S[1])
    return None


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m backend.simulator.live", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=f"http://127.0.0.1:{settings.port}", help="the web app's base URL")
    parser.add_argument("--token", default=os.environ.get("NOC_LIVE_TOKEN"),
                        help="API token of the demo tenant (default: $NOC_LIVE_TOKEN)")
    parser.add_argument("--rate", type=float, default=settings.demo_live_rate, help="events per second")
    parser.add_argument("--seed", type=int, default=settings.demo_seed)
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("an API token is required: --token or NOC_LIVE_TOKEN")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s live-feed %(levelname)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime = get_runtime()
    try:
        world = _wait_for_world(runtime, stop)
        if world is None:
            return 0
        stats = run_live_feed(args.url, args.token, args.rate, args.seed, stop, world=world, runtime=runtime)
    except LiveFeedAuthError as exc:
        log.error("live feed stopped: %s", exc)
        return 2
    finally:
        runtime.close()
    log.info("live feed stopped: %d events posted (%d accepted, %d rejected)", stats.posted, stats.accepted,
             stats.rejected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
