"""`Agreement`: a validated agreement, the object every other part of slaengine works from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from .agreement.diagnostics import AgreementError, Diagnostic
from .agreement.loader import LoadedAgreement
from .agreement.models import AgreementSpec, MeetingRecord, Review, TestSuite
from .agreement.validator import ValidationResult, validate_folder
from .evaluate.decision import Decision
from .evaluate.evaluator import Engine
from .evaluate.leads import RawRecord
from .kpis import KpiReport, PeriodRange, compute_kpis


class Agreement:
    """A loaded agreement that passed validation (warnings are kept in `diagnostics`)."""

    def __init__(self, result: ValidationResult):
        if not result.ok or result.structured is None or result.digest is None:
            raise AgreementError(result.errors or result.diagnostics)
        self.spec: AgreementSpec = result.structured.spec
        self.reviews: list[Review] = sorted(result.structured.reviews, key=lambda r: r.date)
        self.tests: list[TestSuite] = result.structured.tests
        # The meetings held (`meetings/*.yaml`), oldest first; not part of the digest.
        self.meetings: list[MeetingRecord] = sorted(result.structured.meetings,
                                                    key=lambda m: (m.date, m.meeting))
        self.digest: str = result.digest
        self.diagnostics: list[Diagnostic] = result.diagnostics
        self.loaded: LoadedAgreement = result.loaded

    @property
    def root(self) -> Path:
        return self.loaded.root

    @property
    def name(self) -> str:
        return self.spec.agreement

    @property
    def version(self) -> str:
        return self.spec.version

    @cached_property
    def engine(self) -> Engine:
        """The compiled evaluator (built on first use, then reused)."""
        return Engine(self.spec, self.digest, self.loaded)

    def with_mapping(self, mapping: Mapping[str, str]) -> Engine:
        """An evaluator that reads each field from another column (`{field: column}`)."""
        return Engine(self.spec, self.digest, self.loaded, mapping)

    def evaluate(self, lead: Mapping[str, Any], now: datetime) -> Decision:
        """Classify, score and place one lead as of `now`. Pure and thread-safe.

        A value that cannot be read as its field's type is reported in `errors`
        and treated as missing; evaluation never raises on lead data.
        """
        return self.engine.evaluate(lead, now)

    def evaluate_many(self, leads: Iterable[Mapping[str, Any] | RawRecord],
                      now: datetime) -> Iterator[Decision]:
        """Decisions for a stream of leads, one per record, in input order."""
        return self.engine.evaluate_many(leads, now)

    def kpis(self, leads: Iterable[Mapping[str, Any] | RawRecord], now: datetime,
             period: str | PeriodRange | None = None) -> KpiReport:
        """Every KPI (value, target met, by period and by group) and every score's band
        calibration over `leads`, read once, as of `now`.

        `period` (`2026-10`, `2026-Q4`, `2026-W43`) keeps only the leads whose cohort
        timestamp falls in it; ValueError when it is not a period. The semantics are in
        `slaengine.kpis`; `report.to_json()` is the `kpis --format json` document.
        """
        return compute_kpis(self.engine, leads, now, period)

    def __repr__(self) -> str:
        return f"<Agreement {self.name!r} {self.version} {self.digest[:19]}>"


def load_agreement(path: Path | str = "agreement", *, today: date | None = None,
                   strict: bool = False) -> Agreement:
    """Load, validate and return an agreement folder.

    Raises `AgreementError` (with every diagnostic) when the agreement is invalid,
    and `UsageError` when the folder cannot be read at all.
    """
    return Agreement(validate_folder(path, today=today, strict=strict))
