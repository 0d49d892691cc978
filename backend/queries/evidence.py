"""A person's evidence as a CSV file: every check-in of the last 30 days with where, when (UTC
and site-local), the device's readings, the fraud score, the anomalies found and the reasons —
what a security manager hands to HR. One row per check-in, newest first."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.auth.principal import Principal
from backend.queries.access import EVIDENCE_EXPORTER, require_role
from backend.queries.fraud_schemas import CheckIn
from backend.queries.persons import person_detail

CONTENT_TYPE = "text/csv; charset=utf-8"
COLUMNS = ("time_utc", "time_local", "time_zone", "site_code", "site_name", "punch", "lat", "lon",
           "gps_accuracy_m", "mock_location", "device_id", "biometric_quality", "battery_pct", "signal_dbm",
           "fraud_score", "flagged", "scorer", "model_version_id", "anomalies", "reason_1", "reason_2", "reason_3")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    filename: str
    content: str
    content_type: str = CONTENT_TYPE


def person_evidence_csv(session: Session, principal: Principal, person_id: int, *, threshold: float,
                        now: datetime | None = None) -> EvidenceFile | None:
    """The CSV of a person the principal may see (None otherwise). Security manager and above."""
    require_role(principal, EVIDENCE_EXPORTER)
    now = now or datetime.now(UTC)
    detail = person_detail(session, principal, person_id, threshold=threshold, now=now)
    if detail is None:
        return None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row(c, threshold) for c in detail.checkins)
    code = _UNSAFE_FILENAME.sub("_", detail.summary.code).strip("._") or str(person_id)
    return EvidenceFile(filename=f"evidence-{code}-{now:%Y%m%d}.csv", content=out.getvalue())


def _row(c: CheckIn, threshold: float) -> list[Any]:
    reasons = [r.text for r in c.reasons[:3]] + [""] * (3 - min(3, len(c.reasons)))
    return [c.ts.isoformat(), c.local_ts.isoformat(), c.site_timezone, _text(c.site_code), _text(c.site_name),
            c.kind.value, c.lat, c.lon, _num(c.gps_accuracy_m), int(c.mock_location), _text(c.device_id),
            _num(c.biometric_quality), _num(c.battery_pct), _num(c.signal_dbm),
            "" if c.score is None else round(c.score, 4), "" if c.score is None else int(c.score >= threshold),
            c.scorer.value if c.scorer else "", c.model_version_id or "",
            ";".join(f"{a.type.value}:{a.severity.value}" for a in c.anomalies), *map(_text, reasons)]


def _num(value: float | None) -> Any:
    return "" if value is None else value


def _text(value: str | None) -> str:
    # A cell a spreadsheet would run as a formula (CSV injection) gets a leading apostrophe.
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_START) else text
