"""Site activity against its baselines, once per cycle: each site's signals over the last
``signal_window`` are judged by the profiles of their hour of week, then observed by them
(learned, unless the window is flagged).

| finding                 | rule                                                      | severity                  |
|-------------------------|-----------------------------------------------------------|---------------------------|
| activity_below_baseline | a metric's robust z <= -threshold on a profile with >= 30 | medium; high when two or  |
|                         | samples (see ``baselines``)                               | more metrics are below    |

Dedup key ``activity_below_baseline:site:<site>:<UTC hour>``: a site found quiet keeps one
finding per hour while it stays quiet. A profile judges and learns each window once: one it
has seen already (``state["last"]`` at or past the window) is left alone, so a re-run of a
window creates and learns nothing."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from backend.audit.baseline_store import ProfileKey, load_profiles
from backend.audit.baselines import Profile, spread
from backend.audit.findings import FindingDraft
from backend.audit.names import Names
from backend.audit.reference import Reference
from backend.audit.rules import AuditRules
from backend.audit.signals import METRICS, Metric, count_signals
from backend.audit.types import FindingType
from backend.audit.window import AuditWindow, hour_of_week
from backend.enums import Severity

Change = tuple[Profile, Profile]   # (as read, after observing the cycle's sample)


@dataclass(frozen=True)
class ActivityOutcome:
    findings: list[FindingDraft]
    changes: list[Change]
    values: dict[int, dict[Metric, float]]   # site -> metric -> value in the window


def assess_activity(session: Session, tenant_id: int, reference: Reference, window: AuditWindow, rules: AuditRules,
                    flagged_sites: set[int], names: Names) -> ActivityOutcome:
    values = count_signals(session, tenant_id, window.signal_start, window.as_of).table()
    hours = {site.id: hour_of_week(window.signal_mid, site.timezone) for site in reference.sites.values()}
    profiles = load_profiles(session, tenant_id, hours)
    findings: list[FindingDraft] = []
    changes: list[Change] = []
    for site in reference.sites.values():
        site_values = values.get(site.id, dict.fromkeys(METRICS, 0.0))
        unseen = [_profile(profiles, (site.id, m, hours[site.id])) for m in METRICS]
        unseen = [p for p in unseen if p.last < window.as_of]
        below = {}
        for p in unseen:
            assessment = p.assess(site_values[p.metric], rules.baseline)
            if assessment.anomalous:
                below[p.metric] = {
                    "value": assessment.value, "centre": round(p.center, 2),
                    "spread": round(spread(p.center, p.scale), 2), "z": round(assessment.z, 2),
                    "threshold": round(assessment.threshold, 2), "samples": p.sample_count,
                    "false_positive_rate": round(p.false_positive_rate, 3), "profile_id": p.id,
                    "hour_of_week": p.hour_of_week}
        if below:
            findings.append(_finding(site.id, below, site_values, window, names))
        learn = not below and site.id not in flagged_sites
        changes += [(p, p.observe(site_values[p.metric], window.as_of, learn, rules.baseline)) for p in unseen]
    return ActivityOutcome(findings, changes, values)


def _profile(profiles: dict[ProfileKey, Profile], key: ProfileKey) -> Profile:
    return profiles.get(key) or Profile(site_id=key[0], metric=key[1], hour_of_week=key[2])


def _finding(site_id: int, below: dict[Metric, dict[str, object]], site_values: dict[Metric, float],
             window: AuditWindow, names: Names) -> FindingDraft:
    described = ", ".join(f"{m.value.replace('_', ' ')} {d['value']:g} (usually ~{d['centre']:g})"
                          for m, d in below.items())
    return FindingDraft(
        type=FindingType.ACTIVITY_BELOW_BASELINE, severity=Severity.HIGH if len(below) >= 2 else Severity.MEDIUM,
        site_id=site_id, person_id=None, start=window.signal_start, end=window.as_of,
        key=f"{FindingType.ACTIVITY_BELOW_BASELINE.value}:site:{site_id}:{int(window.as_of // 3600)}",
        summary=f"Activity below baseline at {names.site(site_id)} in the last hour: {described}",
        evidence={"metrics": {m.value: d for m, d in below.items()},
                  "signals": {m.value: v for m, v in site_values.items()}})
