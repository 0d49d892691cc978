"""``PUT /api/v1/<kind>``: upsert reference data by code (clients, sites, checkpoints, persons,
shifts, tours); see backend.ingest.reference."""
from __future__ import annotations

from flask import Response, current_app, g

from backend.api import api_blueprint
from backend.api.errors import batch_response, read_json_array
from backend.auth.web import runtime_of
from backend.ingest.reference import REFERENCE_KINDS, upsert_reference


@api_blueprint.put(f"/<any({', '.join(REFERENCE_KINDS)}):kind>")
def put_reference(kind: str) -> Response:
    runtime = runtime_of(current_app)
    items = read_json_array(runtime.settings.ingest_max_batch)
    with runtime.transaction() as session:
        result = upsert_reference(session, g.api_tenant_id, kind, items)
    return batch_response(result)
