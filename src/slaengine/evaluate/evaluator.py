"""Evaluate leads: coerce the record, run the compiled agreement, place it in its stage."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from ..agreement.describe import definition_label, stage_named
from ..agreement.loader import LoadedAgreement
from ..agreement.models import AgreementSpec
from ..agreement.models.sections import PerValueRule
from .allowed import AllowedValues
from .clocks import Clocks, Reading
from .coerce import Coercer, RecordError
from .compiler import Bound, CompiledAgreement, Early, compile_agreement
from .decision import Decision, Parts, Violation, record
from .explain import ConditionResult, Interpreter
from .leads import RawRecord
from .literals import ScoreNotANumber, as_instant
from .mapping import MappedCoercer, MappingFile
from .recycling import Credit, Recycle, Recycling

_NO_VIOLATIONS: tuple[Violation, ...] = ()
_NO_ERRORS: tuple[RecordError, ...] = ()
_EMPTY: Mapping[str, Any] = {}
_NO_READINGS: tuple[Reading, ...] = ()
_UNKNOWN_STAGES_KEPT = 256  # distinct unknown stage values whose violation is kept
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_YET = object()  # the `now` of the verdicts-only function before the first call


@dataclass(frozen=True, slots=True)
class _StagePlan:
    """What placing a lead in one stage involves, worked out once per agreement."""

    owner: str | None
    requires: str | None            # the definition the stage requires
    requires_label: str
    ahead: tuple[tuple[str, str], ...]  # (later stage, its new requirement), nearest first
    needs_disposition: bool

    @property
    def trivial(self) -> bool:
        return self.requires is None and not self.ahead and not self.needs_disposition


class Lifecycle:
    """Where a lead stands: its recorded stage, that stage's owner, and what contradicts it."""

    def __init__(self, spec: AgreementSpec):
        self.spec = spec
        self.stage_field = spec.stage_field
        self.by_time = tuple((s.entered_at, s.id) for s in reversed(spec.stages) if s.entered_at)
        disposition = spec.disposition_field
        self.disposition_field = disposition if disposition in spec.fields else None
        self.plans: dict[str, _StagePlan] = {}
        self._unknown: dict[str, tuple[Violation, ...]] = {}
        stages = spec.stages
        self.stage_names = {stage.id: stage_named(spec, stage.id) for stage in stages}
        for i, stage in enumerate(stages):
            # A later stage counts as "already qualified for" only through a requirement that
            # is new: not one this stage or an earlier one already requires.
            seen = {s.requires for s in stages[: i + 1] if s.requires}
            ahead = []
            for later in stages[i + 1:]:
                if later.requires and later.requires not in seen:
                    ahead.append((later.id, later.requires))
                    seen.add(later.requires)
            self.plans.setdefault(stage.id, _StagePlan(
                stage.owner, stage.requires,
                definition_label(spec, stage.requires) if stage.requires else "",
                tuple(ahead), stage.requires_disposition and self.disposition_field is not None))

    def unknown(self, stage: str) -> tuple[Violation, ...]:
        """The violation of a stage the agreement does not have.

        Made once per stage value (a violation is immutable): building it costs more than
        the rest of placing the lead, and an export usually repeats a few stage values, or
        all of them when the agreement has no `stages` at all.
        """
        found = self._unknown.get(stage)
        if found is None:
            found = (Violation("unknown-stage",
                               f"recorded stage `{stage}` is not a stage of the agreement",
                               stage),)
            if len(self._unknown) < _UNKNOWN_STAGES_KEPT:
                self._unknown[stage] = found
        return found

    def recorded(self, values: Mapping[str, Any]) -> str | None:
        stage = values.get(self.stage_field)
        if stage is not None:
            return str(stage)
        for field, stage_id in self.by_time:
            if values.get(field) is not None:
                return stage_id
        return None

    def place(self, values: Mapping[str, Any], verdicts: Mapping[str, bool]
              ) -> tuple[str | None, str | None, tuple[Violation, ...]]:
        stage = self.recorded(values)
        if stage is None:
            return None, None, _NO_VIOLATIONS
        plan = self.plans.get(stage)
        if plan is None:
            return stage, None, self.unknown(stage)
        if plan.trivial:
            return stage, plan.owner, _NO_VIOLATIONS
        found: list[Violation] = []
        if plan.requires is not None and not verdicts[plan.requires]:
            found.append(Violation("stage-requirement-unmet",
                                   f"recorded as {self.stage_names[stage]} but does not meet the "
                                   f"definition of {plan.requires_label}",
                                   stage))
        for later, requirement in plan.ahead:
            if verdicts[requirement]:
                found.append(Violation(
                    "handoff-pending",
                    f"qualifies for {self.stage_names[later]} but is still recorded as "
                    f"{self.stage_names[stage]}", stage))
                break
        if plan.needs_disposition:
            code = values.get(self.disposition_field or "")
            if code is None:
                found.append(Violation("missing-disposition",
                                       f"{self.stage_names[stage]} needs a disposition code, "
                                       "but none is recorded",
                                       stage))
            elif code not in self.spec.dispositions:
                found.append(Violation("unknown-disposition",
                                       f"disposition `{code}` is not one of the agreement's codes",
                                       stage))
        return stage, plan.owner, tuple(found) if found else _NO_VIOLATIONS


