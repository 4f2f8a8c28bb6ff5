"""The verdicts alone, straight from the lead: each field read when a condition first needs it,
and a definition's `all` stopping at its first false condition.

Most leads fail a definition early (wrong country, no consent), so the full evaluator, which
coerces every field and computes every score for every lead, spends most of a decision on
work no verdict reads. This generates a second function from the same conditions: a field's
value is checked where it is first needed, and is used as it stands when it already has its
declared type (a stripped `str`, an `int` in range, a `bool`, an aware UTC `datetime`, ...),
which is exactly what coercion would make of it. Anything else (text to parse as a number, a
label, a subclass) makes the function answer None, and the caller takes the full path, so
the two paths always agree: `tests/test_early.py` compares them lead by lead.

A score is computed only where a condition needs it, except one whose total could leave the
float range: that one is computed first, because the full path gives no verdicts at all for
a record whose score is not a number (`ScoreNotANumber`), whichever definition it is in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Final, Protocol

from ..agreement.models import AgreementSpec
from ..agreement.models.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    FieldCondition,
    ScoreCondition,
    walk,
)
from ..agreement.models.sections import PointsRule
from .coerce import MAX_SAFE_INTEGER, plain_members
from .isotext import bad_separator, stray_before_zone


class Compiler(Protocol):
    """What this module asks of the agreement's compiler (`compiler._Compiler`), which
    renders each condition and score exactly as the full evaluator has them."""

    spec: AgreementSpec

    def condition(self, node: Condition) -> str: ...
    def score_lines(self, name: str) -> list[tuple[str, Any]]: ...
    def order(self) -> list[tuple[str, str]]: ...

# A score whose every rule is bounded so that the total stays below this cannot overflow.
_SAFE_TOTAL: Final = 2.0**1000
_EPOCH_UTC: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE: Final = datetime(1970, 1, 1)

# `{v}` is the field's variable. A value that already has the type coercion would give it
# passes as it is; None is missing; anything else answers None (take the full path).
_CHECKS: Final[dict[str, str]] = {
    "integer": "if {v} is not None and not ({v}.__class__ is int and {low} <= {v} <= {high}):"
               " return None",
    "number": "if {v} is not None and not ({v}.__class__ is int and {low} <= {v} <= {high}"
              " or {v}.__class__ is float and {v} - {v} == 0.0): return None",
    "boolean": "if {v} is not None and {v} is not True and {v} is not False: return None",
    "list": "if {v} is not None and ({v}.__class__ is not list or not _plain({v})):"
            " return None",
    "string": "if {v}.__class__ is str: {v} = {v}.strip() or None\n"
              "elif {v} is not None: return None",
    "date": "if {v}.__class__ is str:\n"
            "    try: {v} = _date_text({v})\n"
            "    except ValueError: return None\n"
            "elif {v} is not None and {v}.__class__ is not date: return None",
    "datetime": "if {v}.__class__ is datetime and {v}.tzinfo is _UTC: pass\n"
                "elif {v}.__class__ is str:\n"
                "    try: {v} = _instant_text({v})\n"
                "    except (ValueError, TypeError, OverflowError): return None\n"
                "elif {v} is not None: return None",
}


def instant_text(tz: tzinfo) -> Callable[[str], datetime]:
    """ISO 8601 text as an aware UTC datetime, as the coercer's fast path reads it; raises
    ValueError where the coercer would take its slow path."""
    utcoffset = tz.utcoffset
    fromiso, combine = datetime.fromisoformat, datetime.combine

    def read(text: str) -> datetime:
        if "\0" in text:
            raise ValueError(text)
        d = fromiso(text)
        if (text[4] != "-" or text[10:11] not in "Tt ") and bad_separator(text):
            raise ValueError(text)
        zone = d.tzinfo
        if zone is None:
            return _EPOCH_UTC + (d - utcoffset(d) - _EPOCH_NAIVE)  # type: ignore[operator]
        if (text[-1] != "Z" or text[-2] not in "0123456789") and stray_before_zone(text):
            raise ValueError(text)
        if zone is UTC:
            return d
        return combine(d, d.time(), UTC) - zone.utcoffset(None)  # type: ignore[operator]

    return read


def namespace(tz: tzinfo) -> dict[str, Any]:
    """The names the generated function refers to besides the compiler's constants."""
    return {"_UTC": UTC, "date": date, "datetime": datetime,
            "_date_text": date.fromisoformat, "_instant_text": instant_text(tz),
            "_U": _UNSET, "_plain": plain_members}


_UNSET: Final = object()  # a field or score not read yet on this path
_NAME: Final = re.compile(r"(?<![.\w'])[A-Za-z_]\w*")
_BUILTINS: Final = {"int", "float", "str", "list", "min", "max", "_widen"}


def score_bound(compiler: Compiler, name: str) -> float:
    """The largest absolute total the score can reach (inf when unbounded)."""
    total = 0.0
    fields = compiler.spec.fields
    for rule in compiler.spec.scores[name].rules:
        if isinstance(rule, PointsRule):
            total += abs(rule.points)
            continue
        each = abs(rule.points_each)
        reach = (0.0 if each == 0 else each * MAX_SAFE_INTEGER
                 if fields[rule.field].type == "integer" else math.inf)
        low, high = -reach, reach
        if rule.max is not None:
            low, high = min(low, rule.max), min(high, rule.max)
        if rule.min is not None:
            low, high = max(low, rule.min), max(high, rule.min)
        total += max(abs(low), abs(high))
    return total


