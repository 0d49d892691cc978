"""The live channel: ``/ws`` pushes every event of the user's tenant (and site scope) as it is
published, across any number of web processes, resumable by cursor (README "Live channel").

    event log + Redis stream --> one listener per process --> hub (filter, encode once)
        --> per-socket bounded outbox --> the socket's thread --> browser

``init_live(server)`` wires it into the Flask app; nothing starts until the first socket."""
from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_login import user_logged_out
from flask_sock import Sock
from simple_websocket import Server

from backend.auth.principal import Principal
from backend.live.control import close_principal_sockets
from backend.live.endpoint import serve_socket
from backend.live.handshake import check_handshake
from backend.live.hub import LiveHub
from backend.live.metrics import live_metrics
from backend.live.protocol import LAST_ID_PARAM, WS_PATH, parse_last_id
from backend.web_context import current_principal

__all__ = ["init_live", "live_metrics", "close_principal_sockets", "LiveHub"]

# Clients never need to send more than a few bytes; a larger message closes the socket.
MAX_CLIENT_MESSAGE_BYTES = 4096


def init_live(server: Flask) -> LiveHub:
    """Register ``/ws`` and its handshake checks. Call after ``init_auth`` (its guard must run
    first: anonymous handshakes get 401 before anything here)."""
    hub = LiveHub(server)
    server.extensions["noc_live"] = hub
    server.config.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": MAX_CLIENT_MESSAGE_BYTES})
    sock = Sock(server)

    @sock.route(WS_PATH, endpoint="live_socket")
    def live_socket(ws: Server) -> None:
        serve_socket(ws, hub, current_principal(), parse_last_id(request.args.get(LAST_ID_PARAM)))

    server.before_request(check_handshake)
    user_logged_out.connect(_close_sockets_on_logout, server)
    return hub


def _close_sockets_on_logout(sender: Flask, user: Any = None, **_extra: Any) -> None:
    """A user who signs out in one tab loses the sockets of every tab and process at once (they
    reconnect, and the handshake now says 401). Their other browsers' sockets reconnect too,
    fine. A wall display signing out leaves the other screens on the same token alone."""
    if isinstance(user, Principal) and user.user_id is not None:
        close_principal_sockets(sender.extensions["noc_runtime"].redis, user.get_id(), "signed out")
