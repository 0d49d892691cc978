"""Opening tickets without duplicates (``open_or_add_occurrence``; ``open_or_add_occurrences``
for a batch), their SLA due times and default assignees. Used by fraud scoring, model
training alerts and site audits alike. Supervisors' actions on them (acknowledge, assign,
comment, resolve) are in ``actions``."""
from backend.tickets.opening import TicketOutcome, TicketSpec, open_or_add_occurrence, open_or_add_occurrences

__all__ = ["TicketOutcome", "TicketSpec", "open_or_add_occurrence", "open_or_add_occurrences"]
