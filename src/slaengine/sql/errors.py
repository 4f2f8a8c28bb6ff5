"""`Unsupported`: what a SQL dialect cannot express exactly, named, instead of wrong SQL."""

from __future__ import annotations

from ..agreement.diagnostics import UsageError


class Unsupported(UsageError):
    """A construct the chosen dialect (or SQL in general) cannot express with the same
    meaning as the Python engine; `construct` names it as the agreement writes it."""

    def __init__(self, construct: str, why: str, dialect: str | None = None):
        self.construct, self.why, self.dialect = construct, why, dialect
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.dialect}: " if self.dialect else ""
        return f"{where}cannot compile {self.construct} to SQL: {self.why}"

    def in_dialect(self, dialect: str) -> Unsupported:
        """The same refusal, naming the dialect it happened in."""
        return Unsupported(self.construct, self.why, dialect)
