"""`slaengine report`: the monthly feedback report, as Markdown and a standalone HTML page.

`slaengine.reports.monthly` counts the decisions and the KPIs of the month; this module words them
into sections of blocks (text, tables, charts, lists) that both templates in
`slaengine/reports/templates/` lay out the same way, so the HTML page and the Markdown file
always show the same numbers. Charts come from `slaengine.reports.charts` (matplotlib, the `report`
extra). Exit 0 (also when records carry errors: they are counted in the header), 1 when the
agreement is invalid, 2 for bad usage (a `--month` that is not `YYYY-MM`, an unreadable file).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

import click
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..agreement.describe import list_text
from ..agreement.diagnostics import UsageError
from ..api import Agreement
from ..change.actions import collect_actions
from ..evaluate.intake import open_leads
from ..evaluate.leads import RawRecord
from ..files import atomic_write
from ..kpis import parse_period
from ..kpis.headline import DEFAULT_MIN_LEADS
from ..kpis.planning import plan
from ..reports.monthly import NO_CODE, MonthlyReport, build_monthly, default_now
from .check import markdown_cell, plural, short_digest
from .commands import checked_month
from .evaluate import (
    agreement_option,
    checked_leads,
    engine_for,
    mapping_option,
    open_agreement,
    parse_now,
    warn_one,
)
from .kpis import (
    BAND_HEADERS,
    band_rows,
    headline_of,
    mark_text,
    number_text,
    open_text,
    target_text,
)
from .kpis import notes as kpi_notes
from .report_actions import HEADERS as ACTION_HEADERS
from .report_actions import actions_parts
from .report_planning import planning_parts
from .report_text import html, lead, lead_code, markdown, message

if TYPE_CHECKING:
    from ..evaluate.evaluator import Engine
    from ..reports.charts import Chart

__all__ = ["build_sections", "render_html", "render_markdown", "report_command"]

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")


# ---------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Text:
    kind: ClassVar[str] = "text"
    text: str  # plain text; `code` spans allowed


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    right: Sequence[int] = ()  # right-aligned (numeric) columns
    caption: str = ""


@dataclass(frozen=True)
class Bullets:
    kind: ClassVar[str] = "bullets"
    items: Sequence[str]


@dataclass(frozen=True)
class Figure:
    kind: ClassVar[str] = "figure"
    title: str
    alt: str
    file: str   # the SVG next to the Markdown file
    svg: str    # the SVG for the HTML page


Block = Text | Table | Bullets | Figure


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


# ---------------------------------------------------------------- wording


def local_text(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def month_name(report: MonthlyReport) -> str:
    year, number = report.month.key.split("-")
    return f"{_MONTH_NAMES[int(number) - 1]} {year}"


def _rate(numerator: int, denominator: int) -> str:
    if not denominator:
        return "—"
    return f"{numerator / denominator:.1%} ({numerator:,}/{denominator:,})"


def _source_word(report: MonthlyReport) -> str:
    return f"`{report.source_field}`" if report.source_field else "source"


def header_lines(report: MonthlyReport) -> list[str]:
    tz = ZoneInfo(report.timezone)
    return [
        f"Agreement {report.agreement} {report.version} (digest `{short_digest(report.digest)}`)",
        f"Month {report.month.key}: {local_text(report.month.start, tz)} to "
        f"{local_text(report.month.end, tz)} {report.timezone}",
        f"As of {local_text(report.now, tz)} {report.timezone} ({report.now_basis})",
        f"{plural(report.records, 'lead')} read, {report.with_errors:,} with errors "
        f"({report.unreadable:,} unreadable)",
    ]


# ---------------------------------------------------------------- sections


def summary(report: MonthlyReport, figures: dict[str, Figure]) -> Section:
    kpis = report.kpis
    rows = []
    for result in kpis.kpis.values():
        # The month's row of the KPI, judged only on enough leads (as `kpis --period`).
        head = headline_of(result, kpis, DEFAULT_MIN_LEADS)
        note = "; ".join([*kpi_notes(result, kpis),
                          *([] if head.complete else [open_text(head, result, kpis)])])
        rows.append([f"{result.title} (`{result.id}`)", target_text(result.target, result.unit),
                     number_text(head.value, result.unit), mark_text(head),
                     f"{head.measured:,}", note])
    levels = []
    for name, counts in report.levels.items():
        title, owner = report.level_titles[name]
        met, judged = counts["met"], counts["met"] + counts["breached"]
        levels.append([f"{title} (`{name}`)", owner, f"{met:,}", f"{counts['breached']:,}",
                       f"{counts['running']:,}", f"{counts['at_risk']:,}", _rate(met, judged)])
    trend = [[report.level_titles[name][0], *(_rate(m, m + b) for m, b in pairs)]
             for name, pairs in report.trend.items()]
    section = Section("summary", "Summary", [
        Text(f"The shared KPIs over the leads whose cohort falls in {report.month.key} "
             "(`slaengine kpis --period`); a KPI without a cohort counts every lead."),
        Table(["KPI", "Target", "Value", "Met", "Leads", "Note"], rows, right=[2, 4]),
        Text(f"Service levels of the clocks that started in {report.month.key}: attainment is "
             "met / (met + breached); running clocks are not judged yet."),
        Table(["Service level", "Owner", "Met", "Breached", "Running", "At risk", "Attainment"],
              levels, right=[2, 3, 4, 5, 6]),
        figures["sla-trend"],
        Table(["Service level", *report.trend_months], trend, right=range(1, 7),
              caption="Attainment by the month the clock started"),
    ])
    if report.empty:
        section.blocks.insert(0, Text(f"No leads in {month_name(report)}: no lead entered a "
                                      "stage, came back or started a clock in the month."))
    return section


def converted(report: MonthlyReport, figures: dict[str, Figure]) -> Section:
    month = report.month.key
    stages = report.conversion_stages
    section = Section("converted", "Which leads converted, and why", [
        Text(f"Leads entering each stage of the funnel in {month} (its `entered_at` time "
             "falls in the month)."),
        Table(["Stage", "Entered at", "Leads"],
              [[f"{s.title} (`{s.id}`)", f"`{s.field}`", f"{report.funnel[s.id]:,}"]
               for s in report.funnel_stages], right=[2]),
        figures["funnel"]])
    if not stages:
        section.blocks.append(Text("The agreement has no stage after the handoff to count."))
        return section
    names = list_text([s.short for s in stages])
    shorts = {s.id: s.short for s in stages}
    if not report.converted:
        section.blocks.append(Text(f"No leads converted in {month}: none reached {names}."))
    else:
        rows = [[lead(group), *(f"{row.get(s.id, 0):,}" for s in stages),
                 f"{sum(row.values()):,}"]
                for group, row in report.converted_by_source.items()]
        totals = [sum(r.get(s.id, 0) for r in report.converted_by_source.values())
                  for s in stages]
        section.blocks += [
            Text(f"{plural(report.converted, 'lead')} reached {names} in {month}, by "
                 f"{_source_word(report)} (a lead reaching two stages counts in both):"),
            Table(["Source", *(s.short for s in stages), "Stage entries"],
                  [*rows, ["All", *(f"{t:,}" for t in totals), f"{sum(totals):,}"]],
                  right=range(1, len(stages) + 2)),
            Text("For example, and the definitions each meets today:"),
            Bullets([f"{lead_code(e.id)} reached {shorts[e.stage]} from {lead(e.source)} "
                     f"(campaign {lead(e.campaign)}; "
                     + ", ".join(f"{score} {band}" for score, band in e.bands.items() if band)
                     + "): " + (", ".join(e.definitions) or "no definition") + "."
                     for e in report.examples])]
    start, end = report.cohort_from, report.cohort_to
    if start is not None and end is not None:
        cohort = report.cohort_by_source
        entered = sum(e for e, _ in cohort.values())
        reached = sum(r for _, r in cohort.values())
        section.blocks += [
            Text(f"Of the leads that became {start.short} in {month}, how many were {end.short} "
                 f"by {local_text(report.now, ZoneInfo(report.timezone))} (`{end.field}` "
                 f"recorded by then), by {_source_word(report)}:"),
            Table(["Source", start.short, end.short, "Rate"],
                  [*([lead(g), f"{e:,}", f"{r:,}", _rate(r, e)]
                     for g, (e, r) in cohort.items()),
                   ["All", f"{entered:,}", f"{reached:,}", _rate(reached, entered)]],
                  right=[1, 2, 3]),
            figures["conversion-by-source"]]
    return section


def _code_rows(table: dict[str, dict[str, int]], codes: list[str]) -> list[list[str]]:
    return [[lead(group), *(f"{row.get(c, 0):,}" for c in codes), f"{sum(row.values()):,}"]
            for group, row in table.items()]


def not_converted(report: MonthlyReport, figures: dict[str, Figure]) -> Section:
    month = report.month.key
    stages = " or ".join(f"{s.title} (`{s.field}`)" for s in report.return_stages)
    section = Section("not-converted", "Which leads did not convert, and why", [])
    if not report.returned:
        section.blocks.append(Text(f"No leads came back in {month}: none entered {stages}."))
    else:
        codes = list(report.by_disposition)
        section.blocks += [
            Text(f"{plural(report.returned, 'lead')} came back in {month} (entered {stages}), "
                 "by disposition code:"),
            Table(["Disposition", "Meaning", "Leads"],
                  [[lead_code(code), report.disposition_titles.get(
                      code, "no code recorded" if code == NO_CODE else "not a code of the "
                      "agreement"), f"{n:,}"] for code, n in report.by_disposition.items()],
                  right=[2]),
            Table(["Source", *map(lead, codes), "Leads"],
                  _code_rows(report.returns_by_source, codes),
                  right=range(1, len(codes) + 2), caption="By source"),
            Table(["Campaign", *map(lead, codes), "Leads"],
                  _code_rows(report.returns_by_campaign, codes),
                  right=range(1, len(codes) + 2), caption="By campaign")]
    section.blocks.append(figures["rejections-by-source"])
    if report.credits_total:
        shown = report.credits
        section.blocks += [
            Text(f"Lead guarantee: {plural(report.credits_total, 'credit')} to sales "
                 f"(handed over in {month} without meeting the guarantee, or rejected in "
                 f"{month} with a covered disposition)."),
            Table(["Lead", "Reason", "Why"],
                  [[lead_code(key), f"{c.reason}: {lead_code(c.source)}", message(c.message)]
                   for key, c in shown])]
        if report.credits_total > len(shown):
            section.blocks.append(Text(f"… and {report.credits_total - len(shown):,} more."))
    else:
        section.blocks.append(Text(f"Lead guarantee: no credits in {month}."))
    return section


def _known(report: MonthlyReport, value: str | None) -> str:
    """A recorded stage or owner by its title when the agreement has it; else as the lead file
    has it (lead data, so escaped)."""
    if value is None:
        return "—"
    return report.names[value] if value in report.names else lead(value)


def next_days(report: MonthlyReport) -> Section:
    tz = ZoneInfo(report.timezone)
    horizon = local_text(report.horizon, tz)
    open_total = sum(report.open_leads.values())
    section = Section("next-30-days", "The next 30 days", [
        Text(f"{plural(open_total, 'open lead')} by recorded stage and owner (stages that are "
             "not terminal), as recorded in the lead file:"),
        Table(["Stage", "Owner", "Leads"],
              [[f"{report.names.get(stage, stage)} (`{stage}`)", report.names.get(owner, owner),
                f"{n:,}"]
               for (stage, owner), n in report.open_leads.items()], right=[2])])
    odd = [f"{plural(report.unknown_stage, 'lead')} in a stage the agreement does not have"
           ] if report.unknown_stage else []
    if report.no_stage:
        odd.append(f"{plural(report.no_stage, 'lead')} with no stage")
    if odd:
        section.blocks.append(Text("Not counted: " + "; ".join(odd) + "."))
    due_total = sum(sum(c.values()) for c in report.due.values())
    rows = [[f"{report.level_titles[n][0]} (`{n}`)", report.level_titles[n][1],
             f"{c['running']:,}", f"{c['at_risk']:,}", f"{sum(c.values()):,}"]
            for n, c in report.due.items()]
    section.blocks += [
        Text(f"{plural(due_total, 'service-level clock')} running or at risk, due before "
             f"{horizon} {report.timezone} (30 days from now), by the team that owns the "
             "service level:"),
        Table(["Service level", "Owner", "Running", "At risk", "Due"], rows, right=[2, 3, 4])]
    if report.soonest:
        section.blocks.append(Table(
            ["Lead", "Service level", "Status", "Due", "Stage", "Owner"],
            [[lead_code(d.id), report.level_titles[d.level][0], d.status.replace("_", " "),
              local_text(d.due_at, tz), _known(report, d.stage), _known(report, d.owner)]
             for d in report.soonest],
            caption=f"The {len(report.soonest)} soonest due"))
    return section


def calibration(report: MonthlyReport, figures: dict[str, Figure]) -> Section:
    section = Section("calibration", "Score calibration", [])
    if not report.calibrations:
        section.blocks.append(Text("No score has a calibration (`calibration:` under a score)."))
    for cal in report.calibrations.values():
        maturity = f" at least {cal.maturity.words()} old" if cal.maturity else ""
        section.blocks += [
            Text(f"{cal.title} (`{cal.score}`): converted means {cal.converted}; over "
                 f"{report.calibration_scope}: {plural(cal.leads, 'lead')}{maturity} with a "
                 f"band ({cal.immature:,} younger not counted)."),
            Table([*BAND_HEADERS[:-1], "Verdict"], band_rows(cal), right=[1, 2, 3, 4, 5])]
    section.blocks.append(figures["calibration"])
    return section


def build_sections(report: MonthlyReport, charts: Sequence[Chart], stem: str) -> list[Section]:
    """The report's sections; `stem` names the SVG files (`report-2026-10`)."""
    figures = {c.name: Figure(c.title, c.alt, f"{stem}-{c.name}.svg", c.inline())
               for c in charts}
    return [summary(report, figures), converted(report, figures),
            not_converted(report, figures), next_days(report), calibration(report, figures)]


