"""Scored check-ins written straight to the tables (as the scoring worker would), for the fraud
and person pages' tests: a check-in, its fraud prediction with reasons, and its anomalies."""
from __future__ import annotations

import itertools
from datetime import datetime

from backend.enums import AttendanceKind, FraudKind, Scorer, Severity
from backend.models import AttendanceAnomaly, AttendanceEvent, FraudPrediction
from backend.runtime import Runtime
from backend.scoring.catalog import FEATURE_NAMES, FEATURE_VERSION
from tests.factories import World

_ids = itertools.count(1)


def scored_checkin(runtime: Runtime, world: World, person: str, site: str, ts: datetime, score: float | None,
                   reasons: tuple[str, ...] = (), *, anomalies: tuple[FraudKind, ...] = (),
                   kind: AttendanceKind = AttendanceKind.CHECK_IN, lat: float = 38.71, lon: float = -9.14,
                   mock_location: bool = False) -> int:
    """Stores one check-in (``score`` None: not scored yet); returns its id."""
    with runtime.transaction() as session:
        event = AttendanceEvent(tenant_id=world.tenant_id, client_event_id=f"fraud-{next(_ids)}", ts=ts, kind=kind,
                                person_id=world.person_ids[person], site_id=world.site_ids[site], lat=lat, lon=lon,
                                gps_accuracy_m=5.0, biometric_quality=0.9, mock_location=mock_location,
                                device_id=f"{world.slug}-dev", battery_pct=80.0, signal_dbm=-70.0)
        session.add(event)
        session.flush()
        if score is not None:
            session.add(FraudPrediction(
                tenant_id=world.tenant_id, attendance_event_id=event.id, person_id=event.person_id,
                site_id=event.site_id, ts=ts, score=score, scorer=Scorer.HEURISTIC,
                features=[float(mock_location) if name == "mock_location" else None for name in FEATURE_NAMES],
                feature_version=FEATURE_VERSION,
                reasons=[{"feature": "mock_location", "text": text, "weight": 1.0 - i / 10}
                         for i, text in enumerate(reasons)]))
        for anomaly in anomalies:
            session.add(AttendanceAnomaly(tenant_id=world.tenant_id, attendance_event_id=event.id, type=anomaly,
                                          severity=Severity.HIGH))
        return event.id
