"""`slaengine kpis`: the shared KPIs for the monthly meeting, and the scoring model's calibration.

One pass over the leads builds a `KpiReport` (`slaengine.kpis`); a renderer per format turns it
into a terminal table, Markdown (the meeting notes, an issue) or JSON (scripts). `--format
json` writes KPI ids as the only top-level keys (DESIGN.md's contract); with `--calibration`
it writes `{"kpis": {...}, "calibration": {score: {...}}}` instead. `--engine duckdb` builds
the same report from the KPI query run by DuckDB on the file (`slaengine.sql.duckdb.kpis`). Exit 0,
also when records carry errors (they are counted in the header); 1 when the agreement is
invalid; 2 for bad usage (an unknown `--period`, an unreadable lead file, a KPI the duckdb
engine cannot compute as Python does, named).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import orjson

from ..agreement.describe import target_text
from ..agreement.diagnostics import UsageError
from ..agreement.markdown_text import lead_text
from ..evaluate.leads import file_size
from ..kpis import KpiReport, KpiResult, KpiValue, ScoreCalibration, compute_kpis, parse_period
from ..kpis.headline import DEFAULT_MIN_LEADS, Headline, headline
from .check import aligned_rows, markdown_cell, markdown_table, plural, short_digest
from .evaluate import (
    Progress,
    agreement_option,
    checked_leads,
    duckdb_engine,
    engine_for,
    mapping_option,
    now_option,
    open_agreement,
    parse_now,
)

_CURRENCY = re.compile(r"[A-Z]{3}")
MARKS = {True: "✓", False: "✗", None: "–"}


# ---------------------------------------------------------------- wording shared by renderers

def number_text(value: float | None, unit: str | None) -> str:
    """`23.1%`, `1,250,000 EUR`, `16.0 days`, `408`; `no value` for None.

    The unit follows the number, as in the target beside it (`at least 1,500,000 EUR`)."""
    if value is None:
        return "no value"
    if unit == "%":
        return f"{value:.1%}"
    if isinstance(value, int):
        text = f"{value:,}"
    elif abs(value) >= 1000 or (unit is not None and _CURRENCY.fullmatch(unit)):
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    return text if unit is None else f"{text} {unit}"


def basis_text(result: KpiResult) -> str:
    """What the value is taken over: `of 1,204 leads`, `over 52 leads with a value`."""
    measure = result.kpi.measure
    if measure == "count":
        return f"{plural(result.leads, 'lead')} in scope"
    if measure == "ratio":
        return f"of {plural(result.measured, 'lead')} in the denominator"
    if measure == "attainment":
        return f"of {plural(result.measured, 'clock')} met or breached"
    if measure == "median_duration" or (result.kpi.percentile is not None
                                        and result.kpi.percentile.duration is not None):
        return f"over {plural(result.measured, 'lead')} with both timestamps"
    return f"over {plural(result.measured, 'lead')} with a value"


def notes(result: KpiResult, report: KpiReport) -> list[str]:
    """What a reader must know to read the value right."""
    out = []
    kpi = result.kpi
    if not result.period_applied and report.period is not None:
        out.append(f"no cohort: over all leads, not only {report.period.key}")
    if (result.period_applied and report.period is not None and kpi.period is not None
            and kpi.period != report.period.kind and kpi.measure in ("count", "sum")):
        out.append(f"the target is per {kpi.period}: {report.period.key} alone is not judged")
    if result.immature and report.period is None:
        words = kpi.maturity.words() if kpi.maturity else ""
        out.append(f"{plural(result.immature, 'lead')} younger than {words} not counted yet")
    if result.invalid:
        measure = kpi.median_duration or (kpi.percentile.duration if kpi.percentile else None)
        ends = f" (`{measure.to}` before `{measure.from_}`)" if measure else ""
        out.append(f"{plural(result.invalid, 'lead')} with a negative duration{ends} left out")
    return out


def matures_on(result: KpiResult, period: str, report: KpiReport) -> str:
    """`matures 1 Feb 2027`: when the period's last leads reach the KPI's maturity."""
    maturity = result.kpi.maturity
    if maturity is None:
        return ""
    tz = ZoneInfo(report.timezone)
    end = parse_period(period, tz).end + timedelta(seconds=maturity.seconds)
    local = end.astimezone(tz)
    return f"still maturing (complete {local.day} {local:%b %Y})"


def open_text(head: Headline, result: KpiResult, report: KpiReport) -> str:
    """Why a headline's figure can still change: its period is not over, or its leads are still
    maturing (`2026-10 is still maturing (complete 30 Jan 2027)`); empty once it cannot."""
    if head.complete:
        return ""
    if head.scope == "all leads":
        return "some leads are still maturing"
    if parse_period(head.scope, ZoneInfo(report.timezone)).end > report.now:
        return f"{head.scope} is not over yet"
    return f"{head.scope} is {matures_on(result, head.scope, report)}"


def period_rows(result: KpiResult, report: KpiReport) -> list[list[str]]:
    """Newest period first; immature ones marked."""
    return [[key, number_text(entry.value, result.unit), MARKS[entry.met], f"{entry.leads:,}",
             "" if entry.mature else matures_on(result, key, report)]
            for key, entry in sorted(result.by_period.items(), reverse=True)]


def group_rows(result: KpiResult) -> list[list[str]]:
    """Highest value first; groups without a value last."""
    def order(item: tuple[str, KpiValue]) -> tuple[bool, float, str]:
        value = item[1].value
        return value is None, -(value or 0), item[0]

    return [[group, number_text(entry.value, result.unit), MARKS[entry.met], f"{entry.leads:,}"]
            for group, entry in sorted(result.by_group.items(), key=order)]


def target_line(result: KpiResult) -> str:
    if result.target is None:
        return "No target"
    return f"Target {target_text(result.target, result.unit)}"


def value_line(result: KpiResult, strong: str = "") -> str:
    """`value 23.1% ✗ of 1,204 leads in the denominator`; `no value – of 0 leads ...`."""
    value = ("no value" if result.value is None
             else f"value {strong}{number_text(result.value, result.unit)}{strong}")
    return f"{value} {MARKS[result.met]} {basis_text(result)}"


def headline_of(result: KpiResult, report: KpiReport, min_leads: int) -> Headline:
    return headline(result, report.now, ZoneInfo(report.timezone), report.period, min_leads)


def mark_text(head: Headline) -> str:
    return "too few leads" if head.too_few else MARKS[head.met]


def trend_text(head: Headline, unit: str | None) -> str:
    """`↑ from 4 (2026-09)`: the headline period against the one before it."""
    if head.previous is None:
        return ""
    key, before = head.previous
    if before is None or head.value is None:
        return ""
    if head.value == before:
        return f"unchanged from {key}"
    arrow = "↑" if head.value > before else "↓"
    return f"{arrow} from {number_text(before, unit)} ({key})"


def scope_text(head: Headline, result: KpiResult, report: KpiReport) -> str:
    if head.scope == "all leads":
        return "all leads" if result.period_applied else "all leads (no cohort)"
    if report.period is not None:
        return head.scope + ("" if head.complete else " (not complete)")
    return f"{head.scope}, the latest complete {result.kpi.period}"


def summary_row(result: KpiResult, report: KpiReport, min_leads: int) -> list[str]:
    head = headline_of(result, report, min_leads)
    target = target_text(result.target, result.unit) if result.target else "—"
    return [f"{result.title} [{result.id}]", target, scope_text(head, result, report),
            number_text(head.value, result.unit), mark_text(head), f"{head.measured:,}",
            trend_text(head, result.unit)]


def headline_lines(result: KpiResult, report: KpiReport, min_leads: int) -> list[str]:
    """The headline in a sentence, and the all-periods figure beside it when it differs."""
    head = headline_of(result, report, min_leads)
    trend = trend_text(head, result.unit)
    if head.value is None:
        verdict = "(no lead to measure)" if head.measured == 0 else "–"
    elif head.too_few:
        verdict = (f"on {plural(head.measured, 'lead')}: too few to judge "
                   f"(fewer than {min_leads})")
    else:
        verdict = f"{MARKS[head.met]} on {plural(head.measured, 'lead')}"
    first = (f"{scope_text(head, result, report)}: {number_text(head.value, result.unit)} "
             f"{verdict}" + (f" · {trend}" if trend else ""))
    if head.scope == "all leads":
        return [f"{target_line(result)} · {first}"]
    lines = [f"{target_line(result)} · {first}"]
    if report.period is None:
        lines.append(f"All periods together: {value_line(result)}")
    elif not head.complete:
        lines.append(f"{open_text(head, result, report)}: the figure can still change")
    return lines


def header_lines(report: KpiReport, min_leads: int = DEFAULT_MIN_LEADS) -> list[str]:
    local = report.now.astimezone(ZoneInfo(report.timezone))
    lines = [f"Now {local:%a} {local.day} {local:%b %Y %H:%M} {report.timezone} · "
             f"{plural(report.records, 'lead')} read, {report.with_errors:,} with errors "
             f"({report.unreadable:,} unreadable)",
             "A KPI with a period is headlined by its latest complete period; rates and "
             f"averages on fewer than {min_leads} leads are not judged"]
    if report.period is not None:
        lines.append(f"Period {report.period.key}: only leads whose cohort falls in it")
    return lines


def percent_points(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} pts"


def band_rows(calibration: ScoreCalibration) -> list[list[str]]:
    rows = []
    for label, band in calibration.bands.items():
        verdict = ("too few leads" if band.too_few
                   else f"⚠ off by more than {calibration.tolerance * 100:g} pts" if band.flagged
                   else "ok" if band.expected is not None else "no expectation")
        rows.append([label, f"{band.leads:,}", f"{band.converted:,}",
                     number_text(band.actual, "%"),
                     "—" if band.expected is None else number_text(band.expected, "%"),
                     percent_points(band.difference), verdict])
    return rows


def calibration_lines(calibration: ScoreCalibration, report: KpiReport) -> list[str]:
    maturity = f", at least {calibration.maturity.words()} old" if calibration.maturity else ""
    out = [f"Converted: {calibration.converted}",
           f"{plural(calibration.leads, 'lead')} with a band{maturity}; "
           f"{calibration.immature:,} younger not counted; flagged beyond ±"
           f"{calibration.tolerance * 100:g} pts with at least {calibration.min_leads} leads"]
    if not calibration.period_applied and report.period is not None:
        out.append(f"No cohort: over all leads, not only {report.period.key}")
    return out


BAND_HEADERS = ["Band", "Leads", "Converted", "Actual", "Expected", "Difference", ""]
SUMMARY_HEADERS = ["KPI", "Target", "Headline period", "Value", "Met", "Leads", "Trend"]


# ---------------------------------------------------------------- table (terminal)

def render_table(report: KpiReport, calibration: bool = False,
                 min_leads: int = DEFAULT_MIN_LEADS) -> str:
    out = [f"KPIs · {report.agreement} {report.version} ({short_digest(report.digest)})",
           *header_lines(report, min_leads), ""]
    out += aligned_rows(SUMMARY_HEADERS,
                        [summary_row(r, report, min_leads) for r in report.kpis.values()], "",
                        right=[3, 5])
    for result in report.kpis.values():
        owners = f" · owners: {', '.join(result.kpi.owners)}" if result.kpi.owners else ""
        out += ["", f"{result.title} [{result.id}]{owners}", f"  {result.formula}",
                *(f"  {line}" for line in headline_lines(result, report, min_leads))]
        out += [f"  Note: {note}" for note in notes(result, report)]
        if result.by_period:
            out += ["", *aligned_rows(["Period", "Value", "Met", "Leads", "Note"],
                                  period_rows(result, report), "  ", right=[1, 3])]
        if result.by_group:
            out += ["", *aligned_rows([result.group_label or "Group", "Value", "Met", "Leads"],
                                  group_rows(result), "  ", right=[1, 3])]
    if calibration:
        for cal in report.calibrations.values():
            out += ["", f"Calibration of {cal.title} [{cal.score}]",
                    *(f"  {line}" for line in calibration_lines(cal, report)), "",
                    *aligned_rows(BAND_HEADERS, band_rows(cal), "  ", right=[1, 2, 3, 4, 5])]
        if not report.calibrations:
            out += ["", "No score has a calibration (`calibration:` under a score)."]
    return "\n".join(out)


# ---------------------------------------------------------------- markdown

def render_markdown(report: KpiReport, calibration: bool = False,
                    min_leads: int = DEFAULT_MIN_LEADS) -> str:
    out = [f"# KPIs: {markdown_cell(report.agreement)} {report.version}", "",
           f"Agreement digest `{short_digest(report.digest)}` · " + " · ".join(
               header_lines(report, min_leads)), "",
           *markdown_table(SUMMARY_HEADERS,
                           [[markdown_cell(c) for c in summary_row(r, report, min_leads)]
                            for r in report.kpis.values()], right=[3, 5])]
    for result in report.kpis.values():
        out += ["", f"## {markdown_cell(result.title)} (`{result.id}`)", "",
                f"_{markdown_cell(result.formula)}_",
                "", *(f"- {markdown_cell(line)}"
                      for line in headline_lines(result, report, min_leads)),
                *([f"- Owners: {', '.join(result.kpi.owners)}"] if result.kpi.owners else [])]
        if notes(result, report):
            out += ["", *(f"- {note}" for note in notes(result, report))]
        if result.by_period:
            out += ["", *markdown_table(["Period", "Value", "Met", "Leads", "Note"],
                                   period_rows(result, report), right=[1, 3])]
        if result.by_group:
            # group names are values from the lead file (a campaign, a source): lead text
            out += ["", *markdown_table([result.group_label or "Group", "Value", "Met", "Leads"],
                                   [[lead_text(row[0]), *row[1:]] for row in group_rows(result)],
                                   right=[1, 3])]
    if calibration:
        out += ["", "## Calibration of the scoring model"]
        for cal in report.calibrations.values():
            out += ["", f"### {markdown_cell(cal.title)} (`{cal.score}`)", "",
                    *(f"- {markdown_cell(line)}" for line in calibration_lines(cal, report)), "",
                    *markdown_table([*BAND_HEADERS[:-1], "Verdict"], band_rows(cal),
                               right=[1, 2, 3, 4, 5])]
        if not report.calibrations:
            out += ["", "_No score has a calibration (`calibration:` under a score)._"]
    return "\n".join(out)


# ---------------------------------------------------------------- json

def render_json(report: KpiReport, calibration: bool = False,
                min_leads: int = DEFAULT_MIN_LEADS) -> str:
    return orjson.dumps(report.to_json(calibration), option=orjson.OPT_INDENT_2).decode()


# Each takes the report, whether to add the calibration, and the minimum leads to judge on.
RENDERERS: dict[str, Callable[..., str]] = {
    "json": render_json, "table": render_table, "markdown": render_markdown}


@click.command("kpis")
@click.option("--leads", "leads_path", required=True, metavar="FILE",
              help="CSV, JSONL or Parquet lead export; `-` reads JSONL from stdin.")
@agreement_option
@now_option
@click.option("--period", "period_text", metavar="PERIOD",
              help="Only leads whose cohort falls in this month (2026-10), quarter (2026-Q4) "
                   "or ISO week (2026-W43).")
@click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="table",
              show_default=True)
@click.option("--calibration", is_flag=True,
              help="Add each score's band calibration (JSON: {\"kpis\", \"calibration\"}).")
@mapping_option
@click.option("--engine", "engine_name", type=click.Choice(["python", "duckdb"]), default="python",
              show_default=True)
@click.option("--min-leads", type=click.IntRange(min=1), default=DEFAULT_MIN_LEADS,
              show_default=True,
              help="Fewest leads a rate, average, median or attainment is judged on.")
def kpis_command(leads_path: str, agreement_dir: Path, now_text: str | None,
                 period_text: str | None, fmt: str, calibration: bool,
                 mapping_file: Path | None, engine_name: str, min_leads: int) -> None:
    """The shared KPIs with their targets, by period and group; optionally the calibration."""
    now = parse_now(now_text)
    agreement = open_agreement(agreement_dir)
    engine = engine_for(agreement, mapping_file).for_kpis()
    period = None
    if period_text is not None:
        try:
            period = parse_period(period_text, engine.tz)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--period") from None
    duck = duckdb_engine(engine, leads_path) if engine_name == "duckdb" else None
    if duck is not None:
        try:  # DuckDB and sqlglot are optional (the `sql` extra)
            kpis_file = importlib.import_module("slaengine.sql.duckdb.kpis").kpis_file
        except ImportError:
            raise UsageError("the duckdb engine needs DuckDB and sqlglot: "
                             "pip install 'slaengine[sql]'") from None
        report = kpis_file(duck, leads_path, now, period)
    else:
        stdin = leads_path == "-"
        progress = Progress(None if stdin else file_size(Path(leads_path)))
        engine, records = checked_leads(engine, leads_path, progress)
        records = progress.follow(records)
        report = compute_kpis(engine, records, now, period)
    click.echo(RENDERERS[fmt](report, calibration, min_leads))
    if fmt == "json":
        click.echo(f"{plural(report.records, 'record')}, {report.with_errors:,} with errors "
                   f"({report.unreadable:,} unreadable)", err=True)
    sys.exit(0)


__all__ = ["RENDERERS", "kpis_command", "number_text", "render_json", "render_markdown",
           "render_table", "target_text"]
