"""Compile an agreement's definitions, scores and bands into one generated Python function.

Closures cost a call per condition; generated code evaluates a whole agreement in
one frame with local variables, as jinja2 does for templates. Each generated line
carries the `file:line` of the YAML it came from, so a failure points at the
agreement, and the source is registered with `linecache` for readable tracebacks.

The missing-value rule lives in `_FIELD_TEMPLATES`: every comparison on a missing
(None) value is false, except `exists: false`.
"""

from __future__ import annotations

import linecache
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from ..agreement.diagnostics import Location
from ..agreement.loader import LoadedAgreement, PathKey
from ..agreement.models import AgreementSpec
from ..agreement.models.agreement import references
from ..agreement.models.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    FieldCondition,
    NotCondition,
    ScoreCondition,
)
from ..agreement.models.sections import Band, PerValueRule, PointsRule
from .early import EarlyVerdicts
from .early import namespace as early_names
from .literals import INT64_MAX, Prepared, local_today, plain_text_test, prepare, widen_score

# `{v}` is the field's local variable, `{x}` the prepared value, `{lo}`/`{hi}` a pair's ends.
_FIELD_TEMPLATES: dict[str, str] = {
    "eq": "({v} == {x})",
    "ne": "({v} is not None and {v} != {x})",
    "gt": "({v} is not None and {v} > {x})",
    "gte": "({v} is not None and {v} >= {x})",
    "lt": "({v} is not None and {v} < {x})",
    "lte": "({v} is not None and {v} <= {x})",
    "in": "({v} in {x})",
    "not_in": "({v} is not None and {v} not in {x})",
    "between": "({v} is not None and {lo} <= {v} <= {hi})",
    "contains": "({v} is not None and {x} in {v})",
    "matches": "({v} is not None and {x}({v}) is not None)",
    "exists_true": "({v} is not None)",
    "exists_false": "({v} is None)",
    "within": "({v} is not None and {lo} <= {v} <= {hi})",
    "older_than": "({v} is not None and {v} < {lo})",
}
# `matches` with a pattern that is plain text (see `plain_text_test`): `{x}` the texts.
_PLAIN_TEXT_TEMPLATES: dict[str, str] = {
    "equals": "({v} in {x})", "startswith": "({v} is not None and {v}.startswith({x}))",
    "endswith": "({v} is not None and {v}.endswith({x}))",
    "contains": "({v} is not None and {x} in {v})",
}
_SCORE_TEMPLATES: dict[str, str] = {
    "eq": "({v} == {x})", "ne": "({v} != {x})", "gt": "({v} > {x})", "gte": "({v} >= {x})",
    "lt": "({v} < {x})", "lte": "({v} <= {x})", "in": "({v} in {x})",
    "not_in": "({v} not in {x})", "between": "({lo} <= {v} <= {hi})",
}

Results = tuple[dict[str, bool], dict[str, int | float], dict[str, str | None],
                tuple[bool, ...]]
Bound = Callable[[Mapping[str, Any]], Results]
Early = Callable[[Any], dict[str, bool] | None]

# Conditions compiled only into an engine built for KPIs (`compile_agreement(..., kpis=True)`),
# so plain evaluation never pays for them: extra section -> (agreement section, path from the
# KPI or score to the condition).
KPI_EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kpi_where": ("kpis", ("where",)),
    "kpi_numerator": ("kpis", ("ratio", "numerator")),
    "kpi_denominator": ("kpis", ("ratio", "denominator")),
    "calibration": ("scores", ("calibration", "converted")),
}


_MEMO_LIMIT = 4096


def _memoised(search: Callable[[str], Any]) -> Callable[[str], Any]:
    """`search` remembering its answer per text: CRM fields such as job titles repeat a lot,
    and a case-insensitive regex costs far more than a dict lookup. Bounded, thread-safe
    (a dict read or write is atomic), and it stores only whether the text matched."""
    seen: dict[str, bool] = {}

    def matched(text: str) -> bool | None:
        hit = seen.get(text)
        if hit is None:
            hit = search(text) is not None
            if len(seen) >= _MEMO_LIMIT:
                seen.clear()
            seen[text] = hit
        return True if hit else None

    return matched


