"""``flask --app app ml …``: train, list, activate, roll back, evaluate."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from backend.cli import register_cli
from backend.models import Tenant
from tests.scoring.conftest import Seeded


def test_ml_commands(small: Seeded) -> None:
    # A bare Flask app with the product's CLI (building the Dash app is not what this tests).
    app = Flask(__name__)
    app.extensions["noc_runtime"] = small.runtime
    register_cli(app)
    with small.runtime.read() as session:
        slug = session.scalar(sa.select(Tenant.slug).where(Tenant.id == small.tenant_id))
    cli = app.test_cli_runner()

    def run(*args: str) -> str:
        result = cli.invoke(args=["ml", *args, "--tenant", slug])
        assert result.exit_code == 0, result.output
        return result.output

    first = run("train")
    assert "v1 activated" in first and "gate precision" in first and ": pass" in first
    second = run("train")                            # same data: does not beat v1
    assert "v2 candidate" in second and "active v1 PR-AUC" in second
    listing = run("list")
    assert listing.index("v2") < listing.index("v1") and "active" in listing
    assert "model v2 is active" in run("activate", "2")
    assert "rolled back: model v1 is active" in run("rollback")
    missing = cli.invoke(args=["ml", "activate", "9", "--tenant", slug])
    assert missing.exit_code != 0 and "no model version 9" in missing.output
    report = run("eval")
    for expected in ("heuristic", "xgboost (fresh)", "xgboost active v1", "isolation forest", "buddy_punching",
                     "gps_spoofing", "off_roster", "geofence_violati", "check_in_and_lea"):
        assert expected in report, report
