"""Conditions that can never hold together: `gte: 50` and `lt: 40` on one field under `all`.

Only the tests of one field (or one score) side by side in the same `all` are compared, each
against a fixed value: `within` and `older_than` move with `now`, and a test under `not` or
`any` can fail without the others failing, so neither is taken into account.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic, error
from ..loader import PathKey
from ..models.conditions import AllCondition, FieldCondition, ScoreCondition
from .base import CheckContext, condition_nodes
from .operators import comparable, literal_fits

_FIXED: frozenset[str] = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in",
                                    "between"})


@dataclass
class _Possible:
    """The values one field can still have for every test seen so far to hold."""

    low: Any = None
    low_open: bool = False
    high: Any = None
    high_open: bool = False
    only: set[Any] | None = None  # from `eq` and `in`
    never: set[Any] = field(default_factory=set)  # from `ne` and `not_in`

    def narrow(self, op: str, value: Any) -> None:
        if op in ("eq", "in"):
            values = set(value if op == "in" else [value])
            self.only = values if self.only is None else self.only & values
        elif op in ("ne", "not_in"):
            self.never |= set(value if op == "not_in" else [value])
        elif op in ("gt", "gte"):
            self._above(value, op == "gt")
        elif op in ("lt", "lte"):
            self._below(value, op == "lt")
        elif op == "between":
            self._above(value[0], False)
            self._below(value[1], False)

    def _above(self, value: Any, strict: bool) -> None:
        if self.low is None or value > self.low or (value == self.low and strict):
            self.low, self.low_open = value, strict

    def _below(self, value: Any, strict: bool) -> None:
        if self.high is None or value < self.high or (value == self.high and strict):
            self.high, self.high_open = value, strict

    def _inside(self, value: Any) -> bool:
        if self.low is not None and (value < self.low or (value == self.low and self.low_open)):
            return False
        return self.high is None or not (value > self.high
                                         or (value == self.high and self.high_open))

    @property
    def empty(self) -> bool:
        if self.low is not None and self.high is not None and (
                self.low > self.high
                or (self.low == self.high and (self.low_open or self.high_open))):
            return True
        only = self.only
        if only is None and self.low is not None and self.low == self.high:
            only = {self.low}  # a range of one value, which `ne` can still rule out
        if only is None:
            return False  # a range holds endless values: `ne` and `not_in` leave some
        return not any(self._inside(v) and v not in self.never for v in only)


def _shown(op: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        return f"`{op}: [{', '.join(_text(v) for v in value)}]`"
    return f"`{op}: {_text(value)}`"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_contradictions(ctx: CheckContext) -> Iterator[Diagnostic]:
    """Tests of one field (or score) in one `all` that no value can pass together."""
    spec = ctx.spec
    for node, path in condition_nodes(spec):
        if not isinstance(node, AllCondition):
            continue
        groups: dict[tuple[str, str], list[tuple[str, Any, Any, PathKey]]] = {}
        for i, child in enumerate(node.all):
            if not isinstance(child, FieldCondition | ScoreCondition) or child.op not in _FIXED:
                continue
            if isinstance(child, FieldCondition):
                field_spec = spec.fields.get(child.field)
                if field_spec is None or field_spec.type == "list":
                    continue
                items = list(child.value) if isinstance(child.value, list) else [child.value]
                try:  # as the field holds them; a value that does not fit is reported elsewhere
                    converted = [comparable(literal_fits(field_spec, v)) for v in items]
                except ValueError:
                    continue
                key = ("field", child.field)
            else:
                items = list(child.value) if isinstance(child.value, list) else [child.value]
                converted = items
                key = ("score", child.score)
            value = converted if isinstance(child.value, list) else converted[0]
            groups.setdefault(key, []).append((child.op, value, child.value, (*path, "all", i)))
        for (kind, name), tests in groups.items():
            if len(tests) < 2:
                continue
            possible = _Possible()
            for n, (op, value, _, where) in enumerate(tests):
                possible.narrow(op, value)
                if possible.empty:
                    together = ", ".join(_shown(o, w) for o, _, w, _ in tests[:n + 1])
                    subject = f"`{name}`" if kind == "field" else f"the score `{name}`"
                    yield error("contradictory-conditions",
                                f"no value of {subject} passes all of {together} at once, so "
                                "this `all` can never hold", ctx.at(where),
                                "correct the values, or write `any` if either test should do")
                    break
