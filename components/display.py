"""Wall screens, on every page: kiosk mode (``?kiosk=1``: no navigation, large type) and page
rotation (``?rotate=wall,fraud&every=30``), both run by assets/wall.js from the URL.

The shell carries the registered pages (``pages_store``), so the rotation list is checked
against the real paths in the browser (unknown names are ignored) on whatever page a screen
starts; the clientside callback re-arms the rotation and screen wake lock on every URL change."""
from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc

from backend.auth.principal import Principal
from components import ids
from components.registry import may_open


def page_names(registry: dict[str, dict[str, Any]], principal: Principal | None) -> dict[str, str]:
    """{name: path} of the pages the principal may open: each page by its module's name
    (``pages.wall`` -> ``wall``) and by its path's first segment, so ``rotate=feed`` and
    ``rotate=wall`` both work; pages whose path needs an argument are left out."""
    names: dict[str, str] = {}
    for page in registry.values():
        path = page["relative_path"]
        if page.get("path_template") or not may_open(page, principal):  # /sites/<id>: no screen to rotate to
            continue
        names[str(page["module"]).rsplit(".", 1)[-1]] = path
        if path.strip("/"):
            names.setdefault(path.strip("/").split("/", 1)[0], path)
    return names


def pages_store(registry: dict[str, dict[str, Any]], principal: Principal | None) -> dcc.Store:
    return dcc.Store(id=ids.PAGES, data=page_names(registry, principal))


# The output is there because every callback names one (tests/web.py); display() returns no_update.
clientside_callback(ClientsideFunction(namespace="nocWall", function_name="display"),
                    Output(ids.PAGES, "data"), Input(ids.URL, "search"), Input(ids.URL, "pathname"),
                    State(ids.PAGES, "data"))