class _Paths:
    """What has been read on every path to the current line (`sure`) and on some (`seen`)."""

    def __init__(self) -> None:
        self.sure: set[str] = set()
        self.seen: set[str] = set()
        self.guarded: set[str] = set()  # names that start as _U and are tested against it


class EarlyVerdicts:
    """Generates the function of `bind_early(now)`: `{definition: bool}` of a raw lead (a
    dict), or None."""

    def __init__(self, compiler: Compiler, columns: Mapping[str, str],
                 constants: Mapping[str, Any]):
        """`constants`: the names the compiler gives its literals (filled as it renders)."""
        self.compiler, self.columns, self.constants = compiler, columns, constants
        self.paths = _Paths()
        self.body: list[str] = []

    # ---- reading a field or a score where it is first needed

    def need(self, node: Condition, indent: str) -> None:
        for sub, _ in walk(node):
            if isinstance(sub, FieldCondition):
                self.need_field(sub.field, indent)
            elif isinstance(sub, ScoreCondition):
                self.need_score(sub.score, indent)
            elif isinstance(sub, DefinitionCondition):
                assert f"d_{sub.definition}" in self.paths.sure  # dependency order

    def guard(self, name: str, indent: str) -> tuple[str, bool]:
        """The indent for reading `name`, and whether to read it at all."""
        paths = self.paths
        if name in paths.sure:
            return indent, False
        paths.sure.add(name)
        if name in paths.seen:
            paths.guarded.add(name)
            self.body.append(f"{indent}if {name} is _U:")
            return indent + "    ", True
        paths.seen.add(name)
        return indent, True

    def need_field(self, field: str, indent: str) -> None:
        var = f"v_{field}"
        indent, read = self.guard(var, indent)
        if not read:
            return
        column = self.columns[field]
        self.body.append(f"{indent}{var} = get({column!r})")
        if column != field:
            self.body.append(f"{indent}if {var} is None: {var} = get({field!r})")
        check = _CHECKS[self.compiler.spec.fields[field].type].format(
            v=var, low=-MAX_SAFE_INTEGER, high=MAX_SAFE_INTEGER)
        self.body.extend(indent + line for line in check.splitlines())

    def need_score(self, name: str, indent: str) -> None:
        var = f"s_{name}"
        if var in self.paths.sure:
            return
        score = self.compiler.spec.scores[name]
        for rule in score.rules:
            if isinstance(rule, PointsRule):
                self.need(rule.when, indent)
            else:
                self.need_field(rule.field, indent)
        indent, _ = self.guard(var, indent)
        self.body.extend(indent + text for text, _ in self.compiler.score_lines(name))

    # ---- a definition

    def definition(self, name: str) -> None:
        var, when = f"d_{name}", self.compiler.spec.definitions[name].when
        children = (when.all if isinstance(when, AllCondition) else
                    when.any if isinstance(when, AnyCondition) else None)
        if children is None or len(children) < 2:
            self.need(when, "")
            self.body.append(f"{var} = {self.compiler.condition(when)}")
            self.paths.sure.add(var)
            self.paths.seen.add(var)
            return
        stop_on = "not " if isinstance(when, AllCondition) else ""
        before = set(self.paths.sure)
        self.body += ["while True:", f"    {var} = {not stop_on}"]
        sure_at_first_exit: set[str] | None = None
        for child in children:
            self.need(child, "    ")
            if sure_at_first_exit is None:
                sure_at_first_exit = set(self.paths.sure)
            self.body.append(f"    if {stop_on}{self.compiler.condition(child)}: break")
        self.body += [f"    {var} = {bool(stop_on)}", "    break"]
        self.paths.sure = before | (sure_at_first_exit or set()) | {var}
        self.paths.seen.add(var)

    # ---- the function

    def lines(self) -> list[str]:
        """The body of `bind_early(now)` after its windows: `verdicts(r)`, then returning it."""
        bounded = {name for name in self.compiler.spec.scores
                   if score_bound(self.compiler, name) < _SAFE_TOTAL}
        for kind, name in self.compiler.order():
            if kind == "definition":
                self.definition(name)
            elif name not in bounded:
                self.need_score(name, "")
        verdicts = ", ".join(f"{n!r}: d_{n}" for n in self.compiler.spec.definitions)
        # Every name from outside the function becomes a default argument: a local variable is
        # read faster than a global or a builtin, and each is read once per condition.
        used = set(_NAME.findall("\n".join(self.body)))
        outside = sorted(used & (set(self.constants) | set(namespace(UTC))
                                 | _BUILTINS))
        defaults = "".join(f", {name}={name}" for name in outside)
        head = [f"    def verdicts(r{defaults}):", "        get = r.get"]
        head += [f"        {name} = _U" for name in sorted(self.paths.guarded)]
        return [*head, *("        " + line for line in self.body),
                f"        return {{{verdicts}}}", "    return verdicts"]
