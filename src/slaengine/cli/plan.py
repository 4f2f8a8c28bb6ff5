"""`slaengine plan`: the leads needed at each stage to win a number of customers."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from ..agreement.models.common import Duration
from ..kpis.planning import Plan, plan
from .check import markdown_cell
from .evaluate import (
    agreement_option,
    checked_leads,
    engine_for,
    mapping_option,
    open_agreement,
    parse_now,
)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _interval(interval: tuple[float, float] | None) -> str:
    return "—" if interval is None else f"{interval[0]:.1%}–{interval[1]:.1%}"


def _needed(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def rows(result: Plan) -> list[list[str]]:
    return [[s.title, _needed(s.needed), _rate(s.conversion_to_next), _interval(s.interval),
             f"{s.converted:,} of {s.cohort_leads:,}" if s.conversion_to_next is not None
             or s.cohort_leads else "—"] for s in result.stages[:-1]] + [
        [result.stages[-1].title, _needed(result.stages[-1].needed), "", "", ""]]


HEADERS = ["Stage", "Needed", "Converts to next", "95% interval", "Behind the rate"]


def volume_line(result: Plan) -> str | None:
    v = result.volume
    if v is None:
        return None
    per = f" a {v.period}" if v.period else ""
    if v.needed is None:
        return (f"{v.title} (`{v.kpi}`) commits to at least {v.target:,.0f}{per}; the MQLs "
                "needed are unknown (a conversion rate after it could not be measured).")
    gap = v.needed - v.target
    verdict = ("enough" if gap <= 0 else f"short by {gap:,.0f}")
    return (f"{v.title} (`{v.kpi}`) commits to at least {v.target:,.0f}{per}; "
            f"{result.customers:,} customers{per} need {v.needed:,}: {verdict}.")


def intro(result: Plan) -> str:
    return (f"To win {result.customers:,} customers: conversion between consecutive stages "
            f"over leads that entered a stage at least {result.maturity} before "
            f"{result.now.isoformat()} ({result.records:,} leads read, "
            f"{result.with_errors:,} with errors).")


def render_text(result: Plan) -> str:
    table = [HEADERS, *rows(result)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADERS))]
    lines = [intro(result), ""]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip()
              for r in table]
    line = volume_line(result)
    return "\n".join(lines + ([] if line is None else ["", line]))


def render_markdown(result: Plan) -> str:
    lines = ["## Working backward", "", intro(result), "",
             "| " + " | ".join(HEADERS) + " |", "|---|---:|---:|---|---:|"]
    lines += ["| " + " | ".join(markdown_cell(c) for c in r) + " |" for r in rows(result)]
    line = volume_line(result)
    return "\n".join(lines + ([] if line is None else ["", line]))


@click.command("plan")
@click.option("--leads", "leads_path", required=True, metavar="FILE",
              type=click.Path(path_type=Path), help="CSV, JSONL or Parquet lead export.")
@click.option("--customers", required=True, type=click.IntRange(min=1), metavar="N",
              help="Customers to win (per period of the MQL volume KPI, when there is one).")
@agreement_option
@click.option("--now", "now_text", metavar="ISO", help="As of (default: the current time).")
@click.option("--maturity", default="30d", show_default=True, metavar="DURATION",
              help="How long a lead has had to convert before its stage's rate counts it.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
@mapping_option
def plan_command(leads_path: Path, customers: int, agreement_dir: Path, now_text: str | None,
                 maturity: str, fmt: str, mapping_file: Path | None) -> None:
    """Work backward from N customers to the leads needed at each stage."""
    try:
        window = Duration.parse(maturity)
        window.seconds  # noqa: B018  (business days have no fixed length: refuse them here)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--maturity") from None
    agreement = open_agreement(agreement_dir)
    engine, records = checked_leads(engine_for(agreement, mapping_file), str(leads_path))
    try:
        result = plan(engine, records, customers, parse_now(now_text), window)
    except ValueError as exc:
        click.echo(f"slaengine: {exc}", err=True)
        sys.exit(1)
    if fmt == "json":
        sys.stdout.buffer.write(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2)
                                + b"\n")
    elif fmt == "markdown":
        click.echo(render_markdown(result))
    else:
        click.echo(render_text(result))
