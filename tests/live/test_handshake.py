"""The /ws handshake through gunicorn: refused before the upgrade when anonymous (401), from a
foreign page (403) or with a bad cursor (400); accepted with a session cookie or a wallboard
token, without compression; then ``ready`` and, when idle, heartbeats."""
from __future__ import annotations

from collections.abc import Callable

from backend.enums import Role
from tests.factories import World
from tests.live.client import LiveClient, handshake_status
from tests.live.server import WebServer, free_port


def test_refused_handshakes_fail_before_the_upgrade(live_server: WebServer, world: World,
                                                    login: Callable[[str], str]) -> None:
    url = live_server.ws_url
    assert handshake_status(url) == 401
    assert handshake_status(url, suppress_origin=True) == 401
    assert handshake_status(f"{url}?wallboard_token=wall_not-a-token") == 401
    cookie = login(world.users[Role.OPERATOR])
    for foreign in ("http://evil.example", f"http://127.0.0.1:{free_port()}", "null"):
        assert handshake_status(url, cookie=cookie, origin=foreign) == 403, foreign
    assert handshake_status(f"{url}?last_id=-5", cookie=cookie) == 400
    # Same origin (websocket-client sends the server's own) and no Origin (non-browser clients) pass.
    assert handshake_status(url, cookie=cookie) == 101
    assert handshake_status(url, cookie=cookie, suppress_origin=True) == 101


def test_an_accepted_socket_is_ready_uncompressed_and_beats_when_idle(
        connect: Callable[..., LiveClient], world: World, login: Callable[[str], str]) -> None:
    client = connect(login(world.users[Role.OPERATOR]),
                     header=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"])
    assert "sec-websocket-extensions" not in {k.lower() for k in client.ws.getheaders()}  # offer declined
    assert client.ready is not None
    assert client.ready["resumed"] is False and client.ready["replayed"] == 0
    assert isinstance(client.ready["cursor"], int) and client.ready["heartbeat_s"] == 2
    client.wait_for(lambda c: c.messages[-1]["type"] == "heartbeat", timeout=5)
    assert client.messages[-1]["cursor"] >= client.ready["cursor"]


def test_a_wallboard_token_opens_a_socket_without_a_session(connect: Callable[..., LiveClient],
                                                            world: World) -> None:
    client = connect(query=f"wallboard_token={world.wallboard_token}")
    assert client.ready is not None and client.ready["resumed"] is False
