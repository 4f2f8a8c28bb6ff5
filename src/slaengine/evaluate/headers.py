"""A lead file's columns against the columns the agreement's fields and the mapping expect.

Pure functions: the columns each field is read from, the comparison with a header (names match
without regard to case), the columns a header names more than once, and the closest columns
the file has for one it lacks, so that a label (`Lead ID`) is suggested for an API name (`Id`)
and the other way round.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from ..agreement.models.sections import FieldSpec

__all__ = ["Expected", "HeaderCheck", "Repeated", "closest", "compare", "expected_columns", "fold",
           "normalise", "repeats", "words"]

_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD: Final = re.compile(r"[^0-9a-z]+")
_CUTOFF: Final = 0.75


def fold(name: str) -> str:
    """A column name as a header is matched: without surrounding spaces or case."""
    return name.strip().casefold()


@dataclass(frozen=True, slots=True)
class Repeated:
    """What a CSV record holds for a column its header names more than once: which of the
    cells is meant cannot be told, so none is kept. It carries the whole header, as written,
    for the check that refuses the file when a field reads such a column (`intake`)."""

    header: tuple[str, ...]

    def __str__(self) -> str:
        return "(a column the header names more than once)"


def repeats(header: Sequence[str]) -> list[tuple[int, ...]]:
    """The positions (0-based) of each column a header names more than once, exactly or as
    matching ignores (case, surrounding spaces), in the order the header first names them."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        groups.setdefault(fold(name), []).append(i)
    return [tuple(g) for g in groups.values() if len(g) > 1]


@dataclass(frozen=True, slots=True)
class Expected:
    """The columns one field may be read from, in order, and whether the user named them."""

    field: str
    columns: tuple[str, ...]  # the mapped (or `source`) column first, then the field's name
    named: bool  # the mapping or the field's `source` names a column other than the field
    key: bool

    @property
    def column(self) -> str:
        """The column the field is meant to be read from."""
        return self.columns[0]


@dataclass(frozen=True, slots=True)
class HeaderCheck:
    """What a header lacks, and the spelling of the columns that match only without case."""

    expected: tuple[Expected, ...]
    header: tuple[str, ...]
    resolved: dict[str, str] = field(default_factory=dict)  # field -> column as the file has it
    missing: tuple[Expected, ...] = ()

    @property
    def missing_key(self) -> Expected | None:
        return next((e for e in self.missing if e.key), None)

    @property
    def named(self) -> tuple[Expected, ...]:
        return tuple(e for e in self.expected if e.named)

    @property
    def missing_named(self) -> tuple[Expected, ...]:
        return tuple(e for e in self.missing if e.named and not e.key)

    @property
    def read(self) -> dict[str, str]:
        """The header's columns the fields are read from, as the file spells them, each with
        the (first) field reading it: the column found for each field, and the field's own
        name, which the coercer falls back to, exactly."""
        found: dict[str, str] = {}
        header = set(self.header)
        for item in self.expected:
            if item in self.missing:
                continue
            spelled = self.resolved.get(item.field)
            if spelled is None:  # the first of its columns the header has exactly
                spelled = next(c for c in item.columns if c in header)
            found.setdefault(spelled, item.field)
            if item.field in header:
                found.setdefault(item.field, item.field)
        return found

    @property
    def fatal(self) -> bool:
        """The key column is absent, or more than half the columns the user named are."""
        named, missing = len(self.named), len(self.missing_named) + (
            self.missing_key is not None and self.missing_key.named)
        return self.missing_key is not None or (named >= 2 and 2 * missing > named)

    def suggestions(self, expected: Expected, limit: int = 2) -> list[str]:
        """The file's columns closest to the one a field lacks; columns other fields read
        come last."""
        taken = {c.casefold() for c in self.resolved.values()} | {
            c.casefold() for e in self.expected if e not in self.missing for c in e.columns}
        free = list(dict.fromkeys(c for c in self.header if c.casefold() not in taken))
        return closest(expected.column, free, limit) or closest(expected.field, free, limit)


def expected_columns(fields: Mapping[str, FieldSpec],
                     mapping: Mapping[str, str] | None = None) -> tuple[Expected, ...]:
    """Each field's columns: the mapping's, else its `source`, else its name; then its name."""
    mapping = mapping or {}
    found = []
    for name, spec in fields.items():
        column = mapping.get(name) or spec.source or name
        found.append(Expected(name, tuple(dict.fromkeys((column, name))), column != name,
                              spec.key))
    return tuple(found)


def compare(expected: Sequence[Expected], header: Iterable[str]) -> HeaderCheck:
    """Which fields find a column in the header, matching names exactly, else without case.

    `resolved` holds the file's spelling for each field whose column matches only without
    regard to case (and is not matched exactly by another of its columns first).
    """
    columns = tuple(header)
    exact = set(columns)
    folded: dict[str, str] = {}
    for column in columns:
        folded.setdefault(fold(column), column)
    resolved: dict[str, str] = {}
    missing = []
    for item in expected:
        for column in item.columns:
            if column in exact:
                break
            spelled = folded.get(fold(column))
            if spelled is not None:
                resolved[item.field] = spelled
                break
        else:
            missing.append(item)
    return HeaderCheck(tuple(expected), columns, resolved, tuple(missing))


def words(name: str) -> list[str]:
    """The words of a column name, label or API name alike: `NumberOfEmployees`,
    `Number of Employees` and `NUMBER_OF_EMPLOYEES` all give number, of, employees."""
    name = re.sub(r"__c$", "", name.strip())
    if not name.isupper():
        name = _CAMEL.sub(" ", name)
    return [w for w in _NON_WORD.split(name.lower()) if w]


def normalise(name: str) -> str:
    """A column name without case, separators or a Salesforce `__c` suffix."""
    return "".join(words(name))


def _likeness(wanted: str, candidate: str) -> float:
    a, b = normalise(wanted), normalise(candidate)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    ours, theirs = set(words(wanted)), set(words(candidate))
    common = len(ours & theirs)
    if ours and common == len(ours):  # `Id` in `Lead ID`, `Company` in `Company / Account`
        return max(ratio, 0.9)
    if theirs and common == len(theirs):  # `Lead ID` for `Id`
        return max(ratio, 0.8)
    return max(ratio, 0.7 * common / len(ours)) if ours else ratio


def closest(wanted: str, columns: Iterable[str], limit: int = 2) -> list[str]:
    """The columns most like `wanted`, best first, at most `limit` of them."""
    scored = sorted(((_likeness(wanted, c), i, c) for i, c in enumerate(columns)),
                    key=lambda t: (-t[0], t[1]))
    return [c for score, _, c in scored[:limit] if score >= _CUTOFF]
