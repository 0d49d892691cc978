"""Per-item outcome of a batch (events or reference data) and its wire format."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ItemStatus(StrEnum):
    ACCEPTED = "accepted"    # stored (events) or upserted (reference data)
    DUPLICATE = "duplicate"  # already stored, or repeated earlier in the same batch: nothing written
    REJECTED = "rejected"    # invalid: nothing written, ``errors`` says why


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str   # dotted path inside the item ("lat", "checkpoints.2"), or "item" for the whole item
    reason: str


@dataclass(slots=True)
class ItemResult:
    index: int
    id: str | None        # the client's id (events) or code (reference data), when it had a usable one
    status: ItemStatus
    errors: list[FieldError] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "status": self.status.value,
                "errors": [{"field": e.field, "reason": e.reason} for e in self.errors]}


@dataclass(slots=True)
class BatchResult:
    """Results in input order. ``stored_ids`` maps table name -> database ids of what this batch
    wrote (input order), for callers that act on them (scoring, tests, the simulator)."""
    items: list[ItemResult]
    stored_ids: dict[str, list[int]] = field(default_factory=dict)
    scoring_job_id: str | None = None  # None: nothing to score, or Redis was down (the sweeper catches up)

    def count(self, status: ItemStatus) -> int:
        return sum(1 for item in self.items if item.status is status)

    @property
    def http_status(self) -> int:
        """200: nothing rejected; 207: partly rejected (the rest was processed); 422: all rejected."""
        rejected = self.count(ItemStatus.REJECTED)
        if rejected == 0:
            return 200
        return 422 if rejected == len(self.items) else 207

    def to_json(self) -> dict[str, Any]:
        return {"received": len(self.items),
                **{status.value: self.count(status) for status in ItemStatus},
                "results": [item.to_json() for item in self.items]}
