"""What every semantic check sees: the models, where each value was written, and today."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from ..diagnostics import Diagnostic, Location, did_you_mean, error
from ..loader import LoadedAgreement, PathKey
from ..models import AgreementSpec, MeetingRecord, Review, TestSuite
from ..models.agreement import condition_nodes, condition_roots

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
    meetings: list[MeetingRecord] = field(default_factory=list)

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

__all__ = ["Check", "CheckContext", "condition_nodes", "condition_roots"]
