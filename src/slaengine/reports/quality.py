"""The data-quality section of `slaengine check`: per column, what is missing or misread.

Clean CRM data is half of what the agreement asks of both teams: for each column the file has,
how many leads leave it blank, how many hold a value that cannot be read, how many a value
outside the field's allowed values, and the most common offending values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..evaluate.quality import Survey

__all__ = ["ColumnQuality", "column_quality"]


@dataclass(frozen=True, slots=True)
class Offending:
    """A value as the export wrote it, how many leads hold it, and what is wrong with it."""

    value: str
    count: int
    problem: str  # `unreadable` or `not-allowed`
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count, "problem": self.problem,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class ColumnQuality:
    """One field's column across the file."""

    field: str
    column: str
    read: int
    missing: int
    unreadable: int
    not_allowed: int
    offending: tuple[Offending, ...]  # most common first

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "column": self.column, "read": self.read,
                "missing": self.missing, "unreadable": self.unreadable,
                "not_allowed": self.not_allowed,
                "offending": [o.to_json() for o in self.offending]}


def column_quality(survey: Survey, limit: int | None = 3) -> tuple[ColumnQuality, ...]:
    """The columns the file has, in the agreement's field order, with at most `limit`
    offending values each (all of them when None)."""
    found = []
    for q in survey.fields.values():
        if not q.present:
            continue
        bad = [Offending(v, n, "unreadable", q.problems[v]) for v, n in q.bad.most_common()]
        bad += [Offending(v, n, "not-allowed", "not one of the field's allowed values")
                for v, n in q.disallowed.most_common()]
        bad.sort(key=lambda o: -o.count)
        found.append(ColumnQuality(q.field, q.column, q.read, q.missing, q.unreadable,
                                   q.not_allowed, tuple(bad if limit is None else bad[:limit])))
    return tuple(found)
