"""``flask --app app demo …``: seed the demo world, run the live feed in the foreground."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from backend.runtime import Runtime
from backend.simulator.live import LiveFeedAuthError, run_live_feed
from backend.simulator.seed import ensure_demo_world

# An AppGroup: its commands run inside the app context, also under the test CLI runner.
demo_cli = AppGroup("demo", help="The demo world (tenant 'demo').")


def _runtime() -> Runtime:
    return current_app.extensions["noc_runtime"]


@demo_cli.command("seed")
def demo_seed() -> None:
    """Seed the demo world unless it exists; print the demo logins. (A running live feed
    keeps its token: only ``demo live`` issues a new one.)"""
    info = ensure_demo_world(_runtime(), live_token=False)
    click.echo("\n".join(info.lines()))


@demo_cli.command("live")
@click.option("--url", default=None, help="Base URL of the web app [default: http://127.0.0.1:$PORT].")
@click.option("--rate", type=float, default=None, help="Events per second [default: NOC_DEMO_LIVE_RATE].")
@click.option("--token", envvar="NOC_LIVE_TOKEN", default=None,
              help="API token of the demo tenant [default: $NOC_LIVE_TOKEN, else a fresh one].")
def demo_live(url: str | None, rate: float | None, token: str | None) -> None:
    """Post live demo events through the ingestion API until Ctrl-C."""
    runtime = _runtime()
    settings = runtime.settings
    token = token or ensure_demo_world(runtime).api_token
    assert token is not None
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stats = run_live_feed(url or f"http://127.0.0.1:{settings.port}", token,
                              settings.demo_live_rate if rate is None else rate, settings.demo_seed, stop,
                              runtime=runtime)
    except LiveFeedAuthError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"live feed stopped: {stats.posted} events posted ({stats.accepted} accepted, "
               f"{stats.rejected} rejected)")
