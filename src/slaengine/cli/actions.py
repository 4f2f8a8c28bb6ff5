"""`slaengine actions`: every action from reviews and meetings, and which are overdue."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from ..change.actions import ActionItem, actions_json, collect_actions, counts
from .commands import _today
from .evaluate import agreement_option, open_agreement


def _summary(items: list[ActionItem]) -> str:
    found = counts(items)
    return f"{found['overdue']} overdue, {found['open']} open, {found['done']} done"


def _done_text(item: ActionItem) -> str:
    if item.status != "done":
        return item.status
    return "done" if item.done is True else f"done {item.done}"


def render_text(items: list[ActionItem], today: str) -> str:
    lines = [f"Actions as of {today}: {_summary(items)}"]
    for item in items:
        due = f"due {item.due}" if item.due else "no due date"
        lines.append(f"  {_done_text(item):<15} {item.owner_title}: {item.what} ({due}; "
                     f"from {item.source_title})")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(items: list[ActionItem], today: str) -> str:
    lines = [f"## Actions as of {today}", "", _summary(items).capitalize() + ".", ""]
    if items:
        lines += ["| Status | Owner | Action | Due | From |", "|---|---|---|---|---|"]
        lines += [f"| {_done_text(i)} | {_cell(i.owner_title)} | {_cell(i.what)} | "
                  f"{i.due or '—'} | {_cell(i.source_title)} |" for i in items]
    return "\n".join(lines)


@click.command("actions")
@agreement_option
@click.option("--today", metavar="DATE", help="Today's date (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
@click.option("--fail-on", type=click.Choice(["overdue", "never"]), default="never",
              show_default=True, help="Exit 1 when an action is overdue.")
def actions_command(agreement_dir: Path, today: str | None, fmt: str, fail_on: str) -> None:
    """Every action agreed in reviews and meetings: overdue, open, then done."""
    agreement = open_agreement(agreement_dir)
    day = _today(today)
    items = collect_actions(agreement, day)
    if fmt == "json":
        sys.stdout.buffer.write(orjson.dumps(actions_json(items, day), option=orjson.OPT_INDENT_2)
                                + b"\n")
    elif fmt == "markdown":
        click.echo(render_markdown(items, day.isoformat()))
    else:
        click.echo(render_text(items, day.isoformat()))
    if fail_on == "overdue" and counts(items)["overdue"]:
        sys.exit(1)
