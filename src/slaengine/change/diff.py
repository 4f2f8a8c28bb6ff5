"""What changed in meaning between two versions of an agreement, in plain language.

Pure: two validated `AgreementSpec`s in, a list of `Change`s out. Sections are compared keyed
(definitions, levels, fields by id; stages by id and order; bands by label; holidays by date)
on the models the digest is taken over, so formatting never shows and every change of meaning
does. A condition tree is compared node by node: a changed threshold is reported as that one
test (`MQL: engagement score at least 40 → at least 50`), added and removed sub-conditions by
position. What no section words specially is still reported, generically, so the diff is
empty exactly when the digests are equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..agreement.checks.reviews import semver_key
from ..agreement.describe import definition_short_label, score_label
from ..agreement.models import AgreementSpec
from ..agreement.models.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    NotCondition,
    ScoreCondition,
    children,
)
from .changes import (
    MAJOR_SECTIONS,
    SECTIONS,
    Bump,
    Change,
    Differ,
    Effect,
    Kind,
    Severity,
    commitment_severity,
    direct_severity,
    flip,
    leaf_effect,
    plain,
    same,
)
from .sections import SECTION_DIFFS, combine


@dataclass(frozen=True)
class Consequence:
    """A definition or service level that nobody edited, changed through one that was:
    `ICP fit` narrows because the `Excluded contact` it excludes widens."""

    section: str
    key: str
    subject: str
    severity: Severity
    through: str  # the edited entry it follows from

    @property
    def text(self) -> str:
        return f"{self.subject} {self.severity}, through {self.through}"

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "key": self.key, "subject": self.subject,
                "severity": self.severity, "through": self.through, "text": self.text}


@dataclass
class AgreementDiff:
    """The changes between two agreements, and what they imply for the entries using them."""

    before: AgreementSpec
    after: AgreementSpec
    changes: list[Change] = field(default_factory=list)
    consequences: list[Consequence] = field(default_factory=list)

    @property
    def bump(self) -> Bump:
        return suggested_bump(self.changes, self.consequences)

    def by_section(self) -> Iterator[tuple[str, list[Change]]]:
        for section in [*SECTIONS, *sorted({c.section for c in self.changes} - set(SECTIONS))]:
            found = [c for c in self.changes if c.section == section]
            if found:
                yield section, found


def _uses(node: Condition, polarity: int, definitions: dict[str, Effect],
          scores: dict[str, Effect]) -> Iterator[tuple[Effect, str, str]]:
    """The effects reaching a condition through the definitions and scores it uses."""
    if isinstance(node, DefinitionCondition) and node.definition in definitions:
        yield flip(definitions[node.definition], polarity), "definitions", node.definition
    elif isinstance(node, ScoreCondition) and node.score in scores:
        up = scores[node.score]  # `widens`: scores go up
        effect: Effect = (up if node.op in ("gt", "gte") else flip(up, -1)
                          if node.op in ("lt", "lte") else "mixed")
        yield flip(effect, polarity), "scores", node.score
    elif isinstance(node, NotCondition):
        yield from _uses(node.not_, -polarity, definitions, scores)
    elif isinstance(node, AllCondition | AnyCondition):
        for child in children(node):
            yield from _uses(child, polarity, definitions, scores)


def consequences(diff: AgreementDiff) -> list[Consequence]:
    """Definitions that narrow and service levels that tighten only through what they use."""
    spec = diff.after
    effects: dict[str, Effect] = {}
    scores: dict[str, Effect] = {}
    for change in diff.changes:
        if change.severity in ("narrows", "widens") and change.section in (
                "definitions", "scores") and change.key in getattr(spec, change.section):
            target = effects if change.section == "definitions" else scores
            previous = target.get(change.key)
            target[change.key] = (change.severity if previous in (None, change.severity)
                                  else "mixed")
    direct = dict(effects)
    labels: dict[str, tuple[Effect, str, str]] = {}
    for _ in range(len(spec.definitions) + 1):  # definitions use each other without cycles
        for name, definition in spec.definitions.items():
            found = list(_uses(definition.when, 1, effects, scores))
            if not found:
                continue
            marks = {e for e, _, _ in found} | ({direct[name]} if name in direct else set())
            effects[name] = marks.pop() if len(marks) == 1 else "mixed"
            if name not in direct:
                labels[name] = found[0]
    out: list[Consequence] = []
    for name, (_, section, through) in labels.items():
        if effects[name] != "widens":
            out.append(Consequence("definitions", name, definition_short_label(spec, name),
                                   direct_severity(effects[name]), _label(spec, section, through)))
    for name, level in spec.service_levels.items():
        if level.applies_when is None:
            continue
        reached = list(_uses(level.applies_when, 1, effects, scores))
        severity = commitment_severity(combine([e for e, _, _ in reached])) if reached else None
        if severity == "tightens":
            out.append(Consequence("service_levels", name, level.title, severity,
                                   _label(spec, reached[0][1], reached[0][2])))
    return out


def _label(spec: AgreementSpec, section: str, key: str) -> str:
    return definition_short_label(spec, key) if section == "definitions" else score_label(
        spec, key)


def diff_agreements(before: AgreementSpec, after: AgreementSpec) -> AgreementDiff:
    """Every change of meaning from `before` to `after`, section by section."""
    differ = Differ(before, after)
    old, new = plain(before), plain(after)
    for name in [*old, *(k for k in new if k not in old)]:
        if same(old.get(name), new.get(name)):
            continue
        count = len(differ.changes)
        handler = SECTION_DIFFS.get(name)
        if handler is not None:
            handler(differ, name)
        if len(differ.changes) == count:  # nothing worded it: say it generically
            section = name if name in SECTIONS else "agreement"
            differ.generic(section, "" if section == "agreement" else name, name,
                           SECTIONS.get(name, "Agreement"), old.get(name), new.get(name))
    result = AgreementDiff(before, after, differ.changes)
    result.consequences = consequences(result)
    return result


def suggested_bump(changes: list[Change], implied: list[Consequence] | None = None) -> Bump:
    """major: a definition (or a score it uses) narrows, or a service level (or its calendar)
    tightens, directly or through what it uses; minor: anything else but wording; patch:
    wording only; none: no change."""
    if not changes:
        return "none"
    if implied or any(c.severity in ("narrows", "tightens") and c.section in MAJOR_SECTIONS
                      for c in changes):
        return "major"
    return "minor" if any(not c.editorial for c in changes) else "patch"


def bump_version(version: str, bump: Bump) -> str:
    """`2.2.0` + minor → `2.3.0`; a version that is not semver is returned as it is."""
    key = semver_key(version)
    if key is None or bump in ("none",):
        return version
    major, minor, patch = key
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


__all__ = [
    "MAJOR_SECTIONS", "SECTIONS", "AgreementDiff", "Bump", "Change", "Consequence", "Kind",
    "Severity", "bump_version", "consequences", "diff_agreements", "leaf_effect", "plain",
    "same", "suggested_bump",
]