# ---------------------------------------------------------------- templates


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("slaengine.reports", "templates"),
                      undefined=StrictUndefined, autoescape=select_autoescape(["html.j2"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    # lead values in the text are marked (`report_text.lead`): escaped by every filter
    env.filters["cell"] = lambda text: markdown(text, markdown_cell)
    env.filters["md"] = markdown
    env.filters["html_text"] = html
    return env


def _context(report: MonthlyReport, sections: list[Section]) -> dict[str, Any]:
    return {"title": f"Monthly report: {month_name(report)}", "agreement": report.agreement,
            "header": header_lines(report), "sections": sections}


def render_markdown(report: MonthlyReport, sections: list[Section]) -> str:
    text = environment().get_template("report.md.j2").render(_context(report, sections))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(report: MonthlyReport, sections: list[Section]) -> str:
    return environment().get_template("report.html.j2").render(_context(report, sections))


# ---------------------------------------------------------------- the command


def opening_actions(agreement: Agreement, report: MonthlyReport) -> Section:
    """Last month's actions, with their status as of the report's `now`."""
    tz = ZoneInfo(report.timezone)
    today = report.now.astimezone(tz).date()
    first = report.month.start.astimezone(tz).date()
    last = (report.month.end.astimezone(tz) - timedelta(microseconds=1)).date()
    parts = actions_parts(collect_actions(agreement, today), first, last, month_name(report),
                          today)
    return Section("actions", "Actions from last time", [
        Text(part) if isinstance(part, str) else Table(ACTION_HEADERS, part) for part in parts])


def planning(engine: Engine, records: Iterable[RawRecord], report: MonthlyReport,
             customers: int | None) -> Section:
    """`slaengine plan` over the same leads, as of the report's `now`."""
    try:
        result = plan(engine, records, customers or 1, report.now)
    except ValueError as exc:  # a lifecycle with fewer than two stages to plan through
        return Section("planning", "Working backward", [Text(f"No plan: {exc}.")])
    parts = planning_parts(result, customers, local_text(report.now, ZoneInfo(report.timezone))
                           + f" {report.timezone}")
    return Section("planning", "Working backward", [
        Text(part) if isinstance(part, str) else Table(*part, right=[1, 2, 4]
                                                       if customers else [1, 3])
        for part in parts])


@click.command("report")
@click.option("--leads", "leads_path", required=True, metavar="FILE",
              help="CSV, JSONL or Parquet lead export; `-` reads JSONL from stdin.")
@click.option("--month", "month_text", required=True, metavar="YYYY-MM",
              help="The month to report on, in the agreement's timezone.")
@agreement_option
@click.option("--now", "now_text", metavar="ISO",
              help="Evaluation time (default: the end of the month, or the current time if "
                   "that is earlier).")
@click.option("--out", "out_dir", metavar="DIR", default="reports", show_default=True,
              type=click.Path(path_type=Path, file_okay=False),
              help="Folder for report-YYYY-MM.md, .html and the charts' .svg files.")
@click.option("--customers", type=click.IntRange(min=1), metavar="N",
              help="Customers to win (per period of the MQL volume KPI): adds the leads needed "
                   "at each stage to the planning section, as `slaengine plan`.")
@mapping_option
def report_command(leads_path: str, month_text: str, agreement_dir: Path, now_text: str | None,
                   out_dir: Path, mapping_file: Path | None, customers: int | None) -> None:
    """The monthly feedback report: what converted and why, what did not, the next 30 days."""
    month_text = checked_month(month_text)
    try:  # matplotlib takes a while to import, and only this command needs it
        from ..reports.charts import monthly_charts  # noqa: PLC0415
    except ImportError:  # matplotlib is the `report` extra
        raise UsageError("the report draws its charts with matplotlib: "
                         "pip install 'slaengine[report]'") from None
    agreement = open_agreement(agreement_dir)
    engine = engine_for(agreement, mapping_file)
    month = parse_period(month_text.strip(), engine.tz)
    if now_text is not None:
        now, basis = parse_now(now_text), "given with --now"
    else:
        now, basis = default_now(month, datetime.now(UTC))
    engine, checked = checked_leads(engine, leads_path)
    if leads_path == "-":  # read twice (the month, then the calibration): keep stdin's records
        records: list[RawRecord] = list(checked)
        first, again = iter(records), iter(records)
    else:
        first, again = checked, open_leads(engine, Path(leads_path), on_warning=warn_one).records
    report = build_monthly(engine, first, month, now, calibration_leads=again, now_basis=basis)
    stem = f"report-{month.key}"
    charts = monthly_charts(report)
    sections = build_sections(report, charts, stem)
    sections.insert(0, opening_actions(agreement, report))
    third = (iter(records) if leads_path == "-"
             else open_leads(engine, Path(leads_path), on_warning=warn_one).records)
    sections.insert(-1, planning(engine, third, report, customers))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in charts:
        written.append(out_dir / f"{stem}-{chart.name}.svg")
        atomic_write(written[-1], chart.svg)  # never through a symbolic link
    for suffix, text in (("md", render_markdown(report, sections)),
                         ("html", render_html(report, sections))):
        written.append(out_dir / f"{stem}.{suffix}")
        atomic_write(written[-1], text)
    for path in written[-2:]:
        click.echo(str(path))
    click.echo(f"{plural(report.records, 'lead')} read, {report.with_errors:,} with errors; "
               f"{len(charts)} charts in {out_dir}", err=True)

