"""What each field's column holds across a lead file: values read, missing, unreadable, not allowed.

`Survey` counts, per field, the leads whose value was read, missing (blank or no column),
unreadable (a `RecordError`) or outside the allowed values (a `value-not-allowed` warning),
with the most common values of each kind. `mapping check` prints it to fix a mapping before
the first real run; `check` prints its data-quality section from it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from .coerce import RecordError, jsonable, show
from .evaluator import Engine
from .leads import RawRecord

__all__ = ["FieldQuality", "Survey"]

_DISTINCT: Final = 1000  # values counted per field and kind; more are counted as "other"


@dataclass(slots=True)
class FieldQuality:
    """One field across the file."""

    field: str
    column: str
    present: bool  # whether the file has the column (or the field's own name)
    read: int = 0
    missing: int = 0
    unreadable: int = 0
    not_allowed: int = 0
    values: Counter[str] = dataclasses.field(default_factory=Counter)
    bad: Counter[str] = dataclasses.field(default_factory=Counter)  # unreadable values as written
    disallowed: Counter[str] = dataclasses.field(default_factory=Counter)
    problems: dict[str, str] = dataclasses.field(default_factory=dict)  # bad value -> the reason

    @property
    def distinct(self) -> int:
        return len(self.values)

    def top(self, counter: Counter[str], limit: int = 5) -> list[tuple[str, int]]:
        return counter.most_common(limit)


def _count(counter: Counter[str], value: Any) -> str:
    text = show(jsonable(value))
    if text in counter or len(counter) < _DISTINCT:
        counter[text] += 1
    return text


class Survey:
    """Counts what the engine reads from each field's column, record by record."""

    def __init__(self, engine: Engine, columns: Iterable[str] | None = None) -> None:
        self.engine = engine
        header = {c.casefold() for c in columns or ()}
        self.fields = {
            name: FieldQuality(name, column, columns is None or bool(
                {column.casefold(), name.casefold()} & header))
            for name, column in engine.coerce.columns.items()}
        self.records = 0
        self.unreadable_records = 0

    def follow(self, records: Iterator[RawRecord]) -> Iterator[RawRecord]:
        """The records, unchanged, each counted on the way."""
        for record in records:
            self.add(record)
            yield record

    def add_decision(self, values: dict[str, Any], errors: Iterable[RecordError],
                     warnings: Iterable[RecordError], readable: bool = True) -> None:
        """Count an evaluated record from its decision (no second coercion)."""
        self.records += 1
        if not readable:
            self.unreadable_records += 1
            return
        self.count(values, errors, warnings)

    def add(self, record: RawRecord) -> None:
        self.records += 1
        if record.data is None:
            self.unreadable_records += 1
            return
        values, errors = self.engine.coerce(record.data)
        warnings = self.engine.allowed.check(values, record.data) if self.engine.allowed else ()
        self.count(values, errors, warnings)

    def count(self, values: dict[str, Any], errors: Iterable[RecordError],
              warnings: Iterable[RecordError]) -> None:
        failed = {}
        for error in errors:
            if error.field is not None:
                failed[error.field] = error
        for warning in warnings:
            if warning.field in self.fields:
                quality = self.fields[warning.field]
                quality.not_allowed += 1
                _count(quality.disallowed, warning.value)
        for name, quality in self.fields.items():
            value = values.get(name)
            if value is not None:
                quality.read += 1
                _count(quality.values, value)
            elif name in failed:
                quality.unreadable += 1
                text = _count(quality.bad, failed[name].value)
                quality.problems.setdefault(text, failed[name].message)
            else:
                quality.missing += 1

    def with_problems(self) -> list[FieldQuality]:
        """The fields with unreadable or not allowed values, most affected first."""
        found = [q for q in self.fields.values() if q.unreadable or q.not_allowed]
        return sorted(found, key=lambda q: (-(q.unreadable + q.not_allowed), q.field))
