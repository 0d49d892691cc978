"""Checks on the ``/ws`` handshake that run before the upgrade, after the auth guard (which has
already answered 401 to anonymous handshakes): a browser Origin other than this host gets 403
(cross-site WebSocket hijacking), a malformed ``last_id`` 400, and the compression offer is
dropped (permessage-deflate costs ~3x the CPU per frame; STACK.md)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, jsonify, request

from backend.live.protocol import LAST_ID_PARAM, WS_PATH, parse_last_id

_DEFAULT_PORTS = {"http": 80, "https": 443}


def check_handshake() -> Response | None:
    if request.path != WS_PATH:
        return None
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return _refuse(400, "a WebSocket upgrade is required")
    origin = request.headers.get("Origin")
    # Browsers always send Origin on a WebSocket handshake; other clients (kiosk agents,
    # scripts) may not, and carry no ambient cookies a foreign page could abuse.
    if origin is not None and not same_origin(origin, request.host):
        return _refuse(403, f"origin {origin!r} may not open this socket")
    try:
        parse_last_id(request.args.get(LAST_ID_PARAM))
    except ValueError as exc:
        return _refuse(400, str(exc), field=LAST_ID_PARAM)
    # simple-websocket accepts any permessage-deflate offer; without the offer it cannot.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    return None


def same_origin(origin: str, host: str) -> bool:
    """Does the page's Origin (scheme://host[:port]) name the Host this request came to?
    Behind a proxy, the proxy must pass the original Host header through."""
    try:
        page, target = urlsplit(origin), urlsplit(f"//{host}")
        page_port, target_port = page.port, target.port
    except ValueError:
        return False
    if page.scheme not in _DEFAULT_PORTS or not page.hostname or not target.hostname:
        return False
    if page.hostname.lower() != target.hostname.lower():
        return False
    page_port = page_port or _DEFAULT_PORTS[page.scheme]
    return page_port == target_port if target_port is not None else page_port == _DEFAULT_PORTS[page.scheme]


def _refuse(status: int, detail: str, field: str | None = None) -> Response:
    body = {"error": "forbidden" if status == 403 else "bad_request", "detail": detail}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    return response
