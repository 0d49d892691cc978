"""The wire format of ``POST /api/v1/events``: one JSON object per event, discriminated by
``type``. Sites, persons, checkpoints and tours are referenced by their external ``code``."""
from __future__ import annotations


from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from backend.enums import AlertKind, InputType, PhoneActivityKind, ScanMethod, Severity

Code = Annotated[str, Field(min_length=1, max_length=64)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Percent = Annotated[float, Field(ge=0, le=100)]


class _EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=128)]  # client event id: the idempotency key
    ts: AwareDatetime                                          # must carry a UTC offset
    device_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class AttendanceIn(_EventIn):
    type: Literal[InputType.CHECK_IN, InputType.CHECK_OUT]
    person: Code
    site: Code
    lat: Latitude
    lon: Longitude
    gps_accuracy_m: Annotated[float, Field(ge=0, le=100_000)] | None = None
    biometric_quality: Annotated[float, Field(ge=0, le=1)] | None = None
    mock_location: bool = False
    battery_pct: Percent | None = None
    signal_dbm: Annotated[float, Field(ge=-150, le=0)] | None = None


class LocationPingIn(_EventIn):
    type: Literal[InputType.LOCATION_PING]
    person: Code
    site: Code | None = None
    lat: Latitude
    lon: Longitude
    accuracy_m: Annotated[float, Field(ge=0, le=100_000)] | None = None
    speed_mps: Annotated[float, Field(ge=0, le=400)] | None = None
    mock_location: bool = False
    battery_pct: Percent | None = None


class CheckpointScanIn(_EventIn):
    type: Literal[InputType.CHECKPOINT_SCAN]
    person: Code
    checkpoint: Code
    site: Code | None = None   # optional cross-check: must be the checkpoint's site (stored from the checkpoint)
    tour: Code | None = None
    method: ScanMethod = ScanMethod.NFC
    lat: Latitude | None = None
    lon: Longitude | None = None


class PhoneActivityIn(_EventIn):
    type: Literal[InputType.PHONE_ACTIVITY]
    person: Code
    site: Code | None = None
    activity: PhoneActivityKind
    value: Annotated[float, Field(ge=0)] | None = None


class NocAlertIn(_EventIn):
    type: Literal[InputType.NOC_ALERT]
    site: Code
    person: Code | None = None
    kind: AlertKind
    severity: Severity
    message: Annotated[str, Field(max_length=1000)] | None = None


EventIn = Annotated[AttendanceIn | LocationPingIn | CheckpointScanIn | PhoneActivityIn | NocAlertIn,
                    Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[EventIn] = TypeAdapter(EventIn)
