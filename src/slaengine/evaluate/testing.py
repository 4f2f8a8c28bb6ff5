"""Agreement tests (`agreement/tests/*.yaml`): run each example lead, compare, report coverage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..agreement.diagnostics import Location
from ..agreement.models import TestSuite
from ..agreement.models.testcase import ClockExpectation, TestCase
from .coerce import error_text
from .decision import Decision
from .evaluator import Engine


@dataclass(frozen=True)
class Mismatch:
    """One expectation the decision did not meet."""

    what: str          # e.g. `definitions.mql`, `stage`
    expected: Any
    actual: Any
    definition: str | None = None  # set when the mismatch is a definition verdict

    def line(self) -> str:
        return f"{self.what}: expected {_show(self.expected)}, got {_show(self.actual)}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


@dataclass(frozen=True)
class CaseResult:
    suite: int
    index: int
    case: TestCase
    location: Location | None
    decision: Decision | None
    mismatches: tuple[Mismatch, ...] = ()
    problem: str | None = None  # the case could not be run at all

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.problem is None


@dataclass
class TestReport:
    """The outcome of every case, and what no case exercises."""

    results: list[CaseResult] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed


def _compare(case: TestCase, decision: Decision) -> list[Mismatch]:
    expect = case.expect
    found: list[Mismatch] = []
    definitions = decision.definitions
    for name, wanted in expect.definitions.items():
        got = definitions[name].matched
        if got != wanted:
            found.append(Mismatch(f"definitions.{name}", wanted, got, name))
    scores = decision.scores
    for name, wanted_score in expect.scores.items():
        if scores[name].value != wanted_score:
            found.append(Mismatch(f"scores.{name}", wanted_score, scores[name].value))
    for name, wanted_band in expect.bands.items():
        if scores[name].band != wanted_band:
            found.append(Mismatch(f"bands.{name}", wanted_band, scores[name].band))
    if "stage" in expect.model_fields_set and decision.stage != expect.stage:
        found.append(Mismatch("stage", expect.stage, decision.stage))
    if "owner" in expect.model_fields_set and decision.owner != expect.owner:
        found.append(Mismatch("owner", expect.owner, decision.owner))
    if expect.violations is not None:
        codes = sorted(v.code for v in decision.violations)
        if codes != sorted(expect.violations):
            found.append(Mismatch("violations", sorted(expect.violations), codes))
    levels = decision.service_levels
    for name, expected_clock in expect.service_levels.items():
        clock = (expected_clock if isinstance(expected_clock, ClockExpectation)
                 else ClockExpectation(status=expected_clock))
        level = levels.get(name)
        status = level.status if level is not None else None
        if status != clock.status:
            found.append(Mismatch(f"service_levels.{name}", clock.status, status))
        due = level.due_at if level is not None else None
        if clock.due_at is not None and due != clock.due_at:
            found.append(Mismatch(f"service_levels.{name}.due_at", clock.due_at.isoformat(),
                                  _local(due, decision)))
        elapsed = level.elapsed_s if level is not None else None
        if clock.elapsed is not None and elapsed != clock.elapsed.seconds:
            found.append(Mismatch(f"service_levels.{name}.elapsed", clock.elapsed.words(),
                                  None if elapsed is None else _hours(elapsed)))
    if expect.recycle is not None:
        to = decision.recycle.to if decision.recycle is not None else False
        if to != expect.recycle:
            found.append(Mismatch("recycle", expect.recycle, to))
    if expect.credit is not None and (decision.credit is not None) != expect.credit:
        found.append(Mismatch("credit", expect.credit, decision.credit is not None))
    return found


def _local(moment: datetime | None, decision: Decision) -> str | None:
    return None if moment is None else moment.astimezone(decision.engine.tz).isoformat()


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} business hours"


def _coverage(engine: Engine, suites: list[TestSuite]) -> list[str]:
    expected: dict[str, set[bool]] = {name: set() for name in engine.definition_names}
    scored: set[str] = set()
    clocks: set[str] = set()
    for suite in suites:
        for case in suite.cases:
            for name, value in case.expect.definitions.items():
                expected.setdefault(name, set()).add(value)
            scored.update(case.expect.scores, case.expect.bands)
            clocks.update(case.expect.service_levels)
    gaps = []
    for name, seen in expected.items():
        if not seen:
            gaps.append(f"definition `{name}`: no case checks it")
        elif len(seen) == 1:
            side = "false" if True in seen else "true"
            gaps.append(f"definition `{name}`: no case expects it {side}")
    gaps.extend(f"score `{name}`: no case checks it" for name in engine.score_names
                if name not in scored)
    gaps.extend(f"service level `{name}`: no case checks it" for name in engine.spec.service_levels
                if name not in clocks)
    return gaps


def run_tests(engine: Engine, suites: list[TestSuite],
              locate: Any = None) -> TestReport:
    """Run every case of every suite; `locate(path)` turns a case path into a Location."""
    report = TestReport()
    for s, suite in enumerate(suites):
        for c, case in enumerate(suite.cases):
            where = locate(("tests", s, "cases", c)) if locate is not None else None
            now = case.now or suite.now
            if now is None:
                report.results.append(CaseResult(
                    s, c, case, where, None,
                    problem="no `now`: give the case or its file a `now:` so it is repeatable"))
                continue
            decision = engine.evaluate(case.lead, now)
            mismatches = _compare(case, decision)
            if decision.errors:
                errors = "; ".join(error_text(e.to_json()) for e in decision.errors)
                problem = f"the lead has unreadable values: {errors}"
                report.results.append(CaseResult(s, c, case, where, decision, tuple(mismatches),
                                                 problem=problem))
                continue
            report.results.append(CaseResult(s, c, case, where, decision, tuple(mismatches)))
    report.uncovered = _coverage(engine, suites)
    return report
