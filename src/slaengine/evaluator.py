"""Evaluate leads: coerce the record, run the compiled agreement, place it in its stage."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from .coerce import Coercer, RecordError
from .compiler.literals import as_instant
from .compiler.python import CompiledAgreement, compile_agreement
from .decision import Decision, Violation
from .describe import definition_label
from .explain import ConditionResult, Interpreter
from .leads import RawRecord
from .loader import LoadedAgreement
from .models import AgreementSpec

_NO_VIOLATIONS: tuple[Violation, ...] = ()
_NO_ERRORS: tuple[RecordError, ...] = ()
_EMPTY: Mapping[str, Any] = {}


class Lifecycle:
    """Where a lead stands: its recorded stage, that stage's owner, and what contradicts it."""

    def __init__(self, spec: AgreementSpec, definition_index: Mapping[str, int]):
        self.spec = spec
        self.stage_field = spec.stage_field
        self.index = {s.id: i for i, s in enumerate(spec.stages)}
        self.by_time = [(s.entered_at, s.id) for s in reversed(spec.stages) if s.entered_at]
        self.requires = [definition_index[s.requires] if s.requires else None
                         for s in spec.stages]
        disposition = spec.disposition_field
        self.disposition_field = disposition if disposition in spec.fields else None
        # For each stage, the later stages a lead could already qualify for: those whose
        # requirement is new (not already required by this stage or an earlier one).
        self.later: list[list[tuple[int, int]]] = []
        for i in range(len(spec.stages)):
            seen = {r for r in self.requires[: i + 1] if r is not None}
            ahead = []
            for j in range(i + 1, len(spec.stages)):
                requirement = self.requires[j]
                if requirement is not None and requirement not in seen:
                    ahead.append((j, requirement))
                    seen.add(requirement)
            self.later.append(ahead)

    def recorded(self, values: Mapping[str, Any]) -> str | None:
        stage = values.get(self.stage_field)
        if stage is not None:
            return str(stage)
        for field, stage_id in self.by_time:
            if values.get(field) is not None:
                return stage_id
        return None

    def place(self, values: Mapping[str, Any], definitions: tuple[bool, ...]
              ) -> tuple[str | None, str | None, tuple[Violation, ...]]:
        stage = self.recorded(values)
        if stage is None:
            return None, None, _NO_VIOLATIONS
        i = self.index.get(stage)
        if i is None:
            return stage, None, (Violation(
                "unknown-stage", f"recorded stage `{stage}` is not a stage of the agreement",
                stage),)
        spec_stage = self.spec.stages[i]
        found: list[Violation] = []
        requirement = self.requires[i]
        if requirement is not None and not definitions[requirement]:
            needed = definition_label(self.spec, spec_stage.requires or "")
            found.append(Violation("stage-requirement-unmet",
                                   f"recorded as `{stage}` but does not meet {needed}", stage))
        for j, later_requirement in self.later[i]:
            if definitions[later_requirement]:
                target = self.spec.stages[j]
                found.append(Violation(
                    "handoff-pending",
                    f"qualifies for `{target.id}` but is still recorded as `{stage}`", stage))
                break
        if spec_stage.requires_disposition and self.disposition_field is not None:
            code = values.get(self.disposition_field)
            if code is None:
                found.append(Violation("missing-disposition",
                                       f"`{stage}` needs a disposition code, but none is recorded",
                                       stage))
            elif code not in self.spec.dispositions:
                found.append(Violation("unknown-disposition",
                                       f"disposition `{code}` is not one of the agreement's codes",
                                       stage))
        return stage, spec_stage.owner, tuple(found) if found else _NO_VIOLATIONS


class Engine:
    """One agreement compiled for evaluation; pure and safe to share between threads."""

    def __init__(self, spec: AgreementSpec, digest: str, loaded: LoadedAgreement | None = None,
                 mapping: Mapping[str, str] | None = None):
        self.spec, self.digest, self.loaded = spec, digest, loaded
        self.version = spec.version
        self.tz = ZoneInfo(spec.timezone)
        self.compiled: CompiledAgreement = compile_agreement(spec, self.tz, loaded,
                                                             name=f"{spec.version} {digest[7:19]}")
        self.definition_names = self.compiled.definition_names
        self.score_names = self.compiled.score_names
        self.coerce = Coercer(spec.fields, self.tz, mapping)
        self.lifecycle = Lifecycle(spec, {n: i for i, n in enumerate(self.definition_names)})
        self.key_field = self.coerce.key_field

    @cached_property
    def interpreter(self) -> Interpreter:
        return Interpreter(self.spec, self.tz, self.loaded)

    def instant(self, now: datetime) -> datetime:
        """`now` as an aware UTC instant; a naive `now` is read in the agreement's timezone."""
        return as_instant(now, self.tz)

    def decide(self, values: dict[str, Any], errors: tuple[RecordError, ...],
               now: datetime) -> Decision:
        """The decision on an already coerced record; `now` must come from `instant()`."""
        definitions, scores, bands = self.compiled.run(values, now)
        stage, owner, violations = self.lifecycle.place(values, definitions)
        key = values.get(self.key_field) if self.key_field else None
        return Decision(key, stage, owner, violations, errors, definitions, scores, bands,
                        _EMPTY, values, now, self)

    def unreadable(self, error: RecordError, now: datetime) -> Decision:
        return Decision(None, None, None, _NO_VIOLATIONS, (error,), (), (), (), _EMPTY, _EMPTY,
                        now, self)

    def evaluate(self, lead: Mapping[str, Any], now: datetime) -> Decision:
        values, errors = self.coerce(lead)
        return self.decide(values, tuple(errors) if errors else _NO_ERRORS, self.instant(now))

    def evaluate_many(self, leads: Iterable[Mapping[str, Any] | RawRecord],
                      now: datetime) -> Iterator[Decision]:
        """One decision per input record, in input order; unreadable records keep their place."""
        instant = self.instant(now)
        coerce, decide = self.coerce, self.decide
        for item in leads:
            lead: Mapping[str, Any]
            if isinstance(item, RawRecord):
                if item.data is None:
                    assert item.error is not None
                    yield self.unreadable(item.error, instant)
                    continue
                lead = item.data
            else:
                lead = item
            values, errors = coerce(lead)
            yield decide(values, tuple(errors) if errors else _NO_ERRORS, instant)

    def explain(self, decision: Decision, definition: str) -> ConditionResult:
        run = self.interpreter.run(decision.values, decision.now)
        result = run.explain(self.spec.definitions[definition].when)
        return result
