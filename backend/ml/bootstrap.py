"""First start of the embedded demo: train the initial model from the seeded labels, so the
product shows model scores from the first minute, and queue the seeded history for scoring
(the scoring worker works it off in chunks within seconds)."""
from __future__ import annotations

from backend.ml.service import ensure_initial_model
from backend.runtime import Runtime
from backend.scoring.sweep import enqueue_unscored


def prepare_fraud_scoring(runtime: Runtime, tenant_id: int) -> list[str]:
    """Returns lines for the launcher to print."""
    lines = []
    outcome = ensure_initial_model(runtime, tenant_id)
    if outcome is not None:
        lines.append(f"  fraud model {outcome.summary()}")
    queued = enqueue_unscored(runtime, older_than_s=0, tenant_id=tenant_id)
    if queued:
        lines.append(f"  {queued:,} check-ins queued for scoring")
    return lines
