"""The one description of a broadcast event (README "Event envelope"): a title and a one-line
summary, read from the envelope's ``data``. The wall's live feed and the events page both show
it, so an event reads the same wherever it appears.

It works on whatever of ``data`` the reader may see: give it the envelope ``for_audience``
(``backend.live.envelopes``) returns, the live channel's redaction, and for viewers the names,
scores, reasons and fraud ticket titles are simply absent from the text."""
from __future__ import annotations

from typing import Any

from backend.enums import EventType

TEXT_MAX = 240      # a title or summary longer than this is cut (data is free text from many writers)


def _words(value: Any) -> str:
    return str(value).replace("_", " ") if value not in (None, "") else ""


def _text(data: dict[str, Any], *keys: str) -> str:
    return next((str(data[k]) for k in keys if isinstance(data.get(k), str) and data[k].strip()), "")


def _joined(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _anomaly(data: dict[str, Any]) -> tuple[str, str]:
    kinds = data.get("types") or data.get("kinds") or []
    score = f"score {data['score']:.2f}" if isinstance(data.get("score"), (int, float)) else ""
    reasons = "; ".join(str(r) for r in data.get("reasons") or () if r)
    return "Fraud anomaly", _joined(", ".join(_words(k) for k in kinds if isinstance(k, str)) or "unusual punch",
                                    _words(data.get("punch")).replace("check ", "check-"), score,
                                    _text(data, "person_name"), reasons)


def _ticket(type_: EventType, data: dict[str, Any]) -> tuple[str, str]:
    # A viewer gets no title of a fraud ticket (it names the guard): its source and kind instead.
    kind = _words(data.get("type"))
    what = _text(data, "title") or f"{_words(data.get('source')).capitalize() or 'A'} ticket" + (f": {kind}" if kind else "")
    number = f" #{data['ticket_id']}" if isinstance(data.get("ticket_id"), int) else ""
    if type_ is EventType.TICKET_CREATED:
        priority = _words(data.get("priority")).upper()
        return f"New {priority} ticket{number}" if priority else f"New ticket{number}", what
    occurrences = (f"{data['occurrences']} occurrences"
                   if data.get("change") == "occurrence" and isinstance(data.get("occurrences"), int) else "")
    return (f"Ticket{number} {_words(data.get('change')) or 'updated'}",
            _joined(what, f"now {_words(data.get('state'))}" if data.get("state") else "", occurrences))


def _describe(type_: EventType, data: dict[str, Any]) -> tuple[str, str]:
    if type_ is EventType.ANOMALY_DETECTED:
        return _anomaly(data)
    if type_ in (EventType.TICKET_CREATED, EventType.TICKET_UPDATED):
        return _ticket(type_, data)
    if type_ is EventType.FINDING_CREATED:
        return _text(data, "label") or "Audit finding", _text(data, "title") or _words(data.get("kind"))
    if type_ is EventType.INCIDENT_CORRELATED:
        return "Correlated incident", _text(data, "title")
    if type_ is EventType.ALERT_RECEIVED:
        return f"{_words(data.get('kind')).capitalize() or 'NOC'} alert", _text(data, "message")
    if type_ is EventType.MODEL_TRAINED:
        return "Model trained", _joined(f"version {data.get('version', '?')}", _words(data.get("status")))
    if type_ is EventType.MODEL_ACTIVATED:
        return "Model activated", _joined(f"version {data.get('version', '?')}", _text(data, "by"))
    if type_ is EventType.MODEL_TRAINING:
        return "Model training", _joined(_words(data.get("stage")), _text(data, "message"))
    return "System", _text(data, "notice", "message", "title") or _words(data.get("component"))


def describe(type_: EventType, data: Any) -> tuple[str, str]:
    """(title, one-line summary) of an event, e.g. ("Ticket #7 acknowledged", "No-show at gate ·
    now acknowledged"); any ``data`` that is not an object reads as empty."""
    title, summary = _describe(type_, data if isinstance(data, dict) else {})
    return title[:TEXT_MAX], summary[:TEXT_MAX]
