"""Findings with a place: `Location`, `Diagnostic`, and the one error that carries them."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from ..files import FileRefused


class Severity(StrEnum):
    """How serious a finding is; `--strict` turns warnings into errors."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A point in an agreement file, 1-based like every editor shows it."""

    file: str
    line: int = 0
    col: int = 0

    def display(self, relative_to: Path | None = None) -> str:
        path = self.file
        base = relative_to if relative_to is not None else Path.cwd()
        try:
            rel = os.path.relpath(path, base)
            if not rel.startswith(".."):
                path = rel
        except ValueError:  # another drive on Windows
            pass
        if self.line <= 0:
            return path
        return f"{path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding: a stable kebab-case `code`, a one-line message, where, and how to fix it."""

    code: str
    severity: Severity
    message: str
    location: Location | None = None
    hint: str | None = None
    # Other places that matter for the same finding (e.g. the first of two duplicate keys).
    related: tuple[Location, ...] = field(default=())

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location or Location("")
        return (loc.file, loc.line, loc.col, self.code, self.message)

    def format(self, relative_to: Path | None = None) -> str:
        """The `path:line:col: error: message [code]` line every tool prints."""
        where = self.location.display(relative_to) if self.location else "<agreement>"
        return f"{where}: {self.severity.value}: {self.message} [{self.code}]"

    def as_error(self) -> Diagnostic:
        return replace(self, severity=Severity.ERROR)

    def to_json(self, relative_to: Path | None = None) -> dict[str, object]:
        loc = self.location
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": loc.display(relative_to).split(":")[0] if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
            "hint": self.hint,
        }


def error(code: str, message: str, location: Location | None = None,
          hint: str | None = None, related: tuple[Location, ...] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, location, hint, related)


def warning(code: str, message: str, location: Location | None = None,
            hint: str | None = None, related: tuple[Location, ...] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, location, hint, related)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by place, duplicates removed, so output is stable run to run."""
    unique = {(d.sort_key(), d.severity): d for d in diagnostics}
    return [unique[k] for k in sorted(unique, key=lambda k: k[0])]


def did_you_mean(name: str, candidates: Iterable[str], *, list_known: bool = True) -> str | None:
    """A `did you mean ...?` hint when a close match exists, else the known names (if few)."""
    options = sorted(set(candidates))
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean `{close[0]}`?"
    if list_known and options and len(options) <= 12:
        return "known: " + ", ".join(f"`{o}`" for o in options)
    return None


class AgreementError(Exception):
    """Raised when an agreement cannot be loaded; carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sort_diagnostics(diagnostics)
        first = self.diagnostics[0].format() if self.diagnostics else "invalid agreement"
        more = len(self.diagnostics) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]


class UsageError(FileRefused):
    """Input the tool cannot read at all (a missing folder, an unreadable file): exit 2."""
