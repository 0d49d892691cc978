"""Events on the wire format of ``POST /api/v1/events``, one of each input type, for a World
made by ``tests.factories`` (sites S1/S2, persons P1..P3, checkpoints S1-CP1…)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.enums import InputType


def sample_events(site: str = "S1", person: str = "P1", *, at: datetime | None = None) -> list[dict[str, Any]]:
    """One event of every type at ``site`` by ``person``, a second apart, ending at ``at``
    (default: now). Client ids are fresh, so every call stores new events."""
    at = at or datetime.now(UTC)
    tag = uuid.uuid4().hex[:12]

    def event(type_: InputType, seconds_before: int, **fields: Any) -> dict[str, Any]:
        ts = at - timedelta(seconds=seconds_before)
        return {"id": f"{type_.value}-{tag}", "type": type_.value, "ts": ts.isoformat(), **fields}

    return [
        event(InputType.CHECK_IN, 5, person=person, site=site, lat=38.7012, lon=-9.1401,
              gps_accuracy_m=8, mock_location=True),
        event(InputType.LOCATION_PING, 4, person=person, site=site, lat=38.7013, lon=-9.1402, accuracy_m=12),
        event(InputType.CHECKPOINT_SCAN, 3, person=person, checkpoint=f"{site}-CP1"),
        event(InputType.PHONE_ACTIVITY, 2, person=person, site=site, activity="steps", value=120),
        event(InputType.NOC_ALERT, 1, site=site, person=person, kind="panic", severity="critical",
              message=f"Panic button {tag}"),
        event(InputType.CHECK_OUT, 0, person=person, site=site, lat=38.7012, lon=-9.1401),
    ]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
