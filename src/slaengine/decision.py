"""The `Decision`: everything the agreement says about one lead, immutable and traceable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from .coerce import RecordError

if TYPE_CHECKING:
    from .evaluator import Engine
    from .explain import ConditionResult


@dataclass(frozen=True, slots=True)
class Violation:
    """A way the lead's record contradicts the agreement (e.g. recorded as SQL, meets no SQL)."""

    code: str
    message: str
    stage: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "stage": self.stage, "message": self.message}


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
           levels: Mapping[str, Any], errors: tuple[RecordError, ...]) -> dict[str, Any]:
    """The `evaluate --format jsonl` record (DESIGN.md's public contract), built in one place."""
    return {
        "id": key,
        "version": engine.version,
        "digest": engine.digest,
        "definitions": verdicts,
        "scores": scores,
        "bands": bands,
        "stage": stage,
        "owner": owner,
        "violations": [v.to_json() for v in violations] if violations else [],
        "service_levels": {k: v.to_json() for k, v in levels.items()} if levels else {},
        "errors": [e.to_json() for e in errors] if errors else [],
    }


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
    service_levels: Mapping[str, Any]
    values: Mapping[str, Any]
    now: datetime
    engine: Engine

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

    def explanation(self, definition: str) -> ConditionResult:
        """The explained condition tree of one definition for this lead."""
        return self.engine.explain(self, definition)

    def to_json(self) -> dict[str, Any]:
        """The `evaluate --format jsonl` record (DESIGN.md's public contract)."""
        return record(self.engine, self.id, self.verdicts, self.score_values, self.band_values,
                      self.stage, self.owner, self.violations, self.service_levels, self.errors)

