"""Tour compliance: how many of each tour's rounds due in a window were done as the audit
demands. The audit's tour checks (``backend.audit.tour_checks``) are the one definition: the
rounds due are theirs (``due_rounds``) and a round counts as compliant when those checks find
nothing wrong with it (not missed, not late, complete, no stuffing, no scan far from its tag).

Judged now, from the scans (not from stored findings): the seeded history and any window the
audit cron has not covered are judged the same way. Like an audit cycle, a round is judged only
once its slot ended a lateness ago (late uploads), so a round in progress never counts as
missed. Cost: the reference data (3 small queries) and the tenant's scans of the window (one
indexed range read); rounds are judged in numpy."""
from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from backend.audit.names import Names
from backend.audit.reference import load_reference
from backend.audit.rules import AuditRules
from backend.audit.tour_checks import due_rounds, tour_findings
from backend.audit.types import FindingType
from backend.audit.window import AuditWindow
from backend.queries.site_schemas import TourCompliance

COMPLIANCE_WINDOW = timedelta(hours=24)

# Which finding of a round's checks it was, for the tour's summary line.
_MISSED = FindingType.MISSED_TOUR_ROUND.value
_LATE = FindingType.LATE_TOUR_ROUND.value
_INCOMPLETE = FindingType.INCOMPLETE_TOUR_ROUND.value


def _judging_window(now: datetime, rules: AuditRules, window: timedelta) -> AuditWindow:
    as_of = now.timestamp() - rules.lateness_s
    return AuditWindow(window_end=now.timestamp(), as_of=as_of, since=as_of - window.total_seconds(),
                       signal_start=as_of)


def tour_compliance(session: Session, tenant_id: int, rules: AuditRules, now: datetime, *,
                    site_ids: Collection[int] | None = None, window: timedelta = COMPLIANCE_WINDOW
                    ) -> list[TourCompliance]:
    """Every tour of the tenant's active sites (of ``site_ids`` when given), with its rounds
    judged in the ``window`` before now (less the audit's lateness), ordered by site and tour."""
    reference = load_reference(session, tenant_id)
    if site_ids is not None:
        wanted = set(site_ids)
        reference = replace(reference, tours=tuple(t for t in reference.tours if t.site_id in wanted))
    judging = _judging_window(now, rules, window)
    due = Counter(r.tour.id for r in due_rounds(reference, judging))
    flawed: dict[int, set[float]] = {}
    kinds: dict[int, Counter[str]] = {}
    for draft in tour_findings(session, tenant_id, reference, judging, rules, Names(reference)):
        tour_id = int(draft.evidence["tour_id"])
        flawed.setdefault(tour_id, set()).add(datetime.fromisoformat(str(draft.evidence["scheduled"])).timestamp())
        kinds.setdefault(tour_id, Counter())[draft.type.value] += 1
    out = []
    for tour in sorted(reference.tours, key=lambda t: (t.site_id, t.name, t.id)):
        counted = kinds.get(tour.id, Counter())
        n_due = due.get(tour.id, 0)
        n_flawed = len(flawed.get(tour.id, ()))
        out.append(TourCompliance(
            tour_id=tour.id, site_id=tour.site_id, name=tour.name, checkpoints=len(tour.checkpoint_ids),
            interval_minutes=tour.interval_minutes, active_from=tour.active_from, active_to=tour.active_to,
            due=n_due, compliant=n_due - n_flawed, missed=counted[_MISSED], late=counted[_LATE],
            incomplete=counted[_INCOMPLETE],
            suspicious=sum(n for kind, n in counted.items() if kind not in (_MISSED, _LATE, _INCOMPLETE))))
    return out


def site_compliance(tours: Collection[TourCompliance]) -> float | None:
    """A site's compliance: compliant rounds / rounds due over all its tours (None: none due)."""
    due = sum(t.due for t in tours)
    return sum(t.compliant for t in tours) / due if due else None
