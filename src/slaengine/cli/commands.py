"""`validate` and `schema`: the commands that read an agreement's files and structure."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import click

from ..agreement.diagnostics import sort_diagnostics
from ..agreement.schema import dumps, generated_schemas, lead_schema
from ..agreement.validator import ValidationResult, validate_folder
from ..api import load_agreement
from ..change.approvals import signature_diagnostics
from ..evaluate.calendars import FIRST_YEAR, LAST_YEAR
from ..files import atomic_write
from .reporters import REPORTERS

DEFAULT_AGREEMENT = "agreement"


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"`{value}` is not a date; write YYYY-MM-DD") from None


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def checked_month(text: str) -> str:
    """`--month` as `YYYY-MM` in the years the business calendars cover (exit 2 otherwise)."""
    key = text.strip()
    if not _MONTH.fullmatch(key):
        raise click.BadParameter(f"`{text}` is not a month; write it as YYYY-MM, e.g. 2026-10",
                                 param_hint="--month")
    if not FIRST_YEAR <= int(key[:4]) <= LAST_YEAR:
        raise click.BadParameter(f"`{key}` is too far out: months from {FIRST_YEAR} to "
                                 f"{LAST_YEAR} can be reported, the years the business "
                                 "calendars cover", param_hint="--month")
    return key


def agreement_dir(folder: str | None, option: str | None) -> Path:
    """The agreement folder from the argument or `--agreement`, default `agreement/`."""
    if folder and option and Path(folder) != Path(option):
        raise click.UsageError("give the agreement folder once: as an argument or --agreement")
    return Path(folder or option or DEFAULT_AGREEMENT)


@click.command("validate")
@click.argument("folder", required=False, type=click.Path(path_type=str))
@click.option("--agreement", "agreement_option", metavar="DIR",
              help="Agreement folder (default: agreement/).")
@click.option("--format", "fmt", type=click.Choice(sorted(REPORTERS)), default="text",
              show_default=True, help="Output format; `github` annotates pull requests.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--today", metavar="DATE", help="Date for review-cadence checks (default: today).")
def validate_command(folder: str | None, agreement_option: str | None, fmt: str, strict: bool,
                     today: str | None) -> None:
    """Check an agreement folder: structure, references, contradictions, reviews."""
    root = agreement_dir(folder, agreement_option)
    day = _today(today)
    result = with_signatures(validate_folder(root, today=day, strict=strict), day, strict)
    color = fmt == "text" and sys.stdout.isatty()
    click.echo(REPORTERS[fmt](result, root, color))
    sys.exit(0 if result.ok else 1)


def with_signatures(result: ValidationResult, today: date, strict: bool) -> ValidationResult:
    """The result with the signatures verified (ssh-keygen, git): the latest review's approvals
    as warnings, what makes the history of approvals fail as errors."""
    found = signature_diagnostics(result, today)
    if not found:
        return result
    if strict:
        found = [d.as_error() for d in found]
    return replace(result, diagnostics=sort_diagnostics(result.diagnostics + found))


@click.command("schema")
@click.option("--write", "write_dir", metavar="DIR", type=click.Path(path_type=Path),
              help="Write every schema file into DIR (e.g. schema/).")
@click.option("--check", "check_dir", metavar="DIR", type=click.Path(path_type=Path),
              help="Exit 1 if the schema files in DIR differ from the models.")
@click.option("--lead", is_flag=True, help="Print the lead-record schema of an agreement.")
@click.option("--agreement", "agreement_option", metavar="DIR", default=DEFAULT_AGREEMENT,
              show_default=True, help="Agreement folder (with --lead).")
def schema_command(write_dir: Path | None, check_dir: Path | None, lead: bool,
                   agreement_option: str) -> None:
    """Print or write the JSON Schemas generated from the models."""
    if lead:
        agreement = load_agreement(agreement_option)
        click.echo(dumps(lead_schema(agreement.spec.fields, f"{agreement.name} lead record")),
                   nl=False)
        return
    schemas = {name: dumps(s) for name, s in generated_schemas().items()}
    if write_dir is not None:
        write_dir.mkdir(parents=True, exist_ok=True)
        for name, text in schemas.items():
            atomic_write(write_dir / name, text)
            click.echo(f"wrote {write_dir / name}", err=True)
        return
    if check_dir is not None:
        stale = [name for name, text in schemas.items()
                 if not (check_dir / name).is_file()
                 or (check_dir / name).read_text(encoding="utf-8") != text]
        for name in stale:
            click.echo(f"{check_dir / name}: out of date; run `slaengine schema --write "
                       f"{check_dir}`", err=True)
        sys.exit(1 if stale else 0)
    click.echo(schemas["agreement.schema.json"], nl=False)


__all__ = ["agreement_dir", "checked_month", "schema_command", "validate_command"]
