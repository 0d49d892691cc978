"""Validating a batch item by item, with pydantic errors turned into ``FieldError``s.

The whole list is validated in one call (cheaper than one call per item); only when that
fails are the errors grouped by item, so a bad item never hides the good ones."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from backend.ingest.results import FieldError, ItemResult, ItemStatus

T = TypeVar("T")

WHOLE_ITEM = "item"  # the ``field`` of an error about the item as a whole (not an object, ...)
_MAX_ID_LENGTH = 128


class BatchOutcome:
    """The per-item results of a batch being processed; unset items end up accepted."""

    def __init__(self, raw_items: list[Any], id_key: str) -> None:
        self._results = [ItemResult(i, _usable_id(raw, id_key), ItemStatus.ACCEPTED)
                         for i, raw in enumerate(raw_items)]

    def reject(self, index: int, errors: list[FieldError]) -> None:
        self._results[index].status = ItemStatus.REJECTED
        self._results[index].errors = errors

    def duplicate(self, index: int) -> None:
        self._results[index].status = ItemStatus.DUPLICATE

    @property
    def items(self) -> list[ItemResult]:
        return self._results


def _usable_id(raw: Any, id_key: str) -> str | None:
    """The client's id of an item, if it has one we can echo back (even for a rejected item)."""
    value = raw.get(id_key) if isinstance(raw, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= _MAX_ID_LENGTH else None


class BatchValidator(Generic[T]):
    """Validates a list of raw items against one pydantic type (``tagged``: a union
    discriminated by ``type``, whose tag pydantic puts in the error path)."""

    def __init__(self, item_type: Any, *, tagged: bool = False) -> None:
        self._adapter: TypeAdapter[list[T]] = TypeAdapter(list[item_type])  # type: ignore[valid-type]
        self._tagged = tagged

    def validate(self, raw_items: list[Any], outcome: BatchOutcome) -> list[tuple[int, T]]:
        """The valid items as (index, model); the invalid ones are rejected in ``outcome``."""
        try:
            return list(enumerate(self._adapter.validate_python(raw_items)))
        except ValidationError as exc:
            errors_by_index: dict[int, list[FieldError]] = defaultdict(list)
            for error in exc.errors(include_url=False, include_input=False):
                index, *path = error["loc"]
                errors_by_index[int(index)].append(self._field_error(path, error))
        for index, errors in errors_by_index.items():
            outcome.reject(index, errors)
        good = [i for i in range(len(raw_items)) if i not in errors_by_index]
        # Validate the rest again: they passed once, so this cannot fail.
        return list(zip(good, self._adapter.validate_python([raw_items[i] for i in good]), strict=True))

    def _field_error(self, path: list[str | int], error: ErrorDetails) -> FieldError:
        kind = error["type"]
        if kind == "union_tag_not_found":
            return FieldError("type", "missing: every item needs a 'type'")
        if kind == "union_tag_invalid":
            return FieldError("type", f"unknown type {error.get('ctx', {}).get('tag')!r}")
        if self._tagged and path:
            path = path[1:]  # drop the union tag pydantic inserts ("check_in", "lat") -> "lat"
        return FieldError(".".join(str(p) for p in path) or WHOLE_ITEM, _reason(error))


def _reason(error: ErrorDetails) -> str:
    if error["type"] == "model_attributes_type":
        return "must be a JSON object"
    if error["type"] == "value_error":  # our own validators: their message without pydantic's prefix
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return error["msg"]
