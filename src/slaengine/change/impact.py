"""The impact of a change on real leads: the same leads evaluated under both versions.

Both agreements read the lead file as two streams, in lockstep, one decision pair at a time;
only counters and a few examples are kept, so memory stays flat however long the file is.
For each definition: how many leads gain it and lose it, with example ids and the condition
that flipped (the first condition whose verdict differs between the two explanations); for
each service level and for stages and owners, how many leads change and from what to what;
for each KPI, its value under both versions (when this slaengine computes KPIs).
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from ..agreement.describe import definition_label, definition_short_label, with_article
from ..api import Agreement
from ..evaluate.decision import Decision
from ..evaluate.explain import ConditionResult
from ..evaluate.leads import RawRecord

EXAMPLES = 3  # example leads kept per definition and direction

LeadSource = Callable[[], Iterable[RawRecord]]


@dataclass
class Example:
    """A lead whose verdict on a definition flipped, and the condition that flipped it."""

    id: Any
    change: str  # gained | lost
    condition: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "change": self.change, "condition": self.condition}


@dataclass
class DefinitionImpact:
    name: str
    title: str
    before: int = 0  # leads meeting it under the base version
    after: int = 0
    gained: int = 0
    lost: int = 0
    examples: list[Example] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "before": self.before, "after": self.after,
                "gained": self.gained, "lost": self.lost,
                "examples": [e.to_json() for e in self.examples]}


@dataclass
class Transitions:
    """How many leads moved, and between which values (`None`: not there on that side)."""

    title: str
    counts: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        return sum(self.counts.values())

    def most_common(self) -> list[tuple[str | None, str | None, int]]:
        return [(a, b, n) for (a, b), n in sorted(self.counts.items(),
                                                    key=lambda item: (-item[1], str(item[0])))]

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "changed": self.changed,
                "transitions": [{"from": a, "to": b, "count": n}
                                for a, b, n in self.most_common()]}


@dataclass
class KpiImpact:
    name: str
    title: str
    before: Any
    after: Any
    unit: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "before": self.before, "after": self.after,
                "unit": self.unit}


@dataclass
class Impact:
    """What a change does to a set of real leads, as of `now`."""

    now: datetime
    leads: int = 0
    unreadable: int = 0  # records neither version could read (counted, not compared)
    definitions: dict[str, DefinitionImpact] = field(default_factory=dict)
    service_levels: dict[str, Transitions] = field(default_factory=dict)
    stages: Transitions = field(default_factory=lambda: Transitions("Stage"))
    owners: Transitions = field(default_factory=lambda: Transitions("Owner"))
    kpis: list[KpiImpact] = field(default_factory=list)
    kpi_note: str | None = None  # why KPI values are missing, when they are

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(), "leads": self.leads, "unreadable": self.unreadable,
            "definitions": {n: d.to_json() for n, d in self.definitions.items()},
            "service_levels": {n: t.to_json() for n, t in self.service_levels.items()},
            "stages": self.stages.to_json(), "owners": self.owners.to_json(),
            "kpis": {"available": self.kpi_note is None, "note": self.kpi_note,
                     "values": {k.name: k.to_json() for k in self.kpis}},
        }


def _leaves(result: ConditionResult) -> bool:
    return not result.children


def flipped_condition(before: Decision, after: Decision, name: str) -> str:
    """The first condition, in the definition's order, whose verdict differs between the two
    versions' explanations, in words: `✓ Engagement score is at least 40 → ✗ Engagement score
    is at least 50 (was 45)`; a condition only one version has counts when it decides."""
    outcome_before, outcome_after = before.verdicts[name], after.verdicts[name]
    old, new = before.explanation(name).flatten(), after.explanation(name).flatten()
    matcher = SequenceMatcher(a=[(n.depth, n.text) for n in old],
                              b=[(n.depth, n.text) for n in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        pairs = min(i2 - i1, j2 - j1) if tag in ("equal", "replace") else 0
        for k in range(pairs):
            o, n = old[i1 + k], new[j1 + k]
            if _leaves(o) and _leaves(n) and o.matched != n.matched:
                if o.text == n.text:
                    text = f"{n.text}: {o.mark} → {n.mark}{_detail(n)}"
                    inner = _referenced(after, n.text)
                    if inner is not None and inner in before.verdicts and inner != name:
                        text += f", as {flipped_condition(before, after, inner)}"
                    return text
                return f"{o.mark} {o.text} → {n.line().strip()}"
        for o in old[i1 + pairs:i2]:
            if _leaves(o) and o.matched == outcome_before:
                return f"removed: {o.line().strip()}"
        for n in new[j1 + pairs:j2]:
            if _leaves(n) and n.matched == outcome_after:
                return f"added: {n.line().strip()}"
    return "the definition as a whole (no single condition differs)"


def _referenced(decision: Decision, text: str) -> str | None:
    """The definition a `Is an Excluded contact` line refers to."""
    spec = decision.engine.spec
    return next((name for name in spec.definitions
                 if text == f"Is {with_article(definition_label(spec, name))}"), None)


def _detail(node: ConditionResult) -> str:
    line = node.line().strip()
    return line[len(node.mark) + 1 + len(node.text):]


def _statuses(decision: Decision) -> dict[str, str]:
    return {name: reading.status for name, reading in
            zip(decision.engine.clocks.names, decision.readings, strict=False)}


def measure_impact(before: Agreement, after: Agreement, leads: LeadSource,
                   now: datetime, examples: int = EXAMPLES) -> Impact:
    """Evaluate the same leads under both agreements and count what changes.

    `leads` is called once per version (and once more per version for KPIs), so each reads
    its own stream of the file.
    """
    impact = Impact(now)
    names = list(dict.fromkeys([*before.engine.definition_names,
                                *after.engine.definition_names]))
    for name in names:
        spec = after.spec if name in after.spec.definitions else before.spec
        impact.definitions[name] = DefinitionImpact(name, definition_short_label(spec, name))
    levels = list(dict.fromkeys([*before.spec.service_levels, *after.spec.service_levels]))
    for name in levels:
        level = after.spec.service_levels.get(name) or before.spec.service_levels[name]
        impact.service_levels[name] = Transitions(level.title)
    pairs: Iterator[tuple[Decision, Decision]] = zip(
        before.engine.evaluate_many(leads(), now, in_full=True),
        after.engine.evaluate_many(leads(), now, in_full=True), strict=True)
    for old, new in pairs:
        impact.leads += 1
        if not (old.evaluated and new.evaluated):
            impact.unreadable += 1
            continue
        _count(impact, old, new, examples)
    _kpis(impact, before, after, leads, now)
    return impact


def _count(impact: Impact, old: Decision, new: Decision, examples: int) -> None:
    for name, found in impact.definitions.items():
        was, now = old.verdicts.get(name, False), new.verdicts.get(name, False)
        found.before += was
        found.after += now
        if was == now:
            continue
        change = "gained" if now else "lost"
        if now:
            found.gained += 1
        else:
            found.lost += 1
        if sum(e.change == change for e in found.examples) < examples:
            if name in old.verdicts and name in new.verdicts:
                why = flipped_condition(old, new, name)
            else:
                why = "the definition is new" if now else "the definition was removed"
            found.examples.append(Example(new.id if new.id is not None else old.id, change,
                                          why))
    if impact.service_levels:
        before, after = _statuses(old), _statuses(new)
        for name, moved in impact.service_levels.items():
            if before.get(name) != after.get(name):
                moved.counts[before.get(name), after.get(name)] += 1
    if old.stage != new.stage:
        impact.stages.counts[old.stage, new.stage] += 1
    if old.owner != new.owner:
        impact.owners.counts[old.owner, new.owner] += 1


def kpis_available() -> bool:
    """Whether this slaengine computes KPIs (`slaengine.kpis` and `Agreement.kpis`)."""
    return importlib.util.find_spec("slaengine.kpis") is not None and hasattr(Agreement, "kpis")


def _kpis(impact: Impact, before: Agreement, after: Agreement, leads: LeadSource,
          now: datetime) -> None:
    if not kpis_available():
        impact.kpi_note = "KPI impact skipped: this version of slaengine does not compute KPIs"
        return
    values = [_kpi_values(agreement, leads, now) for agreement in (before, after)]
    for name in dict.fromkeys([*values[0], *values[1]]):
        kpi = after.spec.kpis.get(name) or before.spec.kpis[name]
        impact.kpis.append(KpiImpact(name, kpi.title, values[0].get(name),
                                     values[1].get(name), kpi.unit))


def _kpi_values(agreement: Agreement, leads: LeadSource, now: datetime) -> dict[str, Any]:
    report: Any = agreement.kpis(leads(), now)  # type: ignore[attr-defined,unused-ignore]
    return {name: result.value for name, result in report.kpis.items()}
