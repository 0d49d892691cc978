"""Upserting reference data (clients, sites, checkpoints, persons, shifts, tours) by code.

One generic path: validate with the kind's schema, resolve the codes it references, then one
INSERT ... ON CONFLICT (tenant_id, code) DO UPDATE for the batch."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from backend.ingest.mapping import RefField, Resolved, Row, RowMapping, RowRule, build_rows
from backend.ingest.reference_schemas import ClientIn, CheckpointIn, PersonIn, ShiftIn, SiteIn, TourIn
from backend.ingest.results import BatchResult, FieldError
from backend.ingest.store import RefTable, upsert_by_code
from backend.ingest.validation import BatchOutcome, BatchValidator
from backend.models import Checkpoint, Client, Person, Shift, Site, Tour


@dataclass(frozen=True)
class ReferenceKind:
    validator: BatchValidator[Any]
    mapping: RowMapping


def _kind(schema: type[BaseModel], model: Any, refs: dict[str, RefField],
          rule: RowRule | None = None) -> ReferenceKind:
    return ReferenceKind(BatchValidator(schema), RowMapping(model.__table__, refs, rule=rule))


def _tour_checkpoints_at_site(_row: Row, resolved: Resolved) -> list[FieldError]:
    site_id = resolved["site"].id
    return [FieldError(f"checkpoints.{i}", "the checkpoint belongs to another site than the tour")
            for i, checkpoint in enumerate(resolved["checkpoints"]) if checkpoint.site_id != site_id]


_SITE = RefField(RefTable.SITE, "site_id")
# URL name (PUT /api/v1/<name>) -> kind.
REFERENCE_KINDS: dict[str, ReferenceKind] = {
    "clients": _kind(ClientIn, Client, {}),
    "sites": _kind(SiteIn, Site, {"client": RefField(RefTable.CLIENT, "client_id")}),
    "checkpoints": _kind(CheckpointIn, Checkpoint, {"site": _SITE}),
    "persons": _kind(PersonIn, Person, {"home_site": RefField(RefTable.SITE, "home_site_id")}),
    "shifts": _kind(ShiftIn, Shift, {"site": _SITE, "person": RefField(RefTable.PERSON, "person_id")}),
    "tours": _kind(TourIn, Tour, {"site": _SITE,
                                  "checkpoints": RefField(RefTable.CHECKPOINT, "checkpoint_ids", many=True)},
                   rule=_tour_checkpoints_at_site),
}


def upsert_reference(session: Session, tenant_id: int, kind: str, raw_items: list[Any]) -> BatchResult:
    """Create or replace the tenant's rows of ``kind`` (a key of REFERENCE_KINDS) by code,
    inside the caller's transaction. Items referencing unknown codes are rejected."""
    spec = REFERENCE_KINDS[kind]
    outcome = BatchOutcome(raw_items, id_key="code")
    valid = spec.validator.validate(raw_items, outcome)
    rows = build_rows(session, tenant_id, valid, lambda _item: spec.mapping, key="code",
                      common={"tenant_id": tenant_id}, outcome=outcome).get(spec.mapping.table, [])
    ids = upsert_by_code(session, spec.mapping.table, [row for _, row in rows])
    return BatchResult(outcome.items, stored_ids={spec.mapping.table.name: [ids[row["code"]] for _, row in rows]}
                       if rows else {})
