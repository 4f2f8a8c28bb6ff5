"""The `Decision`: everything the agreement says about one lead, immutable and traceable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..agreement.models import AgreementSpec
from .clocks import ClockReading, Clocks, Reading, reading_json
from .coerce import RecordError
from .recycling import Credit, Recycle
from .violations import Violation

__all__ = ["Decision", "DefinitionVerdict", "ScoreResult", "Violation", "record"]

if TYPE_CHECKING:
    from .explain import ConditionResult


class Engine(Protocol):
    """What a decision reads from the engine that made it (`evaluator.Engine` is one).

    A protocol rather than the class itself, so that this module does not import the
    evaluator that imports it.
    """

    @property
    def spec(self) -> AgreementSpec: ...
    @property
    def tz(self) -> tzinfo: ...
    @property
    def version(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def definition_names(self) -> Sequence[str]: ...
    @property
    def clocks(self) -> Clocks: ...
    def explain(self, decision: Decision, definition: str) -> ConditionResult: ...


class DefinitionVerdict(NamedTuple):
    """Whether a definition holds; `explain()` says why, condition by condition."""

    name: str
    matched: bool
    decision: Decision

    def explain(self) -> list[ConditionResult]:
        """Every condition of the definition with its verdict and actual value, parents first."""
        return self.decision.explanation(self.name).flatten()

    def __bool__(self) -> bool:
        return self.matched


class ScoreResult(NamedTuple):
    """A score's total and the band it falls in."""

    value: int | float
    band: str | None


def record(engine: Engine, key: Any, verdicts: Mapping[str, bool],
           scores: Mapping[str, int | float], bands: Mapping[str, str | None],
           stage: str | None, owner: str | None, violations: tuple[Violation, ...],
           readings: tuple[Reading, ...], recycle: Recycle | None, credit: Credit | None,
           errors: tuple[RecordError, ...],
           warnings: tuple[RecordError, ...] = ()) -> dict[str, Any]:
    """The `evaluate --format jsonl` record (DESIGN.md's public contract), built in one place.

    `warnings` is written only when there are some, so records of clean data stay as they were.
    """
    rec = {
        "id": key,
        "version": engine.version,
        "digest": engine.digest,
        "definitions": verdicts,
        "scores": scores,
        "bands": bands,
        "stage": stage,
        "owner": owner,
        "violations": [v.to_json() for v in violations] if violations else [],
        "service_levels": dict(zip(engine.clocks.names, map(reading_json, readings),
                                   strict=True)) if readings else {},
        "recycle": recycle.to_json() if recycle is not None else None,
        "credit": credit.to_json() if credit is not None else None,
        "errors": [e.to_json() for e in errors] if errors else [],
    }
    if warnings:
        rec["warnings"] = [w.to_json() for w in warnings]
    return rec


class Decision(NamedTuple):
    """The verdicts on one lead, with the agreement version and digest that produced them."""

    id: Any
    stage: str | None
    owner: str | None
    violations: tuple[Violation, ...]
    errors: tuple[RecordError, ...]
    verdicts: Mapping[str, bool]
    score_values: Mapping[str, int | float]
    band_values: Mapping[str, str | None]
    readings: tuple[Reading, ...]  # one per service level, in the agreement's order
    recycle: Recycle | None
    credit: Credit | None
    values: Mapping[str, Any]
    now: datetime
    engine: Engine
    warnings: tuple[RecordError, ...] = ()  # read and used, but suspect (value-not-allowed)

    @property
    def version(self) -> str:
        return self.engine.version

    @property
    def digest(self) -> str:
        return self.engine.digest

    @property
    def evaluated(self) -> bool:
        """False when the record could not be read at all (its errors say why)."""
        return bool(self.verdicts) or not self.engine.definition_names

    @property
    def definitions(self) -> dict[str, DefinitionVerdict]:
        return {n: DefinitionVerdict(n, v, self) for n, v in self.verdicts.items()}

    @property
    def scores(self) -> dict[str, ScoreResult]:
        bands = self.band_values
        return {n: ScoreResult(v, bands[n]) for n, v in self.score_values.items()}

    @property
    def service_levels(self) -> dict[str, ClockReading]:
        """Each service level's clock: status, due time, elapsed and remaining time."""
        clocks = self.engine.clocks
        return {name: clocks.reading(name, reading)
                for name, reading in zip(clocks.names, self.readings, strict=True)}

    def explanation(self, definition: str) -> ConditionResult:
        """The explained condition tree of one definition for this lead."""
        return self.engine.explain(self, definition)

    def to_json(self) -> dict[str, Any]:
        """The `evaluate --format jsonl` record (DESIGN.md's public contract)."""
        return record(self.engine, self.id, self.verdicts, self.score_values, self.band_values,
                      self.stage, self.owner, self.violations, self.readings, self.recycle,
                      self.credit, self.errors, self.warnings)