class _Habit:
    """Whether the caller reads whole decisions, judged over the last 64 made from their
    verdicts alone: when nearly all of them were read in full, the verdicts-only path is
    work done twice, and the next 4,096 decisions are made whole at once; then it looks
    again. Only speed depends on it (both paths give the same answers), so unlocked counts
    that threads may race on are good enough. Each decision costs a countdown."""

    __slots__ = ("completed", "countdown", "whole")
    LOOK_EVERY = 64
    WHOLE_FOR = 4096

    def __init__(self) -> None:
        self.completed, self.countdown, self.whole = 0, self.LOOK_EVERY, False

    def turn(self) -> None:
        """At the end of a look or of a whole stretch: decide the next one."""
        self.whole = not self.whole and self.completed * 8 >= self.LOOK_EVERY * 7
        self.countdown = self.WHOLE_FOR if self.whole else self.LOOK_EVERY
        self.completed = 0


class Engine:
    """One agreement compiled for evaluation; pure and safe to share between threads."""

    def __init__(self, spec: AgreementSpec, digest: str, loaded: LoadedAgreement | None = None,
                 mapping: Mapping[str, str] | None = None, *, kpis: bool = False):
        self.spec, self.digest, self.loaded, self.mapping = spec, digest, loaded, mapping
        self.version = spec.version
        self.tz = ZoneInfo(spec.timezone)
        self.kpis = kpis  # also compiles the KPIs' and calibrations' conditions (`for_kpis`)
        self.coerce = (MappedCoercer(spec.fields, self.tz, mapping)
                       if isinstance(mapping, MappingFile) and mapping.translates
                       else Coercer(spec.fields, self.tz, mapping))
        # The verdicts-only path reads columns as the plain coercer does; a mapping that
        # translates labels or date formats always takes the full path.
        self.compiled: CompiledAgreement = compile_agreement(
            spec, self.tz, loaded, name=f"{spec.version} {digest[7:19]}", kpis=kpis,
            columns=None if isinstance(self.coerce, MappedCoercer) else self.coerce.columns)
        self._early_slot: tuple[Any, datetime, Early | None] = (_NOT_YET, _EPOCH, None)
        self._habit = _Habit()
        self.definition_names = self.compiled.definition_names
        self.score_names = self.compiled.score_names
        self.allowed = AllowedValues(spec.fields, self.coerce.columns,
                                     mapping.labels if isinstance(mapping, MappingFile) else None,
                                     spec.stage_field)
        self.lifecycle = Lifecycle(spec)
        self.clocks = Clocks(spec, self.compiled.extra_paths, self.tz)
        self.recycling = Recycling(spec, self.compiled.extra_paths)
        self.key_field = self.coerce.key_field
        # The keys a list field may be read from: a decision made from its verdicts first
        # copies these lists with the lead, so a caller changing its list afterwards
        # changes nothing in the decision (text, numbers and datetimes cannot change).
        self._list_keys = tuple(dict.fromkeys(
            key for name, spec in spec.fields.items() if spec.type == "list"
            for key in (self.coerce.columns.get(name, name), name)))

    @cached_property
    def _kpi_engine(self) -> Engine:
        return Engine(self.spec, self.digest, self.loaded, self.mapping, kpis=True)

    def for_kpis(self) -> Engine:
        """This engine, with the KPIs' conditions compiled too (built once, then reused)."""
        return self if self.kpis else self._kpi_engine

    @cached_property
    def interpreter(self) -> Interpreter:
        return Interpreter(self.spec, self.tz, self.loaded)

    def instant(self, now: datetime) -> datetime:
        """`now` as an aware UTC instant; a naive `now` is read in the agreement's timezone.
        TypeError when it is not a datetime, ValueError when it is outside the years the
        business calendars cover (see `as_instant`)."""
        return as_instant(now, self.tz, now=True)

    def follow_up(self, values: Mapping[str, Any], verdicts: Mapping[str, bool],
                  extras: tuple[bool, ...], stage: str | None,
                  violations: tuple[Violation, ...], now: float
                  ) -> tuple[tuple[Reading, ...], Recycle | None, Credit | None,
                             tuple[Violation, ...]]:
        """The service-level clocks, recycling and guarantee credit of a placed lead."""
        readings, flagged = (self.clocks.read_flagged(values, extras, now) if self.clocks.names
                             else (_NO_READINGS, False))
        if flagged:
            for name, reading in zip(self.clocks.names, readings, strict=True):
                violations = (*violations, *self.clocks.stop_violations(name, reading, stage))
        if not self.recycling.active:
            return readings, None, None, violations
        return (readings, self.recycling.recycle(values, stage, extras),
                self.recycling.credit(values, verdicts), violations)

    def parts(self, values: dict[str, Any], errors: tuple[RecordError, ...], now: datetime,
              bound: Bound | None = None, warnings: tuple[RecordError, ...] = ()) -> Parts:
        """Everything about an already coerced record; `now` must come from `instant()`."""
        try:
            if bound is not None:
                verdicts, scores, bands, extras = bound(values)
            else:
                verdicts, scores, bands, extras = self.compiled.run(values, now)
        except ScoreNotANumber as exc:
            key = values.get(self.key_field) if self.key_field else None
            return Parts(key, None, None, _NO_VIOLATIONS,
                         (*errors, self.score_error(exc, values)), _EMPTY, _EMPTY, _EMPTY,
                         _NO_READINGS, None, None, values)
        stage, owner, violations = self.lifecycle.place(values, verdicts)
        readings, recycle, credit, violations = self.follow_up(
            values, verdicts, extras, stage, violations, now.timestamp())
        key = values.get(self.key_field) if self.key_field else None
        return Parts(key, stage, owner, violations, errors, verdicts, scores, bands,
                     readings, recycle, credit, values, warnings)

    def decide(self, values: dict[str, Any], errors: tuple[RecordError, ...],
               now: datetime, bound: Bound | None = None,
               warnings: tuple[RecordError, ...] = ()) -> Decision:
        """The decision on an already coerced record; `now` must come from `instant()`."""
        parts = self.parts(values, errors, now, bound, warnings)
        return Decision(self, now, parts.verdicts, None, parts)

    def complete(self, lead: Mapping[str, Any], now: datetime) -> Parts:
        """Everything about a raw lead, for a decision made from its verdicts alone."""
        self._habit.completed += 1
        return self._parts_of(lead, now, None)

    def _parts_of(self, lead: Mapping[str, Any], now: datetime, run: Bound | None) -> Parts:
        """Everything about a raw lead: coerced, its values checked, then `parts`."""
        values, errors = self.coerce(lead)
        return self.parts(values, tuple(errors) if errors else _NO_ERRORS, now, run,
                          self.allowed.check(values, lead) if self.allowed else _NO_ERRORS)

    def _early(self, now: datetime) -> tuple[datetime, Early | None]:
        """`now` as an instant, and the verdicts-only function bound to it (kept for the
        last `now` asked about, in one slot replaced whole, as `compiled.run` does)."""
        instant = self.instant(now)
        bind = self.compiled.bind_early
        early = bind(instant) if bind is not None else None
        self._early_slot = (now, instant, early)
        return instant, early

    def _full(self, lead: Mapping[str, Any], instant: datetime, run: Bound | None) -> Decision:
        parts = self._parts_of(lead, instant, run)
        return Decision(self, instant, parts.verdicts, None, parts)

    def score_error(self, exc: ScoreNotANumber, values: Mapping[str, Any]) -> RecordError:
        """The record's error for a score that is not a number, naming its rules' values."""
        score = self.spec.scores[exc.score]
        parts = [f"`{rule.field}` {values[rule.field]} x {rule.points_each} points"
                 for rule in score.rules
                 if isinstance(rule, PerValueRule) and values.get(rule.field) is not None]
        what = "is not a number" if exc.total != exc.total else "is too large to be a number"
        return RecordError("score-not-a-number",
                           f"the score `{exc.score}` {what} ({', '.join(parts) or 'its points'}); "
                           "no score, band or decision is given for this record")

    def unreadable(self, error: RecordError, now: datetime) -> Decision:
        return Decision(self, now, _EMPTY, None, Parts(
            None, None, None, _NO_VIOLATIONS, (error,), _EMPTY, _EMPTY, _EMPTY, _NO_READINGS,
            None, None, _EMPTY))

    def records(self, leads: Iterable[RawRecord], now: datetime) -> Iterator[dict[str, Any]]:
        """`evaluate_many(...)` straight to JSON records, without the Decision objects.

        The batch path: the same computation as `decide` + `Decision.to_json`, built in
        one step per record because at a million leads every object counts.
        """
        instant = self.instant(now)
        moment = instant.timestamp()
        coerce, run, place, follow_up, key_field = (
            self.coerce, self.compiled.bind(instant), self.lifecycle.place, self.follow_up,
            self.key_field or "")
        allowed = self.allowed.check if self.allowed else None
        for item in leads:
            if item.data is None:
                assert item.error is not None
                yield record(self, None, _EMPTY, _EMPTY, _EMPTY, None, None, _NO_VIOLATIONS,
                             _NO_READINGS, None, None, (item.error,))
                continue
            values, errors = coerce(item.data)
            try:
                verdicts, scores, bands, extras = run(values)
            except ScoreNotANumber as exc:
                yield record(self, values.get(key_field), _EMPTY, _EMPTY, _EMPTY, None, None,
                             _NO_VIOLATIONS, _NO_READINGS, None, None,
                             (*errors, self.score_error(exc, values)))
                continue
            stage, owner, violations = place(values, verdicts)
            readings, recycle, credit, violations = follow_up(values, verdicts, extras, stage,
                                                              violations, moment)
            yield record(self, values.get(key_field), verdicts, scores, bands, stage, owner,
                         violations, readings, recycle, credit,
                         tuple(errors) if errors else _NO_ERRORS,
                         allowed(values, item.data) if allowed is not None else _NO_ERRORS)

    def evaluate(self, lead: Mapping[str, Any], now: datetime) -> Decision:
        """A lead's decision. When its verdicts can be read straight from it (`early.py`),
        only they are worked out now, from a copy of the lead; the rest when first read
        (unless the caller has been reading nearly every decision whole: see `_Habit`)."""
        last, instant, early = self._early_slot
        # `fold` too: equal datetimes of one zone compare by wall time (see `compiler.run`);
        # the class first, as another kind of time may equal a datetime and have no fold.
        if last is not now and (now.__class__ is not last.__class__ or last != now
                                or last.fold != now.fold):
            instant, early = self._early(now)
        decision = self._verdicts_first(lead, instant, early)
        return decision if decision is not None else self._full(lead, instant, None)

    def evaluate_many(self, leads: Iterable[Mapping[str, Any] | RawRecord],
                      now: datetime, *, in_full: bool = False) -> Iterator[Decision]:
        """One decision per input record, in input order; unreadable records keep their place.
        Each is made as `evaluate` makes it, or, `in_full`, worked out whole at once (for a
        caller that reads every part of every decision)."""
        instant, early = self._early(now)
        early = None if in_full else early
        run, full, first = self.compiled.bind(instant), self._full, self._verdicts_first
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
            decision = first(lead, instant, early) if early is not None else None
            yield decision if decision is not None else full(lead, instant, run)

    def _verdicts_first(self, lead: Mapping[str, Any], instant: datetime,
                        early: Early | None) -> Decision | None:
        """The decision made from the lead's verdicts alone, the rest left for when it is
        read; None when it must be made whole (no early function, not a dict, text to read,
        a caller that reads decisions whole)."""
        habit = self._habit
        whole = habit.whole
        habit.countdown -= 1
        if habit.countdown <= 0:
            habit.turn()
        if early is None or whole or lead.__class__ is not dict:
            return None
        snapshot = lead.copy()
        if self._list_keys:
            for key in self._list_keys:
                value = snapshot.get(key)
                if value.__class__ is list:
                    snapshot[key] = value[:]
        try:
            verdicts = early(snapshot)
        except Exception:  # the full path gives the answer, or the error, for this lead
            return None
        return Decision(self, instant, verdicts, snapshot) if verdicts is not None else None

    def explain(self, decision: Decision, definition: str) -> ConditionResult:
        run = self.interpreter.run(decision.values, decision.now)
        result = run.explain(self.spec.definitions[definition].when)
        return result
