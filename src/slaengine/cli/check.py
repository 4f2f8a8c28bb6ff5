"""`slaengine check`: the weekly report of breaches, at-risk leads, violations, recycles, credits.

One pass over the leads builds a `CheckReport` (`slaengine.reports.weekly`); a renderer per format
turns it into text (a terminal), Markdown (a PR, an issue, Slack), JSON (scripts) or GitHub
Actions workflow commands followed by the Markdown (and the job summary).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import click
import orjson

from ..agreement.markdown_text import Md, lead_code, lead_message, lead_text
from ..evaluate.decision import Decision
from ..evaluate.evaluator import Engine
from ..evaluate.intake import open_leads
from ..evaluate.leads import RawRecord, file_size
from ..evaluate.quality import Survey
from ..reports.quality import ColumnQuality, column_quality
from ..reports.weekly import (
    FAIL_ON,
    AtRisk,
    Breach,
    CheckReport,
    FailOn,
    LevelReport,
    build_check,
    business_time_text,
)
from .evaluate import (
    Progress,
    agreement_option,
    engine_for,
    mapping_option,
    now_option,
    open_agreement,
    parse_now,
    warn,
    warn_one,
)
from .reporters import escape_github

NO_ID = "(no id)"


# ---------------------------------------------------------------- wording shared by renderers

def _tz(report: CheckReport) -> tzinfo:
    return ZoneInfo(report.timezone)


def when(moment: datetime, report: CheckReport) -> str:
    """`Mon 23 Nov 2026 17:30` in the agreement's timezone, always with the year."""
    local = moment.astimezone(_tz(report))
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def now_text(report: CheckReport) -> str:
    local = report.now.astimezone(_tz(report))
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {report.timezone}"


def owner_title(report: CheckReport, level: LevelReport) -> str:
    """The owning party's title (`Sales`), not its id."""
    return next((g.title for g in report.owners if g.party == level.owner), level.owner)


def attainment_text(level: LevelReport) -> str:
    value = level.attainment
    return "no value" if value is None else f"{value:.1%}"


def lead_id(value: object) -> str:
    return NO_ID if value is None else str(value)


def short_digest(digest: str) -> str:
    return digest[:19] + "…" if len(digest) > 19 else digest


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def leads_line(report: CheckReport) -> str:
    return (f"{plural(report.leads, 'lead')} read, {report.with_errors:,} with errors "
            f"({report.unreadable:,} unreadable)")


def level_summary(level: LevelReport) -> str:
    parts = []
    if level.breached_total:
        parts.append(f"{level.breached_total:,} breached")
    if level.at_risk_total:
        parts.append(f"{level.at_risk_total:,} at risk")
    return ", ".join(parts) if parts else "nothing breached or at risk"


def breach_cells(breach: Breach, report: CheckReport) -> list[str]:
    state = (f"stopped {when(breach.stopped_at, report)}" if breach.stopped_at is not None
             else "still open")
    return [lead_id(breach.id), when(breach.due_at, report),
            business_time_text(breach.late_s), state, breach.escalate_to or "—"]


def at_risk_cells(item: AtRisk, report: CheckReport) -> list[str]:
    return [lead_id(item.id), when(item.due_at, report),
            business_time_text(item.remaining_s)]


BREACH_HEADERS = ["Breached", "Due", "Late (business time)", "Clock", "Escalate to"]
AT_RISK_HEADERS = ["At risk", "Due", "Time left (business time)"]
STATUS_HEADERS = ["not applicable", "not started", "running", "at risk", "met", "breached"]
STATUSES = ("not_applicable", "not_started", "running", "at_risk", "met", "breached")


def more(shown: int, total: int) -> str | None:
    return f"… and {total - shown:,} more" if total > shown else None


# ---------------------------------------------------------------- text

def aligned_rows(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str,
             right: Sequence[int] = ()) -> list[str]:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if i in right else c.ljust(w)
               for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return (indent + "  ".join(out)).rstrip()

    return [line(headers), line(["─" * w for w in widths]), *map(line, rows)]


