"""What every semantic check sees: the models, where each value was written, and today."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from ..diagnostics import Diagnostic, Location, did_you_mean, error
from ..loader import LoadedAgreement, PathKey
from ..models import AgreementSpec, Review, TestSuite
from ..models.conditions import Condition, walk

TIMESTAMP_TYPES = frozenset({"datetime", "date"})
NUMERIC_TYPES = frozenset({"integer", "number"})


@dataclass(frozen=True)
class CheckContext:
    """Read-only input of the checks; `today` is None when date-based checks are off."""

    spec: AgreementSpec
    reviews: list[Review]
    tests: list[TestSuite]
    loaded: LoadedAgreement
    digest: str
    today: date | None

    def at(self, path: PathKey, *, key: bool = False) -> Location | None:
        return self.loaded.locate(path, key=key)

    # ---- references, each reported with a did-you-mean hint

    def unknown(self, kind: str, name: str, known: list[str], path: PathKey,
                extra_hint: str | None = None) -> Diagnostic:
        hint = did_you_mean(name, known) or extra_hint
        return error(f"unknown-{kind.replace(' ', '-')}", f"unknown {kind} `{name}`",
                     self.at(path), hint)

    def field_ref(self, name: str, path: PathKey) -> Iterator[Diagnostic]:
        if name not in self.spec.fields:
            yield self.unknown("field", name, list(self.spec.fields), path,
                               "declare it under `fields:` first")

    def timestamp_ref(self, name: str, path: PathKey, role: str) -> Iterator[Diagnostic]:
        """A field that must hold a date and time (stage entry, clock start/stop, cohort)."""
        spec = self.spec.fields.get(name)
        if spec is None:
            yield from self.field_ref(name, path)
        elif spec.type not in TIMESTAMP_TYPES:
            yield error("not-a-timestamp",
                        f"{role} `{name}` is a {spec.type} field, not a datetime",
                        self.at(path), f"declare `{name}` with `type: datetime`")

    def party_ref(self, name: str, path: PathKey) -> Iterator[Diagnostic]:
        if name not in self.spec.parties:
            yield self.unknown("party", name, list(self.spec.parties), path)

    def stage_ids(self) -> list[str]:
        return [s.id for s in self.spec.stages]


Check = Callable[[CheckContext], Iterator[Diagnostic]]


def condition_roots(spec: AgreementSpec) -> Iterator[tuple[Condition, PathKey]]:
    """Every condition tree of the agreement, with the path where it is written."""
    for name, definition in spec.definitions.items():
        yield definition.when, ("definitions", name, "when")
    for name, score in spec.scores.items():
        for i, rule in enumerate(score.rules):
            when = getattr(rule, "when", None)
            if when is not None:
                yield when, ("scores", name, "rules", i, "when")
    for name, level in spec.service_levels.items():
        if level.applies_when is not None:
            yield level.applies_when, ("service_levels", name, "applies_when")
    for name, kpi in spec.kpis.items():
        if kpi.where is not None:
            yield kpi.where, ("kpis", name, "where")
        if kpi.ratio is not None:
            yield kpi.ratio.numerator, ("kpis", name, "ratio", "numerator")
            yield kpi.ratio.denominator, ("kpis", name, "ratio", "denominator")


def condition_nodes(spec: AgreementSpec) -> Iterator[tuple[Condition, PathKey]]:
    """Every node of every condition tree, with its full path."""
    for root, root_path in condition_roots(spec):
        for node, rel in walk(root):
            yield node, root_path + rel
