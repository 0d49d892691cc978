"""File downloads for signed-in users (session cookie, not API tokens): a person's evidence CSV.

The auth guard (backend.auth.web) already refuses anonymous requests; the read service checks
the role, tenant and site scope."""
from __future__ import annotations

from flask import Blueprint, Response, abort

from backend.queries.access import NotAllowed
from backend.queries.evidence import person_evidence_csv
from backend.web_context import current_runtime, read_as_current_user

exports_blueprint = Blueprint("exports", __name__, url_prefix="/exports")


def evidence_url(person_id: int) -> str:
    """Where a person's evidence CSV is downloaded (the person page links here)."""
    return f"{exports_blueprint.url_prefix}/persons/{person_id}/evidence.csv"


@exports_blueprint.get("/persons/<int:person_id>/evidence.csv")
def person_evidence(person_id: int) -> Response:
    threshold = current_runtime().settings.scoring_anomaly_threshold
    try:
        evidence = read_as_current_user(person_evidence_csv, person_id, threshold=threshold)
    except NotAllowed as exc:
        abort(403, description=str(exc))
    if evidence is None:
        abort(404, description="no such person")
    return Response(evidence.content, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{evidence.filename}"',
        "Cache-Control": "no-store"})
