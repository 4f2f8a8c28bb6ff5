"""`slaengine diff`: what changed in meaning between two versions, and what it does to leads."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import orjson

from ..agreement.describe import humanize, percent_text, value_text
from ..agreement.digest import short_digest
from ..agreement.markdown_text import lead_text
from ..agreement.validator import validate_folder
from ..api import Agreement
from ..change.diff import (
    MAJOR_SECTIONS,
    SECTIONS,
    AgreementDiff,
    Change,
    bump_version,
    diff_agreements,
)
from ..change.impact import DefinitionImpact, Example, Impact, Transitions, measure_impact
from ..change.revisions import Side, open_side
from ..evaluate.intake import check_columns, file_columns, renamed
from ..evaluate.leads import detect_format, read_leads
from .evaluate import agreement_option, now_option, parse_now

try:  # KPIs are computed by `slaengine.kpis`, worded by `slaengine kpis`
    from .kpis import number_text
except ImportError:  # pragma: no cover - a slaengine without KPIs
    number_text = None  # type: ignore[assignment]

MARKER = "<!-- slaengine-diff -->"
_SIGNS = {"added": "+", "removed": "-", "changed": "~"}


@dataclass
class DiffReport:
    base: Side
    head: Side
    before: Agreement
    after: Agreement
    diff: AgreementDiff
    impact: Impact | None = None
    leads: str | None = None

    @property
    def suggested_version(self) -> str:
        return bump_version(self.before.version, self.diff.bump)

    def side_json(self, side: Side, agreement: Agreement) -> dict[str, Any]:
        return {"source": side.label, "commit": side.commit, "agreement": agreement.name,
                "version": agreement.version, "digest": agreement.digest}

    def to_json(self) -> dict[str, Any]:
        return {"base": self.side_json(self.base, self.before),
                "head": self.side_json(self.head, self.after),
                "identical": not self.diff.changes, "suggested_bump": self.diff.bump,
                "suggested_version": self.suggested_version,
                "changes": [c.to_json() for c in self.diff.changes],
                "consequences": [c.to_json() for c in self.diff.consequences],
                "impact": None if self.impact is None else
                {"leads_file": self.leads, **self.impact.to_json()}}


def load_side(side: Side) -> Agreement:
    """Validate one side; an invalid one prints its errors (`REF:path:line:col: ...`), exit 1."""
    result = validate_folder(side.folder)
    if not result.ok:
        prefix = f"{side.label}:" if side.root is not None else ""
        for diag in result.errors:
            click.echo(prefix + diag.format(relative_to=side.root), err=True)
        click.echo(f"slaengine: {side.label} is not a valid agreement", err=True)
        sys.exit(1)
    return Agreement(result)


# ---------------------------------------------------------------- words shared by the formats


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _state(value: str | None) -> str:
    return "absent" if value is None else value.replace("_", " ")


def _moves(moved: Transitions) -> str:
    return ", ".join(f"{_state(a)} → {_state(b)} {n:,}" for a, b, n in moved.most_common())


def _kpi_value(value: Any, unit: str | None) -> str:
    if value is None:
        return "no value"
    if number_text is not None:
        return number_text(value, unit)
    if unit == "%" and isinstance(value, int | float):
        return percent_text(round(value, 3))
    return value_text(round(value, 2)) + (f" {unit}" if unit and unit != "%" else "")


def _headline(report: DiffReport) -> str:
    changes = report.diff.changes
    if not changes:
        return f"No change of meaning: both sides have digest {report.after.digest}."
    why = ""
    if report.diff.bump == "major":
        reason = next((c for c in changes if c.severity in ("narrows", "tightens")
                       and c.section in MAJOR_SECTIONS), None)
        why = (f": {reason.subject} {reason.severity}" if reason else
               f": {report.diff.consequences[0].text}" if report.diff.consequences else "")
    return (f"{_count(len(changes), 'change')}; suggested version {report.suggested_version} "
            f"({report.diff.bump} change from {report.before.version}{why})")


def _definition_line(found: DefinitionImpact) -> str:
    return (f"{found.title}: {found.before:,} → {found.after:,} leads "
            f"({found.gained:,} gain it, {found.lost:,} lose it)")


def _example_line(example: Example) -> str:
    return (f"{example.id} {'gains' if example.change == 'gained' else 'loses'} it: "
            f"{example.condition}")


def _level_line(moved: Transitions) -> str:
    return f"{moved.title}: {_count(moved.changed, 'lead')} change status ({_moves(moved)})"


def _lifecycle_lines(impact: Impact) -> list[str]:
    return [f"{_count(moved.changed, 'lead')} change {word} ({_moves(moved)})"
            if moved.changed else f"no lead changes {word}"
            for moved, word in ((impact.stages, "stage"), (impact.owners, "owner"))]


def _impact_intro(report: DiffReport, impact: Impact) -> str:
    text = (f"Impact on {_count(impact.leads, 'lead')} from {report.leads}, as of "
            f"{impact.now.isoformat(sep=' ', timespec='minutes')}")
    return text + (f" ({impact.unreadable:,} unreadable, left out)" if impact.unreadable else "")


# ---------------------------------------------------------------- text


def render_text(report: DiffReport) -> str:
    lines = [f"{report.base.label} ({report.before.version}, "
             f"{short_digest(report.before.digest)}) → {report.head.label} "
             f"({report.after.version}, {short_digest(report.after.digest)})",
             _headline(report)]
    for section, changes in report.diff.by_section():
        lines += ["", SECTIONS.get(section, humanize(section))]
        lines += [f"  {_SIGNS[c.kind]} {c.text}"
                  + (f"  [{c.severity}]" if c.severity != "neutral" else "") for c in changes]
    if report.diff.consequences:
        lines += ["", "Following from them"]
        lines += [f"  = {c.text}" for c in report.diff.consequences]
    impact = report.impact
    if impact is not None:
        lines += ["", _impact_intro(report, impact)]
        flipped = [d for d in impact.definitions.values() if d.gained or d.lost]
        for found in flipped:
            lines.append(f"  {_definition_line(found)}")
            lines += [f"    {_example_line(e)}" for e in found.examples]
        if not flipped:
            lines.append("  no lead gains or loses any definition")
        moved = [m for m in impact.service_levels.values() if m.changed]
        lines += [f"  {_level_line(m)}" for m in moved]
        if not moved:
            lines.append("  no service-level status changes")
        lines += [f"  {line}" for line in _lifecycle_lines(impact)]
        lines += [f"  KPI {k.title}: {_kpi_value(k.before, k.unit)} → "
                  f"{_kpi_value(k.after, k.unit)}" for k in impact.kpis]
        if impact.kpi_note:
            lines.append(f"  {impact.kpi_note}")
    return "\n".join(lines)


# ---------------------------------------------------------------- markdown


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _example_markdown(example: Example) -> str:
    """An example lead for the comment: its id is lead text (escaped), the rest the agreement's."""
    return (f"{lead_text(example.id)} {'gains' if example.change == 'gained' else 'loses'} it: "
            f"{_cell(example.condition)}")


