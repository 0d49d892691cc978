"""JSON everywhere under /api: errors, the request body of a batch, the batch response.

Devices and integrations parse every answer as JSON, so no HTML error page may leak out."""
from __future__ import annotations

from typing import Any

import pydantic_core
from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from backend.api import api_blueprint
from backend.ingest.results import BatchResult


class ApiError(Exception):
    """A refusal of the whole request: ``error`` is a stable code, ``detail`` tells a human why."""

    def __init__(self, status: int, error: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.extra = status, error, detail, extra


def json_error(status: int, error: str, detail: str, **extra: Any) -> Response:
    response = jsonify(error=error, detail=detail, **extra)
    response.status_code = status
    return response


@api_blueprint.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return json_error(exc.status, exc.error, exc.detail, **exc.extra)


@api_blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Response:
    limit = request.max_content_length
    return json_error(413, "body_too_large", f"the request body is larger than {limit} bytes", limit=limit)


@api_blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    name = (exc.name or "error").lower().replace(" ", "_")
    return json_error(exc.code or 500, name, exc.description or name)


# Without this, an unknown /api/v1/... path would fall through to Dash's catch-all page route.
@api_blueprint.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def _no_such_endpoint(_unknown: str) -> Response:
    return json_error(404, "not_found", f"no API endpoint {request.method} {request.path}")


def read_json_array(max_items: int) -> list[Any]:
    """The request body as a JSON array of at most ``max_items`` items, or an ApiError.
    The byte limit (MAX_CONTENT_LENGTH) is enforced while reading: 413 via the handler above."""
    body = request.get_data(cache=False)
    try:
        # pydantic's parser: faster than json.loads, and deep nesting is a ValueError, not a crash.
        items = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(items, list):
        raise ApiError(400, "not_an_array", f"the body must be a JSON array, not a JSON {_json_kind(items)}")
    if len(items) > max_items:
        raise ApiError(413, "batch_too_large", f"at most {max_items} items per request, got {len(items)}",
                       limit=max_items)
    return items


def _json_kind(value: Any) -> str:
    return {dict: "object", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def batch_response(result: BatchResult) -> Response:
    response = jsonify(result.to_json())
    response.status_code = result.http_status
    return response
