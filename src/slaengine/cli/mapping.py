"""`mapping check`: what each field reads from an export, before the first real run."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..evaluate.intake import open_leads
from ..evaluate.quality import FieldQuality, Survey
from .check import aligned_rows, plural
from .evaluate import (
    agreement_option,
    engine_for,
    mapping_option,
    open_agreement,
    warn,
    warn_one,
)


@click.group("mapping")
def mapping_group() -> None:
    """Column mappings for CRM exports (see examples/mappings)."""


def _values(quality: FieldQuality, limit: int) -> str:
    if not quality.values:
        return "-"
    shown = ", ".join(f"{value} ({count})" for value, count in quality.top(quality.values,
                                                                          limit))
    more = quality.distinct - min(limit, quality.distinct)
    return shown + (f" and {more} more" if more else "")


def render(survey: Survey, where: str, mapping: str, columns: tuple[str, ...] | None,
           limit: int) -> str:
    """The per-field table, then what could not be read or is not allowed, then the columns
    no field reads."""
    lines = [f"{where}: {plural(survey.records, 'lead')}, read with {mapping}"]
    headers = ["field", "column", "read", "missing", "unreadable", "not allowed", "values seen"]
    rows = []
    for quality in survey.fields.values():
        column = quality.column if quality.present else f"{quality.column} (not in the file)"
        rows.append([quality.field, column, f"{quality.read:,}", f"{quality.missing:,}",
                     f"{quality.unreadable:,}", f"{quality.not_allowed:,}",
                     _values(quality, limit)])
    lines += aligned_rows(headers, rows, "  ", right=(2, 3, 4, 5))
    problems = survey.with_problems()
    if any(q.unreadable for q in problems):
        lines += ["", "could not read:"]
        for q in problems:
            for value, count in q.top(q.bad, limit):
                lines.append(f"  {q.field} ({q.column}): {q.problems[value]} "
                             f"({plural(count, 'lead')})")
    if any(q.not_allowed for q in problems):
        lines += ["", "not allowed (the lead is evaluated with the value as written):"]
        for q in problems:
            shown = ", ".join(f"`{v}` ({n})" for v, n in q.top(q.disallowed, limit))
            if shown:
                lines.append(f"  {q.field} ({q.column}): {shown}")
    if survey.unreadable_records:
        lines += ["", f"{plural(survey.unreadable_records, 'record')} could not be read at all "
                      "(run `slaengine evaluate` to see why)"]
    if columns is not None:
        read = {c.casefold() for q in survey.fields.values() for c in (q.column, q.field)}
        unused = [c for c in columns if c.casefold() not in read]
        if unused:
            lines += ["", "columns no field reads: " + ", ".join(unused)]
    return "\n".join(lines)


@mapping_group.command("check")
@click.option("--leads", "leads_path", required=True, metavar="FILE",
              help="CSV, JSONL or Parquet lead export; `-` reads JSONL from stdin.")
@agreement_option
@mapping_option
@click.option("--limit", type=click.IntRange(min=1), default=3, show_default=True,
              help="Values shown per field and kind.")
def mapping_check_command(leads_path: str, agreement_dir: Path, mapping_file: Path | None,
                          limit: int) -> None:
    """Per field: the column it reads, the values seen, what could not be read.

    Exit 0 when every value was read and allowed, 1 when some were not, 2 when the file
    lacks the key column or most of the mapping's columns.
    """
    agreement = open_agreement(agreement_dir)
    engine = engine_for(agreement, mapping_file)
    lead_file = open_leads(engine, leads_path if leads_path == "-" else Path(leads_path),
                           on_warning=warn_one)
    warn(lead_file.warnings)
    survey = Survey(lead_file.engine, lead_file.columns)
    for record in lead_file.records:
        survey.add(record)
    used = (str(mapping_file) if mapping_file is not None else
            str(getattr(lead_file.engine.mapping, "path", None) or "the fields' own columns"))
    where = "stdin" if leads_path == "-" else leads_path
    click.echo(render(survey, where, used, lead_file.columns, limit))
    sys.exit(1 if survey.with_problems() or survey.unreadable_records else 0)


__all__ = ["mapping_check_command", "mapping_group", "render"]