def _change_row(change: Change) -> str:
    return (f"| {change.kind} | {_cell(change.text)} | "
            f"{'' if change.severity == 'neutral' else change.severity} |")


def render_markdown(report: DiffReport) -> str:
    """One pull-request comment; the hidden marker lets a workflow find and update it."""
    before, after = report.before, report.after
    lines = [MARKER, f"## Agreement changes: {before.version} → {after.version}", "",
             "| | base | head |", "|---|---|---|",
             f"| source | `{_cell(report.base.label)}` | `{_cell(report.head.label)}` |",
             f"| version | {before.version} | {after.version} |",
             f"| digest | `{short_digest(before.digest)}` | `{short_digest(after.digest)}` |",
             "", f"**{_cell(_headline(report))}**"]
    for section, changes in report.diff.by_section():
        lines += ["", f"### {SECTIONS.get(section, humanize(section))}", "",
                  "| | change | effect |", "|---|---|---|", *map(_change_row, changes)]
    if report.diff.consequences:
        lines += ["", "### Following from them", "",
                  *(f"- {_cell(c.text)}" for c in report.diff.consequences)]
    impact = report.impact
    if impact is not None:
        lines += ["", f"### {_cell(_impact_intro(report, impact))}", ""]
        rows = [d for d in impact.definitions.values() if d.gained or d.lost]
        if rows:
            lines += ["| definition | before | after | gain | lose | examples |",
                      "|---|---:|---:|---:|---:|---|"]
            lines += [f"| {_cell(d.title)} | {d.before:,} | {d.after:,} | {d.gained:,} | "
                      f"{d.lost:,} | " + "<br>".join(_example_markdown(e) for e in d.examples)
                      + " |" for d in rows]
        else:
            lines.append("No lead gains or loses any definition.")
        moved = [m for m in impact.service_levels.values() if m.changed]
        if moved:
            lines += ["", "| service level | leads | status changes |", "|---|---:|---|"]
            lines += [f"| {_cell(m.title)} | {m.changed:,} | {_cell(_moves(m))} |"
                      for m in moved]
        lines += ["", *(f"- {_cell(line)}" for line in _lifecycle_lines(impact))]
        if impact.kpis:
            lines += ["", "| KPI | before | after |", "|---|---:|---:|"]
            lines += [f"| {_cell(k.title)} | {_kpi_value(k.before, k.unit)} | "
                      f"{_kpi_value(k.after, k.unit)} |" for k in impact.kpis]
        if impact.kpi_note:
            lines += ["", f"_{impact.kpi_note}_"]
    return "\n".join(lines)