def render_text(report: CheckReport) -> str:
    out = [f"SLA check · {report.name} {report.version} ({short_digest(report.digest)})",
           f"Now {now_text(report)} · {leads_line(report)}",
           "", "Breaches and at-risk leads", "══════════════════════════"]
    for group in report.owners:
        lead = f" ({group.lead})" if group.lead else ""
        out += ["", f"{group.title}{lead}"]
        for level in group.levels:
            out.append(f"  {level.title} [{level.name}], within {level.within}: "
                       f"{level_summary(level)}")
            if level.breached:
                out += aligned_rows(BREACH_HEADERS,
                                [breach_cells(b, report) for b in level.breached], "    ")
            if (line := more(len(level.breached), level.breached_total)):
                out.append(f"    {line}")
            if level.at_risk:
                if level.breached:
                    out.append("")
                out += aligned_rows(AT_RISK_HEADERS,
                                [at_risk_cells(a, report) for a in level.at_risk], "    ")
            if (line := more(len(level.at_risk), level.at_risk_total)):
                out.append(f"    {line}")
    out += ["", f"Stage violations: {sum(g.count for g in report.violations):,}"]
    for vgroup in report.violations:
        out.append(f"  {vgroup.code}: {plural(vgroup.count, 'lead')}")
        out += [f"    {lead_id(v.id)}: {v.message}" for v in vgroup.leads]
        if (line := more(len(vgroup.leads), vgroup.count)):
            out.append(f"    {line}")
    out += ["", f"Leads due to recycle: {report.recycle_total:,}"]
    for r in report.recycle:
        out.append(f"  {lead_id(r.id)}: {r.stage or '(no stage)'} → {r.to}: {r.message}")
    if (line := more(len(report.recycle), report.recycle_total)):
        out.append(f"  {line}")
    out += ["", f"Guarantee credits: {report.credits_total:,}"]
    out += [f"  {lead_id(c.id)}: {c.message}" for c in report.credits]
    if (line := more(len(report.credits), report.credits_total)):
        out.append(f"  {line}")
    out += ["", "SLA attainment (met / (met + breached))"]
    rows = [[level.title, owner_title(report, level),
             *(f"{level.counts[s]:,}" for s in STATUSES),
             attainment_text(level)] for level in report.service_levels.values()]
    out += aligned_rows(["Service level", "Owner", *STATUS_HEADERS, "Attainment"], rows, "  ",
                    right=range(2, 9))
    if report.record_errors_total:
        out += ["", f"Record errors: {report.record_errors_total:,}"]
        out += [f"  {_error_where(e.row, e.id)}: {e.message}" for e in report.record_errors]
        if (line := more(len(report.record_errors), report.record_errors_total)):
            out.append(f"  {line}")
    out += quality_text(report)
    return "\n".join(out)


QUALITY_HEADERS = ["Column", "Field", "Read", "Missing", "Unreadable", "Not allowed",
                   "Most common offending values"]


def _offending(column: ColumnQuality) -> str:
    shown = (f"`{o.value}` ({o.count:,}" + (", not allowed)" if o.problem == "not-allowed"
                                              else ")") for o in column.offending)
    return ", ".join(shown) or "—"


def _quality_rows(report: CheckReport) -> list[list[str]]:
    return [[c.column, c.field, f"{c.read:,}", f"{c.missing:,}", f"{c.unreadable:,}",
             f"{c.not_allowed:,}", _offending(c)] for c in report.quality]


def quality_text(report: CheckReport) -> list[str]:
    """The data-quality section: per column of the file, blank, unreadable, not allowed."""
    if not report.quality:
        return []
    return ["", "Data quality (per column of the file)",
            *aligned_rows(QUALITY_HEADERS, _quality_rows(report), "  ", right=range(2, 6))]


def quality_markdown(report: CheckReport) -> list[str]:
    if not report.quality:
        return []
    rows = [[lead_text(c.column), *row[1:-1], _offending_markdown(c)]
            for c, row in zip(report.quality, _quality_rows(report), strict=True)]
    return ["", "## Data quality", "", *markdown_table(QUALITY_HEADERS, rows, right=range(2, 6))]


def _offending_markdown(column: ColumnQuality) -> Md:
    """The offending values of a column: lead text, so each is escaped and shown as code."""
    shown = (lead_code(o.value) + f" ({o.count:,}" + (", not allowed)" if o.problem ==
                                                       "not-allowed" else ")")
             for o in column.offending)
    return Md(", ".join(shown) or "—")


def _error_where(row: int | None, value: object) -> str:
    where = f"row {row}" if row is not None else ""
    if value is not None:
        where = f"{where} ({value})" if where else str(value)
    return where or NO_ID


# ---------------------------------------------------------------- markdown

