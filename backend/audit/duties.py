"""Duties: the roster's shifts around an audit window, each with the clock-in and clock-out
of its guard (if any), as numpy columns (epoch seconds; NaN = none).

Two queries: the shifts that can have a deadline in the window, and the tenant's check-ins
and check-outs from the earliest of them on. A shift's clock-in is its guard's first check-in
from ``CHECK_IN_EARLY_S`` before its start until its end; its clock-out the guard's first
check-out after that clock-in, up to the end plus the close grace."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from backend.audit.rules import HOUR, AuditRules
from backend.audit.sql import fetch_arrays, i8, t8
from backend.audit.window import AuditWindow, at
from backend.enums import AttendanceKind
from backend.models import AttendanceEvent, Shift

CHECK_IN_EARLY_S = 2 * HOUR     # a check-in this long before the start still opens the shift
MAX_SHIFT_S = 24 * HOUR         # longest shift considered (bounds the index range scan)
_SPAN = 4e9                     # > any epoch second until 2096; dense person numbers x this stay exact


@dataclass(frozen=True)
class Duties:
    shift_id: np.ndarray
    site_id: np.ndarray
    person_id: np.ndarray    # -1: nobody rostered
    start: np.ndarray
    end: np.ndarray
    clock_in: np.ndarray     # NaN: none (yet)
    clock_out: np.ndarray    # NaN: none (yet)

    def __len__(self) -> int:
        return len(self.shift_id)

    def on_duty_until(self, as_of: float, close_grace_s: float) -> np.ndarray:
        """When each duty stops counting as on duty: the clock-out, else the shift's end (a
        guard who forgot to clock out is no longer expected to report after it)."""
        until = np.where(np.isnan(self.clock_out), self.end, self.clock_out)
        return np.minimum(until, as_of)


def load_duties(session: Session, tenant_id: int, window: AuditWindow, rules: AuditRules) -> Duties:
    """Shifts that started by ``as_of`` and whose end (plus the close grace) is after the
    window's ``since`` minus the at-work delay: every deadline a check may judge lies in there."""
    lower = window.since - rules.close_grace_s - rules.at_work_after_s
    s = Shift
    shift_id, site_id, person_id, start, end = fetch_arrays(session, sa.select(
        i8(s.id), i8(s.site_id), i8(sa.func.coalesce(s.person_id, -1)), t8(s.starts_at), t8(s.ends_at),
    ).where(s.tenant_id == tenant_id, s.starts_at <= at(window.as_of),
            s.starts_at > at(lower - MAX_SHIFT_S), s.ends_at > at(lower)).order_by(s.id),
        ["i8", "i8", "i8", "t8", "t8"])
    clock_in = np.full(len(shift_id), np.nan)
    clock_out = np.full(len(shift_id), np.nan)
    if len(shift_id):
        _match_attendance(session, tenant_id, window, rules, person_id, start, end, clock_in, clock_out)
    return Duties(shift_id, site_id, person_id, start, end, clock_in, clock_out)


def _match_attendance(session: Session, tenant_id: int, window: AuditWindow, rules: AuditRules,
                      person_id: np.ndarray, start: np.ndarray, end: np.ndarray,
                      clock_in: np.ndarray, clock_out: np.ndarray) -> None:
    a = AttendanceEvent
    person, ts, is_out = fetch_arrays(session, sa.select(
        i8(a.person_id), t8(a.ts), i8(sa.case((a.kind == AttendanceKind.CHECK_OUT.value, 1), else_=0)),
    ).where(a.tenant_id == tenant_id, a.ts >= at(float(start.min()) - CHECK_IN_EARLY_S),
            a.ts <= at(window.as_of)), ["i8", "t8", "i8"])
    # Dense person numbers, so that (person, time) packs into one sortable float exactly.
    _, codes = np.unique(np.concatenate([person, person_id]), return_inverse=True)
    person, duty_person = codes[:len(person)], codes[len(person):]
    order = np.lexsort((ts, person))
    person, ts, is_out = person[order], ts[order], is_out[order].astype(bool)
    for kind_out, target in ((False, clock_in), (True, clock_out)):
        sel = is_out == kind_out
        p, t = person[sel], ts[sel]
        if kind_out:
            lo_time = clock_in                      # after the clock-in ...
            hi_time = end + rules.close_grace_s     # ... until the end plus the grace
        else:
            lo_time = start - CHECK_IN_EARLY_S
            hi_time = end
        # The first punch at or after lo_time for the duty's person; kept if before hi_time.
        key = p * _SPAN + t                        # person-major, then time (epochs < _SPAN)
        wanted = duty_person * _SPAN + np.where(np.isnan(lo_time), 0.0, lo_time)
        pos = np.searchsorted(key, wanted, side="right" if kind_out else "left")
        found = pos < len(key)
        pos = np.clip(pos, 0, max(len(key) - 1, 0))
        ok = found & (len(key) > 0) & (person_id >= 0) & ~np.isnan(lo_time)
        if len(key):
            ok &= (p[pos] == duty_person) & (t[pos] < hi_time)
        target[ok] = t[pos[ok]]
