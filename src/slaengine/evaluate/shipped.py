"""The mappings slaengine ships for common CRM exports, and which of them fits a header.

`evaluate` without `--mapping` on a file whose header lacks the agreement's columns looks
here: one shipped mapping that reads the header (its key column and nearly every column it
names) is used, and said so; several that read it equally well (the day-first and
month-first Salesforce reports share their header) are suggested, never guessed between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..agreement.diagnostics import UsageError
from ..agreement.models.sections import FieldSpec
from .headers import HeaderCheck, compare, expected_columns
from .mapping import MappingFile, read_mapping

__all__ = ["SHIPPED", "Fit", "fitting", "shipped_mappings"]

SHIPPED: Final = Path(__file__).parent / "mappings"
_MOST: Final = 0.75  # of the columns a mapping names, the share a header must have


@dataclass(frozen=True, slots=True)
class Fit:
    """A shipped mapping that reads a header, and how many of its columns the header lacks."""

    name: str
    path: Path
    mapping: MappingFile
    check: HeaderCheck

    @property
    def missing(self) -> int:
        return len(self.check.missing_named)

    @property
    def found(self) -> int:
        """The fields whose column the header has, read with this mapping."""
        return len(self.check.expected) - len(self.check.missing)


def shipped_mappings() -> list[Path]:
    """The shipped mapping files, by name."""
    return sorted(SHIPPED.glob("*.yaml"))


def fitting(fields: Mapping[str, FieldSpec], columns: list[str]) -> list[Fit]:
    """The shipped mappings that read these columns, best first: the key column found and at
    least three quarters of the named ones. Mappings that name fields this agreement lacks
    are left out."""
    found = []
    for path in shipped_mappings():
        try:
            mapping = read_mapping(path, fields)
        except UsageError:
            continue
        check = compare(expected_columns(fields, mapping), columns)
        named = len(check.named)
        if check.missing_key is None and named and (
                named - len(check.missing_named)) >= _MOST * named:
            found.append(Fit(path.stem, path, mapping, check))
    return sorted(found, key=lambda fit: (fit.missing, fit.name))