@dataclass
class _Emitter:
    """Collects generated lines, their YAML locations and the constants they refer to."""

    lines: list[str] = field(default_factory=list)
    locations: dict[int, Location] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    windows: dict[tuple[str, Any], str] = field(default_factory=dict)

    def emit(self, text: str, location: Location | None = None) -> None:
        if location is not None:
            self.locations[len(self.lines) + 1] = location
            text = f"{text}  # {location.file}:{location.line}"
        self.lines.append(text)

    def literal(self, value: Any) -> str:
        """Inline what `repr` spells exactly; everything else becomes a named constant."""
        if value is None or isinstance(value, bool | int | str) or (
                isinstance(value, float) and math.isfinite(value)):
            return repr(value)
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name


@dataclass(frozen=True)
class CompiledAgreement:
    """The generated evaluator and what is needed to read its results."""

    definition_names: tuple[str, ...]
    score_names: tuple[str, ...]
    extra_paths: tuple[tuple[str, str], ...]
    """The other conditions (service levels' `applies_when`, recycle rules' `when`, and with
    `kpis=True` the `KPI_EXTRAS`), as (section, name), in the order of the results' fourth
    item."""
    bind: Callable[[datetime], Bound]
    source: str
    filename: str
    locations: dict[int, Location]

    run: Callable[[Mapping[str, Any], datetime], Results]
    """Definitions, scores and bands of one coerced lead as of `now` (aware, UTC)."""

    bind_early: Callable[[datetime], Early] | None = None
    """With `columns` given to `compile_agreement`: the verdicts of one raw lead as of `now`,
    or None when it needs the full path (see `early.py`)."""

    def location_of_line(self, line: int) -> Location | None:
        """The agreement location behind a line of generated code."""
        return self.locations.get(line)


