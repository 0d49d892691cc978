"""``POST /api/v1/events``: a batch of device/integration events (see backend.ingest)."""
from __future__ import annotations

from flask import Response, current_app, g

from backend.api import api_blueprint
from backend.api.errors import batch_response, read_json_array
from backend.auth.web import runtime_of
from backend.ingest.service import ingest_events


@api_blueprint.post("/events")
def post_events() -> Response:
    runtime = runtime_of(current_app)
    items = read_json_array(runtime.settings.ingest_max_batch)
    return batch_response(ingest_events(runtime, g.api_tenant_id, items))
