"""A live hub whose listener or maintenance thread died (a SystemExit raised into it, as
dash.testing's server shutdown does to every thread of the app) restarts it when the next socket
connects, and asks for a log sweep so the events published meanwhile still reach sockets."""
from __future__ import annotations

import ctypes
import threading

import pytest
from dash.testing.wait import until
from flask import Flask

from backend.live.hub import LiveHub


def _raise_system_exit_in(thread: threading.Thread) -> None:
    assert thread.ident is not None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(SystemExit))


def test_a_dead_listener_is_restarted_with_a_sweep(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    hub: LiveHub = app.extensions["noc_live"]
    hub.ensure_started()
    listener = next(t for t in hub._threads if t.name == "noc-live-listener")
    _raise_system_exit_in(listener)
    until(lambda: not listener.is_alive(), timeout=10, msg="the listener should have died")

    sweeps: list[bool] = []
    monkeypatch.setattr(hub, "request_sweep", lambda: sweeps.append(True))
    hub.ensure_started()                       # what the next socket's handshake does

    revived = next(t for t in hub._threads if t.name == "noc-live-listener")
    assert revived is not listener and revived.is_alive()
    assert all(t.is_alive() for t in hub._threads)
    assert sweeps == [True], "a sweep fills what the dead listener missed"
