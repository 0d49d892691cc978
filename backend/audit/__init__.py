"""Site audits: what should be happening on every site and isn't (README "Site audits").

- ``signals``: activity counts per site/person per window (set-based, all sites at once);
- ``duties`` + ``schedule_checks``, ``presence``, ``tour_checks``: findings from the roster,
  the phones and the guard tours;
- ``baselines`` (+ ``baseline_store``, ``activity``, ``tuning``): self-tuning per-site
  baselines by hour of week, and the activity findings they make;
- ``correlate``: findings and silences + NOC alerts -> incidents; ``escalate``: tickets;
- ``service.run_audit``: one cycle of one tenant; ``queries``: reads for the UI."""
from backend.audit.rules import AuditRules
from backend.audit.service import AuditResult, run_audit

__all__ = ["AuditResult", "AuditRules", "run_audit"]
