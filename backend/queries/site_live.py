"""Live events of a site page turned into what its lists show, without a database read: a
``finding_created`` event carries the finding, an ``incident_correlated`` one the incident
(``backend.audit.findings.finding_event``, ``backend.audit.service``). Anything malformed
yields None: the page then reloads the list from the database instead."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.audit.schemas import AnomalousWindow, FindingItem
from backend.audit.types import FindingType
from backend.enums import EventType
from backend.queries.site_schemas import IncidentItem


def _time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def finding_from_event(env: dict[str, Any], timezone: str) -> FindingItem | None:
    data = env.get("data")
    if env.get("type") != EventType.FINDING_CREATED or not isinstance(data, dict):
        return None
    start, end, finding_id, site_id = (_time(data.get("window_start")), _time(data.get("window_end")),
                                       _int(data.get("finding_id")), _int(env.get("site")))
    created = _time(env.get("time"))
    if start is None or end is None or finding_id is None or site_id is None or created is None:
        return None
    return FindingItem(
        id=finding_id, type=str(data.get("kind", "")), label=str(data.get("label") or data.get("kind") or "Finding"),
        severity=str(env.get("severity") or "low"), site_id=site_id, site_name=str(data.get("site_name") or ""),
        site_timezone=timezone, person_id=_int(env.get("person")),
        person_name=str(data["person_name"]) if data.get("person_name") else None, window_start=start,
        window_end=end, summary=str(data.get("title") or data.get("label") or "Finding"), created_at=created,
        evidence=data.get("evidence") if isinstance(data.get("evidence"), dict) else {})


def below_baseline_window(item: FindingItem) -> AnomalousWindow | None:
    """The window an activity finding shades on the signals figure."""
    if item.type != FindingType.ACTIVITY_BELOW_BASELINE:
        return None
    metrics = item.evidence.get("metrics")
    return AnomalousWindow(item.window_start, item.window_end,
                           tuple(sorted(metrics)) if isinstance(metrics, dict) else (), (item.id,))


def incident_from_event(env: dict[str, Any]) -> IncidentItem | None:
    data = env.get("data")
    if env.get("type") != EventType.INCIDENT_CORRELATED or not isinstance(data, dict):
        return None
    start, end, incident_id = _time(data.get("window_start")), _time(data.get("window_end")), _int(data.get("incident_id"))
    if start is None or end is None or incident_id is None:
        return None
    alerts, findings = data.get("alert_ids"), data.get("finding_ids")
    return IncidentItem(
        id=incident_id, severity=str(env.get("severity") or "low"), title=str(data.get("title") or "Correlated incident"),
        window_start=start, window_end=end, person_id=_int(env.get("person")),
        person_name=str(data["person_name"]) if data.get("person_name") else None,
        alerts=len(alerts) if isinstance(alerts, list) else 0, findings=len(findings) if isinstance(findings, list) else 0)
