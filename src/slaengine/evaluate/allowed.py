"""Values outside a field's allowed values: read and used, but reported as record warnings.

A field's allowed values are its `enum`; a field without one, whose labels a mapping
translates (`values:`), allows the values the mapping translates to. A value outside them
(`Software` where the agreement says `software`) is a `value-not-allowed` warning with the
field, the column and the value: the lead is still evaluated with it, as read. The stage field
is left out (a recorded stage the agreement does not know is already an `unknown-stage`
violation), and so are date and datetime fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..agreement.models.sections import FieldSpec
from .coerce import RecordError, show

__all__ = ["AllowedValues", "allowed_values"]

_LISTED: Final = 8  # allowed values named in a warning


def allowed_values(fields: Mapping[str, FieldSpec],
                   labels: Mapping[str, Mapping[str, Any]] | None = None,
                   stage_field: str | None = None) -> dict[str, tuple[Any, ...]]:
    """Each field's allowed values, for the fields (but the stage field) that have a list."""
    labels = labels or {}
    found: dict[str, tuple[Any, ...]] = {}
    for name, spec in fields.items():
        if name == stage_field or spec.type in ("date", "datetime"):
            continue  # instants are compared as instants, never as listed text
        if spec.enum is not None:
            found[name] = tuple(spec.enum)
        elif name in labels:
            found[name] = tuple(dict.fromkeys(labels[name].values()))
    return found


class AllowedValues:
    """The check of one engine's fields: `check(values, raw)` gives the warnings of a record."""

    def __init__(self, fields: Mapping[str, FieldSpec], columns: Mapping[str, str],
                 labels: Mapping[str, Mapping[str, Any]] | None = None,
                 stage_field: str | None = None) -> None:
        self.allowed = allowed_values(fields, labels, stage_field)
        self.checks = tuple((name, columns[name], frozenset(_hashable(v) for v in values))
                            for name, values in self.allowed.items())
        self.titles = {name: fields[name].title or name for name in self.allowed}

    def __bool__(self) -> bool:
        return bool(self.checks)

    def check(self, values: Mapping[str, Any], raw: Mapping[str, Any] | None = None
              ) -> tuple[RecordError, ...]:
        found: list[RecordError] = []
        for name, column, allowed in self.checks:
            value = values.get(name)
            if value is None or (value.__class__ is str and value in allowed):
                continue  # the usual case, at the cost of one lookup
            items = value if isinstance(value, list) else (value,)
            for item in items:
                if _hashable(item) not in allowed:
                    here = column if raw is None or raw.get(column) is not None else name
                    found.append(self.warning(name, here, item))
        return tuple(found)

    def warning(self, name: str, column: str, value: Any) -> RecordError:
        """The `value-not-allowed` warning, worded for the team lead who reads it."""
        allowed = self.allowed[name]
        listed = ", ".join(show(v) for v in allowed[:_LISTED]) + (
            ", ..." if len(allowed) > _LISTED else "")
        return RecordError("value-not-allowed",
                           f"`{show(value)}` is not one of the values {self.titles[name]} "
                           f"allows ({listed}); the lead is evaluated with it as written",
                           name, column, value)


def _hashable(value: Any) -> Any:
    # True == 1 in a set: keep booleans apart from numbers, as the agreement does.
    if isinstance(value, bool):
        return ("bool", value)
    try:
        hash(value)
    except TypeError:
        return show(value)
    return value
