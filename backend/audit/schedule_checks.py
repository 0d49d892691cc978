"""Findings from the roster: did the rostered guard come, on time, and close the shift?
Plus the presence (``presence``) and guard-tour (``tour_checks``) checks, all judged per
shift or per round at a fixed deadline, so a check gives the same answer whenever it runs.

| finding            | rule (deadline)                                               | severity                  |
|--------------------|---------------------------------------------------------------|---------------------------|
| uncovered_post     | a shift with nobody rostered has started (start)              | high                      |
| no_show            | no check-in from 2 h before to ``no_show`` after the start    | high                      |
| late_clock_in      | clock-in more than ``late`` after the start (clock-in)        | low; medium from 30 min   |
| early_clock_out    | clock-out more than ``early_out`` before the end (clock-out)  | low; medium from 60 min   |
| shift_not_closed   | clocked in, no check-out by end + ``close_grace``              | low                       |

Dedup key: ``<type>:shift:<shift id>``: one finding of a kind per shift."""
from __future__ import annotations

import numpy as np

from backend.audit.duties import Duties
from backend.audit.findings import FindingDraft
from backend.audit.names import Names
from backend.audit.rules import MINUTE, AuditRules
from backend.audit.types import FindingType
from backend.audit.window import AuditWindow, iso
from backend.enums import Severity


def shift_findings(duties: Duties, window: AuditWindow, rules: AuditRules, names: Names) -> list[FindingDraft]:
    drafts: list[FindingDraft] = []
    d = duties
    rostered = d.person_id >= 0
    no_in = np.isnan(d.clock_in)

    def shift_draft(i: int, kind: FindingType, severity: Severity, start: float, end: float, summary: str,
                    **evidence: object) -> FindingDraft:
        site, person = int(d.site_id[i]), int(d.person_id[i])
        return FindingDraft(
            type=kind, severity=severity, site_id=site, person_id=person if person >= 0 else None, start=start,
            end=end, key=f"{kind.value}:shift:{int(d.shift_id[i])}", summary=summary,
            evidence={"shift_id": int(d.shift_id[i]), "shift_start": iso(float(d.start[i])),
                      "shift_end": iso(float(d.end[i])), **evidence})

    def when(i: int) -> str:
        return f"shift {names.local(int(d.site_id[i]), float(d.start[i]))} at {names.site(int(d.site_id[i]))}"

    for i in np.flatnonzero(~rostered & window.due(d.start)).tolist():
        drafts.append(shift_draft(i, FindingType.UNCOVERED_POST, Severity.HIGH, d.start[i], d.end[i],
                                  f"Uncovered post: nobody is rostered on the {when(i)}"))
    # Judged on the clock-ins before the deadline only: a guard turning up later still was a
    # no-show at the deadline (and is also late), whenever the check runs.
    absent = no_in | (d.clock_in > d.start + rules.no_show_s)
    for i in np.flatnonzero(rostered & absent & window.due(d.start + rules.no_show_s)).tolist():
        drafts.append(shift_draft(
            i, FindingType.NO_SHOW, Severity.HIGH, d.start[i], d.start[i] + rules.no_show_s,
            f"No-show: {names.person(int(d.person_id[i]))} had not clocked in {rules.no_show_s / MINUTE:.0f} min into the {when(i)}",
            waited_minutes=round(rules.no_show_s / MINUTE)))
    late = d.clock_in - d.start
    for i in np.flatnonzero(~no_in & (late > rules.late_s) & window.due(d.clock_in)).tolist():
        minutes = float(late[i]) / MINUTE
        drafts.append(shift_draft(
            i, FindingType.LATE_CLOCK_IN, Severity.MEDIUM if minutes >= 30 else Severity.LOW, d.start[i], d.clock_in[i],
            f"Late clock-in: {names.person(int(d.person_id[i]))} clocked in {minutes:.0f} min late for the {when(i)}",
            minutes_late=round(minutes, 1), clock_in=iso(float(d.clock_in[i]))))
    early = d.end - d.clock_out
    for i in np.flatnonzero(~np.isnan(d.clock_out) & (early > rules.early_out_s) & window.due(d.clock_out)).tolist():
        minutes = float(early[i]) / MINUTE
        drafts.append(shift_draft(
            i, FindingType.EARLY_CLOCK_OUT, Severity.MEDIUM if minutes >= 60 else Severity.LOW, d.clock_out[i], d.end[i],
            f"Early clock-out: {names.person(int(d.person_id[i]))} left {minutes:.0f} min before the end of the {when(i)}",
            minutes_early=round(minutes, 1), clock_out=iso(float(d.clock_out[i]))))
    open_ = ~no_in & np.isnan(d.clock_out)
    for i in np.flatnonzero(open_ & window.due(d.end + rules.close_grace_s)).tolist():
        drafts.append(shift_draft(
            i, FindingType.SHIFT_NOT_CLOSED, Severity.LOW, d.end[i], d.end[i] + rules.close_grace_s,
            f"Shift never closed: {names.person(int(d.person_id[i]))} did not clock out of the {when(i)}",
            clock_in=iso(float(d.clock_in[i]))))
    return drafts