def render_json(report: DiffReport) -> str:
    return orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode()


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}


def _checked_columns(leads_path: str, *sides: Agreement) -> dict[str, str]:
    """The lead file's columns checked against both versions' fields: the renames from the
    file's spelling to the one the fields read, when they differ only in case."""
    names: dict[str, str] = {}
    if leads_path == "-":
        return names
    read_leads(leads_path)  # a missing or unreadable file fails here, before any work
    columns = file_columns(leads_path)
    warned: set[str] = set()
    for side in sides:
        # diff reads leads through each version's own fields (it takes no --mapping)
        engine, warnings = check_columns(side.engine, columns, leads_path,
                                         detect_format(leads_path), detect=False)
        for text in warnings:
            if text not in warned:
                warned.add(text)
                click.echo(f"slaengine: warning: {text}", err=True)
        for name, column in (engine.mapping or {}).items():
            wanted = side.engine.coerce.columns[name]
            if column != wanted:
                names[column] = wanted
    return names


@click.command("diff")
@click.argument("base")
@click.argument("head", required=False)
@agreement_option
@click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="text",
              show_default=True, help="`markdown` is one pull-request comment.")
@click.option("--leads", "leads_path", metavar="FILE",
              help="Lead file to evaluate under both versions: the impact on real leads.")
@now_option
def diff_command(base: str, head: str | None, agreement_dir: Path, fmt: str,
                 leads_path: str | None, now_text: str | None) -> None:
    """Changes of meaning from BASE to HEAD, in plain language.

    BASE and HEAD are git refs (main, origin/main, HEAD~1, a commit) whose copy of the
    agreement folder is compared, or folders; HEAD defaults to the working folder.
    Formatting (comments, key order, quoting, files) never shows. Exit 0 with or without
    changes, 1 when a side is invalid, 2 for an unknown ref or unreadable input.
    """
    now = parse_now(now_text)
    with open_side(base, agreement_dir) as old, open_side(head, agreement_dir) as new:
        before, after = load_side(old), load_side(new)
        report = DiffReport(old, new, before, after, diff_agreements(before.spec, after.spec))
        if leads_path is not None:
            names = _checked_columns(leads_path, before, after)  # fails here, before any work
            report.impact = measure_impact(
                before, after, lambda: renamed(read_leads(leads_path), names), now)
            report.leads = leads_path
        click.echo(RENDERERS[fmt](report))
