"""The wire format of reference data (``PUT /api/v1/<kind>``): one JSON object per row,
identified by its external ``code``; other rows are referenced by their codes too.

A PUT replaces the row: fields left out take their defaults."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from backend.ingest.schemas import Code, Latitude, Longitude

LongCode = Annotated[str, Field(min_length=1, max_length=128)]  # shifts/tours: often generated ids
Name = Annotated[str, Field(min_length=1, max_length=200)]
TimeOfDay = Annotated[str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]  # HH:MM, 24:00 = end of day
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
MAX_SHIFT = timedelta(days=7)


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError; malformed keys a ValueError
        return False
    return True


def _time_zone(name: str) -> str:
    if not _known_zone(name):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/Lisbon')")
    return name


class _ReferenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code


class ClientIn(_ReferenceIn):
    name: Name


class SiteIn(_ReferenceIn):
    name: Name
    client: Code | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    timezone: Annotated[str, Field(max_length=64), AfterValidator(_time_zone)] = "UTC"
    lat: Latitude
    lon: Longitude
    geofence_radius_m: Annotated[float, Field(gt=0, le=50_000)] = 150.0
    schedule: dict[str, Any] = Field(default_factory=dict)
    active: bool = True


class CheckpointIn(_ReferenceIn):
    site: Code
    name: Name
    lat: Latitude
    lon: Longitude


class PersonIn(_ReferenceIn):
    name: Name
    device_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    home_site: Code | None = None
    active: bool = True


class ShiftIn(_ReferenceIn):
    code: LongCode
    site: Code
    person: Code | None = None  # None: an open (unfilled) shift
    post: Annotated[str, Field(min_length=1, max_length=100)] = "guard"
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @field_validator("ends_at")
    @classmethod
    def _sane_span(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")  # absent when it failed validation itself
        if starts_at is not None and ends_at <= starts_at:
            raise ValueError("must be after starts_at")
        if starts_at is not None and ends_at - starts_at > MAX_SHIFT:
            raise ValueError(f"a shift lasts at most {MAX_SHIFT.days} days")
        return ends_at


class TourIn(_ReferenceIn):
    code: LongCode
    site: Code
    name: Name
    checkpoints: Annotated[list[Code], Field(min_length=1, max_length=200)]  # in visiting order
    interval_minutes: Annotated[int, Field(ge=1, le=24 * 60)]
    grace_minutes: Minutes = 10
    active_from: TimeOfDay = "00:00"
    active_to: TimeOfDay = "24:00"
