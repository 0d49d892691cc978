"""Builders of wire-format events and readers of what ingestion stored, for the ingest tests."""
from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from backend.models import AttendanceEvent, CheckpointScan, LocationPing, NocAlert, PhoneActivity
from backend.runtime import Runtime

INPUT_MODELS = (AttendanceEvent, LocationPing, CheckpointScan, PhoneActivity, NocAlert)


def iso(seconds_ago: float = 60.0) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def new_id(prefix: str = "e") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def check_in(person: str = "P1", site: str = "S1", **fields: Any) -> dict[str, Any]:
    return {"type": "check_in", "id": new_id("ci"), "ts": iso(), "person": person, "site": site,
            "lat": 38.71, "lon": -9.14, "gps_accuracy_m": 8.0, "biometric_quality": 0.93,
            "battery_pct": 81.0, "signal_dbm": -71.0, "device_id": "dev-1", **fields}


def check_out(person: str = "P1", site: str = "S1", **fields: Any) -> dict[str, Any]:
    return {**check_in(person, site), "type": "check_out", "id": new_id("co"), **fields}


def ping(person: str = "P1", site: str | None = "S1", **fields: Any) -> dict[str, Any]:
    return {"type": "location_ping", "id": new_id("lp"), "ts": iso(), "person": person, "site": site,
            "lat": 38.712, "lon": -9.141, "accuracy_m": 12.0, "speed_mps": 0.4, **fields}


def scan(person: str = "P1", checkpoint: str = "S1-CP1", **fields: Any) -> dict[str, Any]:
    return {"type": "checkpoint_scan", "id": new_id("cs"), "ts": iso(), "person": person,
            "checkpoint": checkpoint, "method": "nfc", **fields}


def phone(person: str = "P1", **fields: Any) -> dict[str, Any]:
    return {"type": "phone_activity", "id": new_id("pa"), "ts": iso(), "person": person,
            "activity": "steps", "value": 120.0, **fields}


def alert(site: str = "S1", **fields: Any) -> dict[str, Any]:
    return {"type": "noc_alert", "id": new_id("na"), "ts": iso(), "site": site, "person": "P2",
            "kind": "panic", "severity": "critical", "message": "panic button pressed", **fields}


def mixed_batch(n: int) -> list[dict[str, Any]]:
    """``n`` valid events of every kind for a tests.factories world (persons P1-P3, sites S1-S2)."""
    makers = itertools.cycle([
        lambda p, s: check_in(p, s), lambda p, s: ping(p, s), lambda p, s: ping(p, None),
        lambda p, s: scan(p, f"{s}-CP2"), lambda p, s: check_out(p, s), lambda p, s: phone(p, site=s),
        lambda p, s: ping(p, s), lambda p, s: alert(s, person=p, kind="low_battery", severity="low")])
    return [next(makers)(f"P{i % 3 + 1}", f"S{i % 2 + 1}") for i in range(n)]


def stored_counts(runtime: Runtime, tenant_id: int) -> dict[str, int]:
    """Rows per input table for the tenant: what the tests assert on, not the HTTP status."""
    with runtime.transaction() as session:
        return {model.__tablename__: session.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.tenant_id == tenant_id)) or 0
            for model in INPUT_MODELS}


def total_stored(runtime: Runtime, tenant_id: int) -> int:
    return sum(stored_counts(runtime, tenant_id).values())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
