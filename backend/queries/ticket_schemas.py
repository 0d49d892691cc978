"""What the tickets page reads and sends: the queue's filters (parsed from the URL and from
callback inputs, both browser input), queue rows, one ticket's detail, and the results of
supervisors' actions. Plain frozen values: components import these, so no SQLAlchemy here."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from backend.enums import (OPEN_TICKET_STATES, Disposition, Role, SlaState, TicketPriority, TicketSource,
                           TicketState)
from backend.queries.schemas import SiteOption, site_zone

# Query-string keys of a shared tickets view (/tickets?state=open&priority=p1&site=3&mine=1&ticket=42).
# "ticket" (the open detail) is added and read by assets/tickets.js and the page's layout.
STATE_PARAM, PRIORITY_PARAM, SITE_PARAM, MINE_PARAM, TICKET_PARAM = "state", "priority", "site", "mine", "ticket"
ALL_STATES = "all"  # state=all: every state (no state parameter: the open ones, the default view)
DEFAULT_STATES: tuple[TicketState, ...] = tuple(s for s in TicketState if s in OPEN_TICKET_STATES)


def _values(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return list(raw) if isinstance(raw, list | tuple) else [raw]


def _known(enum: type[TicketState] | type[TicketPriority], raw: Any) -> tuple[Any, ...]:
    """The known members named in ``raw``, in the enum's order; anything else is ignored."""
    names = {v for v in _values(raw) if isinstance(v, str)}
    return tuple(member for member in enum if member.value in names)


def parse_id(raw: Any) -> int | None:
    """A positive id from browser input (an int, or digits in a query string), else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw > 0 else None
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 19:
        return int(raw) or None
    return None


@dataclass(frozen=True, slots=True)
class TicketFilters:
    """The queue's filters. ``states`` empty means every state; ``mine``: assigned to me."""
    states: tuple[TicketState, ...] = DEFAULT_STATES
    priorities: tuple[TicketPriority, ...] = ()
    site_id: int | None = None
    mine: bool = False

    @classmethod
    def from_inputs(cls, states: Any, priorities: Any, site: Any, mine: Any) -> TicketFilters:
        """From the filter controls' values (lists of enum values, a site id, a switch)."""
        return cls(states=_known(TicketState, states), priorities=_known(TicketPriority, priorities),
                   site_id=parse_id(site), mine=mine is True)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> TicketFilters:
        """From the page's query string (Dash hands each key as a string, or a list if repeated)."""
        raw_states = _values(query.get(STATE_PARAM))
        states = DEFAULT_STATES if not raw_states else (
            () if ALL_STATES in raw_states else _known(TicketState, raw_states) or DEFAULT_STATES)
        mine = _values(query.get(MINE_PARAM))
        return cls(states=states, priorities=_known(TicketPriority, query.get(PRIORITY_PARAM)),
                   site_id=parse_id(_values(query.get(SITE_PARAM))[0] if query.get(SITE_PARAM) else None),
                   mine=bool(mine) and mine[0] in ("1", "true", "yes"))

    def to_query(self) -> str:
        """The query string that reproduces this view ("" for the default view)."""
        pairs: list[tuple[str, str]] = []
        if self.states != DEFAULT_STATES:
            pairs += [(STATE_PARAM, s.value) for s in self.states] or [(STATE_PARAM, ALL_STATES)]
        pairs += [(PRIORITY_PARAM, p.value) for p in self.priorities]
        if self.site_id is not None:
            pairs.append((SITE_PARAM, str(self.site_id)))
        if self.mine:
            pairs.append((MINE_PARAM, "1"))
        return "?" + urlencode(pairs) if pairs else ""

    @property
    def narrowed(self) -> bool:
        """Anything beyond the default view (for the empty state's wording)."""
        return self != TicketFilters()


@dataclass(frozen=True, slots=True)
class UserOption:
    id: int
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One ticket as the queue shows it. ``redacted``: a viewer (wall display) looking at a
    fraud ticket: no person and a generic title, as on the live channel."""
    id: int
    version: int
    title: str
    source: TicketSource
    type: str
    priority: TicketPriority
    severity: str
    state: TicketState
    disposition: Disposition | None
    occurrences: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    sla_state: SlaState
    sla_target: str | None          # "acknowledge" / "resolve": what the SLA waits for
    sla_due_at: datetime | None
    site_id: int | None = None
    site_code: str | None = None
    site_name: str | None = None
    site_timezone: str | None = None
    person_code: str | None = None
    person_name: str | None = None
    assignee_id: int | None = None
    assignee_name: str | None = None
    redacted: bool = False

    def local(self, when: datetime) -> datetime:
        """A time of this ticket in its site's time zone (UTC without a site)."""
        return when.astimezone(site_zone(self.site_timezone))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TICKET_STATES


@dataclass(frozen=True, slots=True)
class TicketQueue:
    rows: tuple[TicketRow, ...]
    matched: int                    # tickets matching the filters (rows holds at most ``limit``)
    limit: int
    any_tickets: bool               # the principal sees any ticket at all (for the empty state)
    as_of: datetime                 # "now" of the query: ages and SLA states are relative to it
    filters: TicketFilters = field(default_factory=TicketFilters)
    can_act: bool = False           # the principal may act (checkboxes, action buttons)


@dataclass(frozen=True, slots=True)
class TicketRowsUpdate:
    """Live patches: each asked ticket's row if it (still) matches the filters, else None."""
    rows: Mapping[int, TicketRow | None]
    as_of: datetime
    can_act: bool = False


@dataclass(frozen=True, slots=True)
class TicketCommentView:
    id: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TicketHistoryEntry:
    id: int
    action: str                     # created, occurrence, acknowledged, assigned, commented, resolved, needs_info
    actor: str | None               # None: the system (scoring, audits)
    from_state: TicketState | None
    to_state: TicketState | None
    summary: str                    # one line: "disposition: false positive · note: …"
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TicketDetail:
    ticket: TicketRow
    comments: tuple[TicketCommentView, ...]
    history: tuple[TicketHistoryEntry, ...]   # oldest first
    assignable: tuple[UserOption, ...]        # empty unless the principal may act
    can_act: bool
    as_of: datetime
    my_user_id: int | None = None

    @property
    def changed_by(self) -> str:
        """Who made the latest change ("the system" for scoring/audits)."""
        return next((h.actor or "the system" for h in reversed(self.history)), "the system")


@dataclass(frozen=True, slots=True)
class TicketPageSetup:
    """What the page's first render needs besides the queue."""
    sites: tuple[SiteOption, ...]
    site_locked: bool               # a site-scoped user: the site filter is fixed
    can_act: bool


@dataclass(frozen=True, slots=True)
class BulkAcknowledgeResult:
    acknowledged: tuple[int, ...]
    conflicts: tuple[int, ...]      # changed by someone else since the page showed them
    not_open: tuple[int, ...]       # already acknowledged/in progress/resolved: nothing to do
    missing: tuple[int, ...]        # not found in the principal's tenant and sites

    @property
    def skipped(self) -> tuple[int, ...]:
        return self.conflicts + self.not_open + self.missing