def _md_lead_id(value: object) -> Md:
    return lead_text(lead_id(value))


def _md_lead_row(cells: list[str]) -> list[str]:
    """A breach or at-risk row whose first cell is the lead's id (lead text)."""
    return [_md_lead_id(cells[0]), *cells[1:]]


def markdown_cell(text: str) -> str:
    """A table cell of agreement text (trusted; `code` spans kept): pipes escaped, line breaks
    flattened. Lead text comes already escaped by `lead_text` (an `Md`) and passes as it is."""
    if isinstance(text, Md):
        return text
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
              right: Sequence[int] = ()) -> list[str]:
    rule = ["---:" if i in right else "---" for i in range(len(headers))]
    return [f"| {' | '.join(map(markdown_cell, headers))} |", f"| {' | '.join(rule)} |",
            *(f"| {' | '.join(map(markdown_cell, row))} |" for row in rows)]


def _md_more(shown: int, total: int) -> list[str]:
    line = more(shown, total)
    return ["", f"_{line}_"] if line else []


def render_markdown(report: CheckReport) -> str:
    out = [f"# SLA check: {markdown_cell(report.name)} {report.version}", "",
           f"Agreement digest `{short_digest(report.digest)}` · now **{now_text(report)}** · "
           f"{leads_line(report)}", "", "## Breaches and at-risk leads"]
    for group in report.owners:
        lead = f" ({markdown_cell(group.lead)})" if group.lead else ""
        out += ["", f"### {markdown_cell(group.title)}{lead}"]
        for level in group.levels:
            heading = f"#### {markdown_cell(level.title)} (`{level.name}`), within {level.within}"
            out += ["", heading, "",
                    f"**{level_summary(level)}**"]
            if level.breached:
                out += ["", *markdown_table(BREACH_HEADERS,
                                       [_md_lead_row(breach_cells(b, report))
                                        for b in level.breached])]
            out += _md_more(len(level.breached), level.breached_total)
            if level.at_risk:
                out += ["", *markdown_table(AT_RISK_HEADERS,
                                       [_md_lead_row(at_risk_cells(a, report))
                                        for a in level.at_risk])]
            out += _md_more(len(level.at_risk), level.at_risk_total)
    out += ["", f"## Stage violations ({sum(g.count for g in report.violations):,})"]
    if report.violations:
        out += ["", *markdown_table(["Code", "Leads"], [[f"`{g.code}`", f"{g.count:,}"]
                                                    for g in report.violations], right=[1])]
    for vgroup in report.violations:
        out += ["", f"### `{vgroup.code}`", "",
                *markdown_table(["Lead", "Stage", "Message"],
                           [[_md_lead_id(v.id), lead_text(v.stage or "—"), lead_message(v.message)]
                            for v in vgroup.leads])]
        out += _md_more(len(vgroup.leads), vgroup.count)
    out += ["", f"## Leads due to recycle ({report.recycle_total:,})"]
    if report.recycle:
        out += ["", *markdown_table(["Lead", "Stage", "Return to", "Reason"],
                               [[_md_lead_id(r.id), lead_text(r.stage or "—"), r.to,
                                 lead_message(r.message)]
                                for r in report.recycle])]
    out += _md_more(len(report.recycle), report.recycle_total)
    out += ["", f"## Guarantee credits ({report.credits_total:,})"]
    if report.credits:
        out += ["", *markdown_table(["Lead", "Reason"],
                               [[_md_lead_id(c.id), lead_message(c.message)]
                                for c in report.credits])]
    out += _md_more(len(report.credits), report.credits_total)
    out += ["", "## SLA attainment", "",
            *markdown_table(["Service level", "Owner", *STATUS_HEADERS, "Attainment"],
                       [[markdown_cell(level.title), markdown_cell(owner_title(report, level)),
                         *(f"{level.counts[s]:,}" for s in STATUSES), attainment_text(level)]
                        for level in report.service_levels.values()], right=range(2, 9)),
            "", "_Attainment is met / (met + breached); breached includes clocks still running "
                "past their due time._"]
    if report.record_errors_total:
        out += ["", f"## Record errors ({report.record_errors_total:,})", "",
                *markdown_table(["Row", "Lead", "Error"],
                           [["" if e.row is None else str(e.row),
                             "" if e.id is None else lead_text(e.id), lead_message(e.message)]
                            for e in report.record_errors])]
        out += _md_more(len(report.record_errors), report.record_errors_total)
    out += quality_markdown(report)
    return "\n".join(out)


