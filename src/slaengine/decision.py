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


class Decision(NamedTuple):
    """The verdicts on one lead, with the agreement version and digest that produced them."""

    id: Any
    stage: str | None
    owner: str | None
    violations: tuple[Violation, ...]
    errors: tuple[RecordError, ...]
    definition_values: tuple[bool, ...]
    score_values: tuple[int | float, ...]
    band_values: tuple[str | None, ...]
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
        return len(self.definition_values) == len(self.engine.definition_names)

    @property
    def definitions(self) -> dict[str, DefinitionVerdict]:
        names = self.engine.definition_names if self.evaluated else ()
        return {n: DefinitionVerdict(n, v, self) for n, v in zip(names, self.definition_values,
                                                                    strict=False)}

    @property
    def scores(self) -> dict[str, ScoreResult]:
        names = self.engine.score_names if self.evaluated else ()
        return {n: ScoreResult(v, b) for n, v, b in zip(names, self.score_values,
                                                        self.band_values, strict=False)}

    def explanation(self, definition: str) -> ConditionResult:
        """The explained condition tree of one definition for this lead."""
        return self.engine.explain(self, definition)

    def to_json(self) -> dict[str, Any]:
        """The `evaluate --format jsonl` record (DESIGN.md's public contract)."""
        engine = self.engine
        evaluated = self.evaluated
        return {
            "id": self.id,
            "version": engine.version,
            "digest": engine.digest,
            "definitions": dict(zip(engine.definition_names, self.definition_values,
                                    strict=False)) if evaluated else {},
            "scores": dict(zip(engine.score_names, self.score_values, strict=False)),
            "bands": dict(zip(engine.score_names, self.band_values, strict=False)),
            "stage": self.stage,
            "owner": self.owner,
            "violations": [v.to_json() for v in self.violations],
            "service_levels": {k: v.to_json() for k, v in self.service_levels.items()},
            "errors": [e.to_json() for e in self.errors],
        }
