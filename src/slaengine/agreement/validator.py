"""Validation in three passes: the files (loader), their structure, then their meaning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .checks import ALL_CHECKS, CheckContext
from .diagnostics import Diagnostic, Severity, sort_diagnostics
from .digest import digest
from .loader import LoadedAgreement, load_folder
from .structure import Structured, check_structure


@dataclass(frozen=True)
class ValidationResult:
    """Every finding about an agreement, and its models when its structure is sound."""

    loaded: LoadedAgreement
    diagnostics: list[Diagnostic]
    structured: Structured | None
    digest: str | None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors


def _files_unreadable(loaded: LoadedAgreement) -> bool:
    # A file that could not be parsed leaves sections missing; checking the rest would only
    # report the consequences (a "missing section") instead of the cause.
    return any(d.severity is Severity.ERROR and d.code != "duplicate-key"
               for d in loaded.diagnostics)


def validate(loaded: LoadedAgreement, *, today: date | None = None,
             strict: bool = False) -> ValidationResult:
    """All findings at once, sorted by place; `strict` makes every warning an error."""
    found = list(loaded.diagnostics)
    structured: Structured | None = None
    content_digest: str | None = None
    if not _files_unreadable(loaded):
        structured, structure_findings = check_structure(loaded)
        found.extend(structure_findings)
    if structured is not None:
        content_digest = digest(structured.spec)
        ctx = CheckContext(structured.spec, structured.reviews, structured.tests, loaded,
                           content_digest, today, structured.meetings)
        for check in ALL_CHECKS:
            found.extend(check(ctx))
    if strict:
        found = [d.as_error() for d in found]
    return ValidationResult(loaded, sort_diagnostics(found), structured, content_digest)


def validate_folder(root: Path | str, *, today: date | None = None,
                    strict: bool = False) -> ValidationResult:
    """Load and validate an agreement folder; raises `UsageError` if the folder is missing."""
    return validate(load_folder(root), today=today, strict=strict)