# ---------------------------------------------------------------- json

def render_json(report: CheckReport) -> str:
    return orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode()


# ---------------------------------------------------------------- github

def github_annotations(report: CheckReport) -> list[str]:
    """One `::error` per service level with breaches, one `::warning` per level at risk."""
    lines = []
    for group in report.owners:
        for level in group.levels:
            name = f"{level.title} [{level.name}] (owner: {group.title})"
            worst = level.worst_breach
            if level.breached_total and worst is not None:
                escalate = f"; escalate to {worst.escalate_to}" if worst.escalate_to else ""
                message = (f"{name}: {plural(level.breached_total, 'lead')} breached; worst "
                           f"{lead_id(worst.id)}, {business_time_text(worst.late_s)} late "
                           f"(due {when(worst.due_at, report)}){escalate}")
                lines.append(f"::error title=SLA breach::{escape_github(message)}")
            risk = level.worst_at_risk
            if level.at_risk_total and risk is not None:
                message = (f"{name}: {plural(level.at_risk_total, 'lead')} at risk; soonest "
                           f"{lead_id(risk.id)}, {business_time_text(risk.remaining_s)} left "
                           f"(due {when(risk.due_at, report)})")
                lines.append(f"::warning title=SLA at risk::{escape_github(message)}")
    return lines


def render_github(report: CheckReport) -> str:
    return "\n".join([*github_annotations(report), render_markdown(report)])


RENDERERS: dict[str, Callable[[CheckReport], str]] = {
    "text": render_text, "markdown": render_markdown, "json": render_json,
    "github": render_github}


# ---------------------------------------------------------------- the command

def numbered(engine: Engine, records: Iterator[RawRecord],
             now: datetime) -> Iterator[tuple[int, Decision]]:
    """Each decision with the row of its record (for the record errors)."""
    rows: list[int] = [0]

    def rows_seen() -> Iterator[RawRecord]:
        for record in records:
            rows[0] = record.row
            yield record

    for decision in engine.evaluate_many(rows_seen(), now, in_full=True):
        yield rows[0], decision


def surveyed(survey: Survey, pairs: Iterator[tuple[int, Decision]]
             ) -> Iterator[tuple[int, Decision]]:
    """The decisions, unchanged, each counted into the data-quality survey."""
    for row, decision in pairs:
        survey.add_decision(dict(decision.values), decision.errors, decision.warnings,
                            decision.evaluated)
        yield row, decision


@click.command("check")
@click.option("--leads", "leads_path", required=True, metavar="FILE",
              help="CSV, JSONL or Parquet lead export; `-` reads JSONL from stdin.")
@agreement_option
@now_option
@mapping_option
@click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="text",
              show_default=True,
              help="github: workflow commands, then the Markdown report (also appended to "
                   "$GITHUB_STEP_SUMMARY when set).")
@click.option("--fail-on", "fail_on", type=click.Choice(FAIL_ON), default="breached",
              show_default=True, help="Exit 1 on any breach, on any breach or at-risk lead, "
                                      "or never.")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="Leads shown per list in text, Markdown and GitHub output (JSON lists all).")
def check_command(leads_path: str, agreement_dir: Path, now_text: str | None,
                  mapping_file: Path | None, fmt: str, fail_on: str, limit: int) -> None:
    """Breaches and at-risk leads by owner, stage violations, recycles, credits, attainment."""
    now = parse_now(now_text)
    agreement = open_agreement(agreement_dir)
    engine = engine_for(agreement, mapping_file)
    stdin = leads_path == "-"
    progress = Progress(None if stdin else file_size(Path(leads_path)))
    lead_file = open_leads(engine, leads_path if stdin else Path(leads_path),
                           on_open=progress.opened, on_warning=warn_one)
    warn(lead_file.warnings)
    engine = lead_file.engine
    survey = Survey(engine, lead_file.columns)
    report = build_check(engine, surveyed(survey, numbered(engine, progress.follow(
        lead_file.records), now)), now, limit=None if fmt == "json" else limit)
    report = replace(report, quality=column_quality(survey, None if fmt == "json" else 3))
    click.echo(RENDERERS[fmt](report))
    if fmt == "github":
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(render_markdown(report) + "\n")
    sys.exit(1 if report.failed(cast(FailOn, fail_on)) else 0)
