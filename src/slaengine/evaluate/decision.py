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

__all__ = ["Decision", "DefinitionVerdict", "Parts", "ScoreResult", "Violation", "record"]

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
    def complete(self, lead: Mapping[str, Any], now: datetime) -> Parts: ...


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


_new = tuple.__new__


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


class Parts(NamedTuple):
    """Everything the full path works out for a lead: the coerced values and their errors,
    verdicts, scores and bands, stage and owner, clocks, recycling and credit."""

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
    warnings: tuple[RecordError, ...] = ()  # read and used, but suspect (value-not-allowed)


class Decision:
    """The verdicts on one lead, with the agreement version and digest that produced them.

    The verdicts are worked out when the decision is made; the rest (values, scores, stage,
    clocks, ...) the first time any of it is read, from a copy of the lead taken then, so
    changing the lead afterwards changes nothing here. Immutable and safe to share between
    threads (two threads reading at once may both work the rest out; the answers are equal).
    """

    __slots__ = ("_lead", "_parts", "engine", "now", "verdicts")

    def __init__(self, engine: Engine, now: datetime, verdicts: Mapping[str, bool],
                 lead: Mapping[str, Any] | None = None, parts: Parts | None = None):
        self.engine = engine
        self.now = now
        self.verdicts = verdicts
        self._lead = lead
        self._parts = parts

    @property
    def _all(self) -> Parts:
        parts = self._parts
        if parts is None:
            assert self._lead is not None
            parts = self._parts = self.engine.complete(self._lead, self.now)
        return parts

    @property
    def id(self) -> Any:
        """The lead's key field value (None when the agreement has no key field)."""
        return self._all.id

    @property
    def stage(self) -> str | None:
        return self._all.stage

    @property
    def owner(self) -> str | None:
        return self._all.owner

    @property
    def violations(self) -> tuple[Violation, ...]:
        return self._all.violations

    @property
    def errors(self) -> tuple[RecordError, ...]:
        return self._all.errors

    @property
    def warnings(self) -> tuple[RecordError, ...]:
        return self._all.warnings

    @property
    def score_values(self) -> Mapping[str, int | float]:
        return self._all.score_values

    @property
    def band_values(self) -> Mapping[str, str | None]:
        return self._all.band_values

    @property
    def readings(self) -> tuple[Reading, ...]:
        return self._all.readings

    @property
    def recycle(self) -> Recycle | None:
        return self._all.recycle

    @property
    def credit(self) -> Credit | None:
        return self._all.credit

    @property
    def values(self) -> Mapping[str, Any]:
        """The lead's values as the agreement's fields read them (coerced)."""
        return self._all.values

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
        # A loop, not a comprehension (a function call of its own before Python 3.12), and
        # tuple.__new__, which the named tuple's constructor calls, at half the cost.
        found = {}
        for name, matched in self.verdicts.items():
            found[name] = _new(DefinitionVerdict, (name, matched, self))
        return found

    @property
    def scores(self) -> dict[str, ScoreResult]:
        parts = self._all
        bands = parts.band_values
        return {n: ScoreResult(v, bands[n]) for n, v in parts.score_values.items()}

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
        p = self._all
        return record(self.engine, p.id, self.verdicts, p.score_values, p.band_values,
                      p.stage, p.owner, p.violations, p.readings, p.recycle, p.credit,
                      p.errors, p.warnings)

    def __repr__(self) -> str:
        return f"<Decision {self.id!r} stage {self.stage!r}>"
