"""`slaengine meeting new`: scaffold a meeting record with the month's numbers and open actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from ..change.actions import collect_actions
from ..change.meetings import Headlines, draft_meeting, write_new
from ..kpis import parse_period
from ..reports.monthly import MonthlyReport, build_monthly, default_now
from .check import plural
from .commands import _today, checked_month
from .evaluate import agreement_option, checked_leads, engine_for, mapping_option, open_agreement
from .kpis import number_text


@click.group("meeting")
def meeting_group() -> None:
    """Records of the meetings both teams hold (see `meetings:` in the agreement)."""


def _month_before(day: date) -> str:
    last = day.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def headlines(report: MonthlyReport, month_key: str, leads: str) -> Headlines:
    """The monthly report's headline numbers, as sentences a meeting reads aloud; `leads` is
    the report command's `--leads` argument (and its `--mapping`, if any)."""
    month = f"{datetime.strptime(month_key, '%Y-%m'):%B %Y}"
    summary = []
    for result in report.kpis.kpis.values():
        verdict = {True: "target met", False: "target missed", None: "no target"}[result.met]
        summary.append(f"{result.title}: {number_text(result.value, result.unit)} ({verdict})")
    for name, counts in report.levels.items():
        title = report.level_titles[name][0]
        summary.append(f"{title}: {counts['met']:,} met, {counts['breached']:,} breached, "
                       f"{counts['running'] + counts['at_risk']:,} still running")
    entered = [f"{report.funnel.get(s.id, 0):,} {s.short}" for s in report.funnel_stages]
    converted = [f"In {month}: {plural(report.converted, 'lead')} converted "
                 f"({', '.join(entered)} entered their stage)."]
    reasons = sorted(report.by_disposition.items(), key=lambda kv: -kv[1])[:3]
    named = [f"{report.disposition_titles.get(code, code)} ({n:,})" for code, n in reasons]
    not_converted = [f"{plural(report.returned, 'lead')} came back to marketing"
                     + (f", most for: {', '.join(named)}." if named else ".")]
    due = sum(sum(c.values()) for c in report.due.values())
    open_leads = sum(report.open_leads.values())
    next_days = [f"{plural(open_leads, 'open lead')}; {plural(due, 'clock')} due in the next "
                 "30 days."]
    return Headlines(month, f"slaengine report --leads {leads} --month {month_key}", summary,
                     {"converted": converted, "not_converted": not_converted,
                      "next_30_days": next_days})


@meeting_group.command("new")
@click.argument("meeting_id")
@agreement_option
@click.option("--month", "month_text", metavar="YYYY-MM",
              help="The month the meeting looks back on (default: the month before --today).")
@click.option("--today", metavar="DATE", help="The meeting's date (default: today).")
@click.option("--leads", "leads_path", metavar="FILE", type=click.Path(path_type=Path),
              help="Lead export to prefill the month's numbers from (the monthly report's).")
@mapping_option
def new_command(meeting_id: str, agreement_dir: Path, month_text: str | None,
                today: str | None, leads_path: Path | None, mapping_file: Path | None) -> None:
    """Write meetings/<today>-<MEETING_ID>.yaml, prefilled; prints its path."""
    agreement = open_agreement(agreement_dir)
    day = _today(today)
    month_key = checked_month(month_text or _month_before(day))
    found = None
    if leads_path is not None:
        engine = engine_for(agreement, mapping_file)
        month = parse_period(month_key, engine.tz)
        now, _ = default_now(month, datetime.now(UTC))
        engine, records = checked_leads(engine, str(leads_path))
        report = build_monthly(engine, records, month, now, calibration_leads=None)
        found = headlines(report, month_key, str(leads_path) + (
            f" --mapping {mapping_file}" if mapping_file is not None else ""))
    still_open = [a for a in collect_actions(agreement, day) if a.status != "done"]
    draft = draft_meeting(agreement, meeting_id, day, found, still_open)
    write_new(draft.path, draft.text)
    click.echo(str(draft.path))
