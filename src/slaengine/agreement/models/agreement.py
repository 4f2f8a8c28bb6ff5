"""The agreement document as a whole: the sections every file contributes, merged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from pydantic import Field

from .common import FieldName, Identifier, IsoDate, StrictModel, Text
from .conditions import Condition, DefinitionCondition, ScoreCondition, walk
from .meeting import Meeting
from .sections import (
    Calendar,
    Definition,
    Disposition,
    FieldSpec,
    Kpi,
    LeadGuarantee,
    Party,
    PointsRule,
    RecycleRule,
    ReviewPolicy,
    Score,
    ServiceLevel,
    Stage,
)

ConditionPath = tuple[str | int, ...]

REQUIRED_SECTIONS: tuple[str, ...] = ("agreement", "version", "timezone", "parties", "fields")


class AgreementSpec(StrictModel):
    """Everything the two teams agree on; reviews and example tests live beside it."""

    agreement: Text
    version: Text
    effective: IsoDate | None = None
    description: str | None = None
    timezone: Text
    parties: Annotated[dict[Identifier, Party], Field(min_length=1)]
    review: ReviewPolicy = ReviewPolicy()
    calendars: dict[Identifier, Calendar] = {}
    fields: Annotated[dict[FieldName, FieldSpec], Field(min_length=1)]
    definitions: dict[Identifier, Definition] = {}
    scores: dict[Identifier, Score] = {}
    stage_field: FieldName = "stage"
    disposition_field: FieldName = "disposition"
    stages: list[Stage] = []
    service_levels: dict[Identifier, ServiceLevel] = {}
    kpis: dict[Identifier, Kpi] = {}
    dispositions: dict[Identifier, Disposition] = {}
    recycle: dict[Identifier, RecycleRule] = {}
    lead_guarantee: LeadGuarantee | None = None
    meetings: dict[Identifier, Meeting] = {}

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)


def condition_roots(spec: AgreementSpec) -> Iterator[tuple[Condition, ConditionPath]]:
    """Every condition tree of the agreement, with the path where it is written."""
    for name, definition in spec.definitions.items():
        yield definition.when, ("definitions", name, "when")
    for name, score in spec.scores.items():
        for i, rule in enumerate(score.rules):
            when = getattr(rule, "when", None)
            if when is not None:
                yield when, ("scores", name, "rules", i, "when")
        if score.calibration is not None:
            yield score.calibration.converted, ("scores", name, "calibration", "converted")
    for name, level in spec.service_levels.items():
        if level.applies_when is not None:
            yield level.applies_when, ("service_levels", name, "applies_when")
    for name, recycle in spec.recycle.items():
        yield recycle.when, ("recycle", name, "when")
    for name, kpi in spec.kpis.items():
        if kpi.where is not None:
            yield kpi.where, ("kpis", name, "where")
        if kpi.ratio is not None:
            yield kpi.ratio.numerator, ("kpis", name, "ratio", "numerator")
            yield kpi.ratio.denominator, ("kpis", name, "ratio", "denominator")


def condition_nodes(spec: AgreementSpec) -> Iterator[tuple[Condition, ConditionPath]]:
    """Every node of every condition tree, with its full path."""
    for root, root_path in condition_roots(spec):
        for node, rel in walk(root):
            yield node, root_path + rel


Node = tuple[str, str]  # ("definition" | "score", name)


def references(spec: AgreementSpec, node: Node) -> list[Node]:
    """The definitions and scores a definition's condition, or a score's rules, refer to."""
    kind, name = node
    roots = ([spec.definitions[name].when] if kind == "definition" else
             [r.when for r in spec.scores[name].rules if isinstance(r, PointsRule)])
    found: list[Node] = []
    for root in roots:
        for sub, _ in walk(root):
            if isinstance(sub, DefinitionCondition):
                found.append(("definition", sub.definition))
            elif isinstance(sub, ScoreCondition):
                found.append(("score", sub.score))
    return found
