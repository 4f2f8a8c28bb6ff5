"""Scaffold a meeting record: the meeting, its date, the month's numbers and the open actions.

`draft_meeting` words the file; `write_new` puts it in place without ever following a
symlink or replacing a file: the text goes to a temporary file in the same folder, which is
then hard-linked to the record's name (an error if that name exists) and removed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..agreement.diagnostics import UsageError
from ..agreement.digest import to_yaml
from ..api import Agreement
from .actions import ActionItem

HEADER = "# yaml-language-server: $schema=../../schema/meeting.schema.json\n"
# The monthly feedback meeting's three questions, in the order they are asked.
QUESTIONS = {"converted": "Which leads converted, and why?",
             "not_converted": "Which leads did not convert, and why?",
             "next_30_days": "What do the next 30 days of pipeline look like?"}


@dataclass(frozen=True)
class Headlines:
    """The month's numbers from the monthly report, one plain sentence per line."""

    month: str  # `October 2026`
    command: str  # how to see the whole report
    summary: list[str]
    by_question: dict[str, list[str]]


@dataclass(frozen=True)
class Draft:
    path: Path
    text: str


def draft_meeting(agreement: Agreement, meeting_id: str, day: date,
                  headlines: Headlines | None, open_actions: list[ActionItem]) -> Draft:
    """The text of `meetings/<day>-<meeting>.yaml`; UsageError for an unknown meeting."""
    meetings = agreement.spec.meetings
    if meeting_id not in meetings:
        known = ", ".join(f"`{m}`" for m in meetings) or "none: add a `meetings:` section"
        raise UsageError(f"unknown meeting `{meeting_id}`; the agreement's meetings: {known}")
    meeting = meetings[meeting_id]
    lines = [HEADER.rstrip("\n"),
             f"# {meeting.title}, {day.isoformat()}. Fill in the notes and the actions agreed;",
             "# `slaengine validate` checks this file, `slaengine actions` lists its actions."]
    for item in meeting.agenda:
        lines.append(f"# Agenda: {item}")
    lines += [f"meeting: {meeting_id}", f"date: {day.isoformat()}"]  # an id: plain YAML
    lines.append("attendees: []  # the names of who came, e.g. [Dana Whitfield, Raj Patel]")
    if headlines is not None:
        lines.append(f"# {headlines.month} in numbers ({headlines.command}):")
        lines += [f"#   {line}" for line in headlines.summary]
    lines.append("notes:")
    for key, question in QUESTIONS.items():
        lines.append(f"  # {question}")
        facts = headlines.by_question.get(key, []) if headlines else []
        lines.append("  " + to_yaml({key: " ".join(facts)}).rstrip("\n"))
    lines.append("# Still open: go through each; mark it done in the file it came from.")
    if not open_actions:
        lines.append("#   (none)")
    for action in open_actions:
        due = f"due {action.due}" if action.due else "no due date"
        lines.append(f"#   [{action.status}] {action.owner_title}: {action.what} ({due}; "
                     f"{action.source})")
    lines.append("actions: []")
    owners = " or ".join(meeting.owners)
    lines.append(f"#  - {{owner: {owners}, what: ..., due: YYYY-MM-DD, done: false}}")
    path = agreement.root / "meetings" / f"{day.isoformat()}-{meeting_id}.yaml"
    return Draft(path, "\n".join(lines) + "\n")


def write_new(path: Path, text: str) -> None:
    """Create `path` with `text` atomically; refuse a symlinked folder or an existing file."""
    folder = path.parent
    if folder.is_symlink():
        raise UsageError(f"{folder} is a symbolic link; meeting records are written only into "
                         "a real folder")
    if path.is_symlink() or path.exists():
        raise UsageError(f"{path} already exists; edit it, or give another --today")
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".meeting-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)  # fails rather than replace a file that appeared meanwhile
        except FileExistsError:
            raise UsageError(f"{path} already exists; edit it, or give another --today") from None
    finally:
        os.unlink(temp)