class _Compiler:
    def __init__(self, spec: AgreementSpec, tz: tzinfo, loaded: LoadedAgreement | None,
                 kpis: bool = False, columns: Mapping[str, str] | None = None):
        self.spec, self.tz, self.loaded, self.kpis = spec, tz, loaded, kpis
        self.columns = columns
        self.out = _Emitter()
        self.fields_used: set[str] = set()

    def at(self, path: PathKey) -> Location | None:
        return self.loaded.locate(path) if self.loaded is not None else None

    # ---- conditions

    def condition(self, node: Condition) -> str:
        if isinstance(node, FieldCondition):
            return self.field_test(node)
        if isinstance(node, ScoreCondition):
            prepared = prepare(node, "number", self.tz)
            return self.render(_SCORE_TEMPLATES[prepared.op], f"s_{node.score}", prepared)
        if isinstance(node, DefinitionCondition):
            return f"d_{node.definition}"
        if isinstance(node, AllCondition):
            return "(" + " and ".join(self.condition(c) for c in node.all) + ")"
        if isinstance(node, AnyCondition):
            return "(" + " or ".join(self.condition(c) for c in node.any) + ")"
        if isinstance(node, NotCondition):
            return f"(not {self.condition(node.not_)})"
        raise TypeError(f"unknown condition {node!r}")

    def field_test(self, node: FieldCondition) -> str:
        self.fields_used.add(node.field)
        field_type = self.spec.fields[node.field].type
        prepared = prepare(node, field_type, self.tz)
        var = f"v_{node.field}"
        if prepared.op == "exists":
            return _FIELD_TEMPLATES["exists_true" if prepared.value else "exists_false"].format(
                v=var)
        if prepared.op in ("within", "older_than"):
            low = self.window_start(prepared.value, field_type)
            high = "today" if field_type == "date" else "now"
            return _FIELD_TEMPLATES[prepared.op].format(v=var, lo=low, hi=high)
        if prepared.op == "matches":
            plain = plain_text_test(prepared.value.pattern) if field_type == "string" else None
            if plain is not None:
                test, texts = plain
                return _PLAIN_TEXT_TEMPLATES[test].format(v=var, x=self.out.literal(
                    texts if test != "contains" else texts[0]))
            search = self.out.literal(_memoised(prepared.value.search))
            return _FIELD_TEMPLATES["matches"].format(v=var, x=search)
        return self.render(_FIELD_TEMPLATES[prepared.op], var, prepared)

    def render(self, template: str, var: str, prepared: Prepared) -> str:
        if prepared.op == "between":
            low, high = prepared.value
            return template.format(v=var, lo=self.out.literal(low), hi=self.out.literal(high))
        return template.format(v=var, x=self.out.literal(prepared.value))

    def window_start(self, delta: Any, field_type: str) -> str:
        key = (field_type, delta)
        if key not in self.out.windows:
            self.out.windows[key] = f"w{len(self.out.windows)}"
        return self.out.windows[key]

    # ---- scores and bands

    def score_lines(self, name: str) -> list[tuple[str, PathKey]]:
        score = self.spec.scores[name]
        lines: list[tuple[str, PathKey]] = [(f"s_{name} = 0", ("scores", name))]
        for i, rule in enumerate(score.rules):
            path: PathKey = ("scores", name, "rules", i)
            if isinstance(rule, PointsRule):
                lines.append((f"if {self.condition(rule.when)}: s_{name} += "
                              f"{self.out.literal(rule.points)}", path))
            elif isinstance(rule, PerValueRule):
                self.fields_used.add(rule.field)
                capped = f"t * {self.out.literal(rule.points_each)}"
                if rule.max is not None:
                    capped = f"min({capped}, {self.out.literal(rule.max)})"
                if rule.min is not None:
                    capped = f"max({capped}, {self.out.literal(rule.min)})"
                lines.append((f"t = v_{rule.field}", path))
                lines.append((f"if t is not None: s_{name} += {capped}", path))
        lines.append((f"if not -{INT64_MAX} <= s_{name} <= {INT64_MAX}: "
                      f"s_{name} = _widen(s_{name}, {name!r})", ("scores", name)))
        return lines

    def band_expression(self, name: str, bands: list[Band]) -> str:
        var = f"s_{name}"
        parts = []
        for band in bands:
            checks = []
            if band.from_ is not None:
                checks.append(f"{self.out.literal(band.from_)} <= {var}")
            if band.below is not None:
                checks.append(f"{var} < {self.out.literal(band.below)}")
            test = " and ".join(checks) or "True"
            parts.append(f"{band.label!r} if {test} else ")
        return "(" + "".join(parts) + "None)"

    # ---- the function

    def extra_paths(self) -> list[tuple[str, str]]:
        paths = ([("service_levels", n) for n, level in self.spec.service_levels.items()
                  if level.applies_when is not None]
                 + [("recycle", n) for n in self.spec.recycle])
        if self.kpis:
            paths += [(section, name) for section, (kind, _) in KPI_EXTRAS.items()
                      for name in getattr(self.spec, kind)
                      if self.kpi_extra(section, name) is not None]
        return paths

    def kpi_extra(self, section: str, name: str) -> Any:
        kind, rel = KPI_EXTRAS[section]
        node: Any = getattr(self.spec, kind)[name]
        for attribute in rel:
            node = getattr(node, attribute, None) if node is not None else None
        return node

    def extra_location(self, section: str, name: str) -> Location | None:
        if section in KPI_EXTRAS:
            kind, rel = KPI_EXTRAS[section]
            return self.at((kind, name, *rel))
        return self.at((section, name))

    def extra_condition(self, section: str, name: str) -> Condition:
        if section in KPI_EXTRAS:
            node: Condition = self.kpi_extra(section, name)
            return node
        if section == "recycle":
            return self.spec.recycle[name].when
        when = self.spec.service_levels[name].applies_when
        assert when is not None
        return when

    def order(self) -> list[tuple[str, str]]:
        """Definitions and scores in dependency order (validation rules out cycles)."""
        done: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()

        def visit(node: tuple[str, str]) -> None:
            if node in seen:
                return
            seen.add(node)
            for dep in references(self.spec, node):
                visit(dep)
            done.append(node)

        for name in self.spec.scores:
            visit(("score", name))
        for name in self.spec.definitions:
            visit(("definition", name))
        return done

    def windows(self) -> list[str]:
        """The lines of `bind(now)` that work out the time windows once per `now`."""
        out, lines = self.out, []
        if any(kind == "date" for kind, _ in out.windows):
            lines.append("    today = _local_today(now, _tz)")
        for (kind, delta), var in out.windows.items():
            base = "today" if kind == "date" else "now"
            lines.append(f"    {var} = {base} - {out.literal(delta)}")
        return lines

    def compile(self) -> tuple[str, dict[int, Location], dict[str, Any]]:
        body: list[tuple[str, Location | None]] = []
        for kind, name in self.order():
            if kind == "score":
                for text, path in self.score_lines(name):
                    body.append((text, self.at(path)))
            else:
                expression = self.condition(self.spec.definitions[name].when)
                body.append((f"d_{name} = {expression}",
                             self.at(("definitions", name, "when"))))
        for i, (section, name) in enumerate(self.extra_paths()):
            when = self.extra_condition(section, name)
            body.append((f"x_{i} = {self.condition(when)}", self.extra_location(section, name)))
        for name, score in self.spec.scores.items():
            if score.bands:
                body.append((f"b_{name} = {self.band_expression(name, score.bands)}",
                             self.at(("scores", name, "bands"))))
            else:
                body.append((f"b_{name} = None", None))

        # `bind(now)` works out the time windows once; a batch shares one `now`, so the
        # per-lead function only reads fields and compares.
        out = self.out
        early = (EarlyVerdicts(self, self.columns, out.constants).lines()
                 if self.columns is not None else [])
        out.emit("def bind(now):")
        windows = self.windows()
        for line in windows:
            out.emit(line)
        out.emit("    def evaluate(r):")
        out.emit("        get = r.get")
        for name in sorted(self.fields_used):
            out.emit(f"        v_{name} = get({name!r})")
        for text, location in body:
            out.emit(f"        {text}", location)
        # Dict displays with constant keys are what the JSON output needs, built in one step.
        definitions = ", ".join(f"{n!r}: d_{n}" for n in self.spec.definitions)
        scores = ", ".join(f"{n!r}: s_{n}" for n in self.spec.scores)
        bands = ", ".join(f"{n!r}: b_{n}" for n in self.spec.scores)
        extras = "".join(f"x_{i}, " for i in range(len(self.extra_paths())))
        out.emit(f"        return {{{definitions}}}, {{{scores}}}, {{{bands}}}, ({extras})")
        out.emit("    return evaluate")
        # `run(r, now)`: the bound function of the last `now` asked about, kept in one slot
        # that is read and replaced whole, so threads never see half of an update.
        out.emit("_slot = [(object(), None)]")
        out.emit("def run(r, now):")
        out.emit("    last, bound = _slot[0]")
        # Equal datetimes of one zone compare by wall time, so `fold` (which of the two
        # 02:30s of a DST change) must match as well, and the class (another kind of time
        # may equal a datetime and have no fold).
        out.emit("    if last is not now and (now.__class__ is not last.__class__"
                 " or last != now or last.fold != now.fold):")
        out.emit("        bound = bind(now)")
        out.emit("        _slot[0] = (now, bound)")
        out.emit("    return bound(r)")
        if early:
            out.emit("def bind_early(now):")
            for line in [*windows, *early]:
                out.emit(line)
        return "\n".join(out.lines) + "\n", out.locations, out.constants


def compile_agreement(spec: AgreementSpec, tz: tzinfo, loaded: LoadedAgreement | None = None,
                      name: str = "agreement", *, kpis: bool = False,
                      columns: Mapping[str, str] | None = None) -> CompiledAgreement:
    """Generate, compile and return the evaluator of one validated agreement; with `kpis`,
    the KPIs' and calibrations' conditions are extra results too (see `KPI_EXTRAS`); with
    `columns` (field -> column read), also `bind_early`, the verdicts of a raw lead."""
    compiler = _Compiler(spec, tz, loaded, kpis, columns)
    source, locations, constants = compiler.compile()
    filename = f"<slaengine {name}>"
    namespace: dict[str, Any] = {"_tz": tz, "_local_today": local_today, "_widen": widen_score,
                                 **early_names(tz), **constants}
    exec(compile(source, filename, "exec"), namespace)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return CompiledAgreement(tuple(spec.definitions), tuple(spec.scores),
                             tuple(compiler.extra_paths()), namespace["bind"],
                             source, filename, locations, namespace["run"],
                             namespace.get("bind_early"))
