"""What every page builder shares: the agreement, links between pages, criteria as lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from ..agreement.describe import (
    definition_label,
    describe,
    field_label,
    humanize,
    score_label,
    shown_children,
    stage_label,
)
from ..agreement.models import (
    AgreementSpec,
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    FieldCondition,
    NotCondition,
    Review,
    ScoreCondition,
)
from ..agreement.models.agreement import condition_roots
from ..agreement.models.conditions import walk
from ..api import Agreement
from .markdown import Md, code, escape, indent, link, text_with_code


@dataclass(frozen=True)
class SignatureState:
    """How one approval's signature checked out: the key that made it, and whether it counts."""

    fingerprint: str | None
    verified: bool
    problem: str | None


@dataclass(frozen=True)
class Site:
    """The agreement being published and the date its status is told as of."""

    agreement: Agreement
    today: date
    # Per review date (ISO), the changes of meaning since the previous review's approved
    # text, worked out by the diff; absent when that text could not be found.
    review_changes: Mapping[str, list[str]] = field(default_factory=dict)
    # Per review date (ISO), each approval's signature as verified (in `approvals` order);
    # absent when the signatures were not checked (no ssh-keygen, or not asked for).
    signatures: Mapping[str, list[SignatureState]] = field(default_factory=dict)

    @property
    def spec(self) -> AgreementSpec:
        return self.agreement.spec

    @property
    def reviews(self) -> list[Review]:
        return self.agreement.reviews

    @cached_property
    def used_by(self) -> dict[str, list[tuple[str, str]]]:
        """For each definition, what refers to it: (label, href from agreement/)."""
        spec = self.spec
        found: dict[str, list[tuple[str, str]]] = {name: [] for name in spec.definitions}

        def add(name: str, entry: tuple[str, str]) -> None:
            if name in found and entry not in found[name]:
                found[name].append(entry)

        for root, path in condition_roots(spec):
            target = _owner(spec, str(path[0]), str(path[1]))
            for name in references(root).definitions:
                add(name, target)
        for stage in spec.stages:
            if stage.requires:
                add(stage.requires, (f"{stage_label(spec, stage.id)} (stage)",
                                     f"lifecycle.md#stage-{stage.id}"))
        guarantee = spec.lead_guarantee
        if guarantee is not None and guarantee.requires:
            add(guarantee.requires, (guarantee.title, "dispositions.md#lead-guarantee"))
        return found


def _owner(spec: AgreementSpec, section: str, name: str) -> tuple[str, str]:
    """Where a condition tree is written: a definition, score, level, rule or KPI."""
    if section == "definitions":
        return definition_label(spec, name), f"definitions/{name}.md"
    if section == "scores":
        return score_label(spec, name), f"scoring.md#{name}"
    if section == "service_levels":
        return spec.service_levels[name].title + " (service level)", f"service-levels.md#{name}"
    if section == "recycle":
        return spec.recycle[name].title + " (recycle rule)", f"dispositions.md#recycle-{name}"
    if section == "kpis":
        return spec.kpis[name].title + " (KPI)", f"kpis.md#{name}"
    return f"{humanize(section)}: {humanize(name)}", "index.md"  # a section added later


@dataclass(frozen=True)
class References:
    """The names a condition tree refers to, each once, in the order written."""

    definitions: list[str]
    scores: list[str]
    fields: list[str]
    negated: set[str]  # definitions that appear under an odd number of `not`s: exclusions


def references(root: Condition) -> References:
    definitions: list[str] = []
    scores: list[str] = []
    fields: list[str] = []
    negated: set[str] = set()
    for node, path in walk(root):
        if isinstance(node, DefinitionCondition) and node.definition not in definitions:
            definitions.append(node.definition)
            if path.count("not") % 2:
                negated.add(node.definition)
        elif isinstance(node, ScoreCondition) and node.score not in scores:
            scores.append(node.score)
        elif isinstance(node, FieldCondition) and node.field not in fields:
            fields.append(node.field)
    return References(definitions, scores, fields, negated)


def relative(href: str, depth: int) -> str:
    """A link written from agreement/ as seen from a page `depth` folders further down."""
    return "../" * depth + href


def linked_description(node: Condition, spec: AgreementSpec, depth: int) -> Md:
    """`describe`'s words for one node, with the definition or score it names linked."""
    text = describe(node, spec)
    target = node.not_ if isinstance(node, NotCondition) else node
    if isinstance(target, DefinitionCondition):
        label = definition_label(spec, target.definition)
        href = relative(f"definitions/{target.definition}.md", depth)
    elif isinstance(target, ScoreCondition):
        label = score_label(spec, target.score)
        href = relative(f"scoring.md#{target.score}", depth)
    else:
        return text_with_code(text)
    at = text.find(label)
    if at < 0:
        return text_with_code(text)
    before, after = text[:at], text[at + len(label):]
    return Md(text_with_code(before) + link(label, href) + text_with_code(after))


def criteria(root: Condition, spec: AgreementSpec, depth: int = 0) -> Md:
    """A condition tree as a nested Markdown list, in `describe`'s words.

    `not` over a single test is one line (`Is not an Excluded contact`); its child is not
    repeated underneath as `describe_tree` does for `explain`, where each line shows a value.
    """
    lines: list[str] = []

    def visit(node: Condition, level: int) -> None:
        lines.append(f"{indent(level)}- {linked_description(node, spec, depth)}")
        if isinstance(node, NotCondition) and not isinstance(
                node.not_, AllCondition | AnyCondition | NotCondition):
            return
        for child in shown_children(node):
            visit(child, level + 1)

    visit(root, 0)
    return Md("\n".join(lines))


def field_ref(spec: AgreementSpec, name: str) -> Md:
    """`Became an MQL (mql_at)`: the field's title and the column name people query."""
    return Md(f"{escape(field_label(spec, name))} ({code(name)})")


def or_dash(value: object) -> object:
    """An empty table cell reads as a dash."""
    return value if value not in (None, "", [], ()) else "—"


__all__ = ["References", "Site", "criteria", "field_ref", "linked_description", "or_dash",
           "references", "relative"]
