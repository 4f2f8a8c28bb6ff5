"""Where a lead stands, in SQL: recorded stage, owner, stage violations, recycling, credit.

The same rules as `evaluator.Lifecycle` and `recycling.Recycling`: the recorded stage is the
stage field's value, else the furthest stage (in funnel order) whose `entered_at` is set; a
stage's requirement, the first later stage the lead already qualifies for through a new
requirement (`handoff-pending`), and disposition codes where a stage needs one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlglot.expressions as exp

from ..agreement.models import AgreementSpec
from ..evaluate.evaluator import Lifecycle

Expr = exp.Expr


def _text(value: str) -> Expr:
    return exp.Literal.string(value)


def _case(pairs: list[tuple[Expr, Expr]], default: Expr | None = None) -> Expr:
    if not pairs:
        return default if default is not None else exp.cast(exp.null(), "VARCHAR")
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in pairs],
                    default=default if default is not None else exp.cast(exp.null(), "VARCHAR"))


def _present(value: Expr) -> Expr:
    return exp.Not(this=exp.Is(this=value, expression=exp.null()))


def _is(stage: Expr, stage_id: str) -> Expr:
    return exp.EQ(this=stage, expression=_text(stage_id))


def _is_not(stage: Expr, stage_id: str) -> Expr:
    """Python's `to != stage`, with a missing stage (None) differing from every id."""
    return exp.Paren(this=exp.or_(exp.Is(this=stage, expression=exp.null()),
                                  exp.NEQ(this=stage, expression=_text(stage_id))))


@dataclass
class Placement:
    unknown: Expr
    requirement_unmet: Expr
    handoff_to: Expr
    missing_disposition: Expr
    unknown_disposition: Expr

    def violations(self) -> list[Expr]:
        """The codes in the order the Python engine reports them (NULL when not found)."""
        return [
            _case([(self.unknown, _text("unknown-stage"))]),
            _case([(self.requirement_unmet, _text("stage-requirement-unmet"))]),
            _case([(_present(self.handoff_to), _text("handoff-pending"))]),
            _case([(self.missing_disposition, _text("missing-disposition")),
                   (self.unknown_disposition, _text("unknown-disposition"))]),
        ]


class LifecycleCompiler:
    def __init__(self, spec: AgreementSpec, field: Callable[[str], Expr],
                 definition: Callable[[str], Expr]):
        self.spec, self.field, self.definition = spec, field, definition
        self.lifecycle = Lifecycle(spec)
        stage_field = spec.fields.get(spec.stage_field)
        self.stage_field = spec.stage_field if stage_field is not None else None
        self.disposition = self.lifecycle.disposition_field

    def recorded(self) -> Expr:
        by_time = _case([(_present(self.field(f)), _text(stage_id))
                         for f, stage_id in self.lifecycle.by_time])
        if self.stage_field is None:
            return by_time
        return exp.Coalesce(this=self.field(self.stage_field), expressions=[by_time])

    def owner(self, stage: Expr) -> Expr:
        return _case([(_is(stage, stage_id), _text(plan.owner))
                      for stage_id, plan in self.lifecycle.plans.items() if plan.owner])

    def place(self, stage: Expr) -> Placement:
        plans = self.lifecycle.plans
        known = list(plans)
        unknown = (exp.and_(_present(stage), exp.Not(this=exp.In(
            this=stage, expressions=[_text(s) for s in known]))) if known
            else _present(stage))
        unmet = [exp.and_(_is(stage, s), exp.Not(this=self.definition(p.requires)))
                 for s, p in plans.items() if p.requires is not None]
        handoff = []
        for stage_id, plan in plans.items():
            if plan.ahead:
                target = _case([(self.definition(req), _text(later))
                                for later, req in plan.ahead])
                handoff.append((_is(stage, stage_id), target))
        needs = [s for s, p in plans.items() if p.needs_disposition]
        missing: Expr = exp.false()
        unknown_code: Expr = exp.false()
        if needs and self.disposition is not None:
            in_stage = exp.In(this=stage, expressions=[_text(s) for s in needs])
            code = self.field(self.disposition)
            missing = exp.and_(in_stage, exp.Is(this=code, expression=exp.null()))
            codes = list(self.spec.dispositions)
            valid = (exp.In(this=code, expressions=[_text(c) for c in codes])
                     if codes and self.spec.fields[self.disposition].type == "string"
                     else exp.false())
            unknown_code = exp.and_(in_stage, _present(code), exp.Not(this=valid))
        return Placement(
            exp.Coalesce(this=unknown, expressions=[exp.false()]),
            exp.Coalesce(this=exp.or_(*unmet), expressions=[exp.false()]) if unmet
            else exp.false(),
            _case(handoff),
            exp.Coalesce(this=missing, expressions=[exp.false()]),
            exp.Coalesce(this=unknown_code, expressions=[exp.false()]))

    # ---- recycling and the lead guarantee

    def recycle(self, stage: Expr, rules: dict[str, Expr]) -> tuple[Expr, Expr, Expr]:
        """`recycle_to`, `recycle_reason` and `recycle_source`: the disposition's route
        first, then the first recycle rule that holds, when the lead is not there yet."""
        found: list[tuple[Expr, str, str, Expr]] = []
        string_codes = (self.disposition is not None
                        and self.spec.fields[self.disposition].type == "string")
        if string_codes and self.disposition is not None:
            code = self.field(self.disposition)
            for name, disposition in self.spec.dispositions.items():
                test = exp.and_(exp.EQ(this=code, expression=_text(name)),
                                _is_not(stage, disposition.returns_to))
                found.append((test, disposition.returns_to, "disposition", _text(name)))
        for name, rule in self.spec.recycle.items():
            test = exp.and_(rules[name], _is_not(stage, rule.returns_to))
            found.append((test, rule.returns_to, "rule", _text(name)))
        tests = [(exp.Coalesce(this=t, expressions=[exp.false()]), to, why, src)
                 for t, to, why, src in found]
        return (_case([(t, _text(to)) for t, to, _, _ in tests]),
                _case([(t, _text(why)) for t, _, why, _ in tests]),
                _case([(t, src) for t, _, _, src in tests]))

    def credit(self) -> tuple[Expr, Expr]:
        """`credit_reason` and `credit_source` of the lead guarantee."""
        guarantee = self.spec.lead_guarantee
        if guarantee is None:
            return _case([]), _case([])
        handed = _present(self.field(guarantee.handoff))
        pairs: list[tuple[Expr, str, Expr]] = []
        guaranteed = [c for c, d in self.spec.dispositions.items() if d.lead_guarantee]
        if (guaranteed and self.disposition is not None
                and self.spec.fields[self.disposition].type == "string"):
            code = self.field(self.disposition)
            pairs.append((exp.Coalesce(this=exp.In(this=code, expressions=[
                _text(c) for c in guaranteed]), expressions=[exp.false()]), "disposition", code))
        if guarantee.requires is not None:
            pairs.append((exp.Not(this=self.definition(guarantee.requires)),
                          "requirement-unmet", _text(guarantee.requires)))
        reason = _case([(exp.and_(handed, t), _text(why)) for t, why, _ in pairs])
        source = _case([(exp.and_(handed, t), src) for t, _, src in pairs])
        return reason, source
