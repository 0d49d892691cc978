"""Driving the web app in tests the way a browser does: the CSRF-protected login form and
Dash's callback endpoint, with payloads built from the app's own callback map."""
from __future__ import annotations

import re
from typing import Any

import dash
from dash._utils import split_callback_id
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
HTML = {"Accept": "text/html,application/xhtml+xml"}


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/login")
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, "the login form carries a CSRF token"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD, next_: str | None = None) -> TestResponse:
    url = "/login" + (f"?next={next_}" if next_ is not None else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def logged_in_client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = login(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def dash_app(app: Flask) -> dash.Dash:
    return app.extensions["noc_dash"]


def callback_payload(app: Flask, output_id: str, values: dict[str, Any],
                     changed: str | None = None, input_id: str | None = None) -> dict[str, Any]:
    """The exact body the Dash renderer POSTs to /_dash-update-component for the callback that
    writes ``output_id`` (and, when several do, reads ``input_id``); ``values`` maps
    "component-id.property" of its inputs/states to values."""
    callbacks = dash_app(app).callback_map
    key = next(k for k in callbacks if any(o["id"] == output_id for o in _outputs(k))
               and (input_id is None or any(i["id"] == input_id for i in callbacks[k]["inputs"])))
    spec = callbacks[key]

    def with_values(deps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**dep, "value": values.get(f"{dep['id']}.{dep['property']}")} for dep in deps]

    inputs = with_values(spec["inputs"])
    return {"output": key, "outputs": split_callback_id(key), "inputs": inputs,
            "state": with_values(spec["state"]),
            "changedPropIds": [changed or f"{inputs[0]['id']}.{inputs[0]['property']}"]}


def _outputs(key: str) -> list[dict[str, str]]:
    outputs = split_callback_id(key)  # a dict for a single-output callback, else a list
    return outputs if isinstance(outputs, list) else [outputs]


def call_dash(client: FlaskClient, payload: dict[str, Any], **headers: str) -> TestResponse:
    return client.post("/_dash-update-component", json=payload, headers=headers)


def render_page(app: Flask, client: FlaskClient, pathname: str) -> TestResponse:
    """What Dash's page router returns for ``pathname``: the page's layout, as JSON."""
    client.get("/_dash-layout")  # Dash registers its page router on the first request
    payload = callback_payload(app, "_pages_content", {"_pages_location.pathname": pathname,
                                                      "_pages_location.search": ""})
    return call_dash(client, payload)
