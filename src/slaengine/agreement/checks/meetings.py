"""Meetings and their records: owners are parties, records name a meeting, and (with a today)
actions past their due date and meetings missing for their last full period."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from ..cadence import action_status, cadence_word, missed, period_label
from ..describe import party_label
from ..diagnostics import Diagnostic, warning
from ..loader import PathKey
from .base import CheckContext

_FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-([a-z][a-z0-9_]*)$")


def check_meetings(ctx: CheckContext) -> Iterator[Diagnostic]:
    for name, meeting in ctx.spec.meetings.items():
        for i, owner in enumerate(meeting.owners):
            yield from ctx.party_ref(owner, ("meetings", name, "owners", i))
    for i, record in enumerate(ctx.meetings):
        base = ("meeting_records", i)
        if record.meeting not in ctx.spec.meetings:
            yield ctx.unknown("meeting", record.meeting, list(ctx.spec.meetings),
                              (*base, "meeting"), "add it under `meetings:` in agreement.yaml")
        for j, action in enumerate(record.actions):
            yield from ctx.party_ref(action.owner, (*base, "actions", j, "owner"))
        location = ctx.at(base)
        if location is not None:
            stem = Path(location.file).stem
            expected = f"{record.date.isoformat()}-{record.meeting}"
            if stem != expected:
                yield warning("meeting-file-name",
                              f"the record of {record.date.isoformat()} is in `{stem}.yaml`",
                              ctx.at((*base, "date")),
                              f"name the file `{expected}.yaml`, so records sort by date")


def check_cadence(ctx: CheckContext) -> Iterator[Diagnostic]:
    """Only with a today: overdue actions of reviews and meetings, and missed meetings."""
    today = ctx.today
    if today is None:
        return
    for i, review in enumerate(ctx.reviews):
        for j, action in enumerate(review.actions):
            yield from _overdue(ctx, today, action.owner, action.what, action.due, action.done,
                                ("reviews", i, "actions", j), f"the review of {review.date}")
    for i, record in enumerate(ctx.meetings):
        title = (ctx.spec.meetings[record.meeting].title if record.meeting in ctx.spec.meetings
                 else record.meeting)
        for j, item in enumerate(record.actions):
            yield from _overdue(ctx, today, item.owner, item.what, item.due, item.done,
                                ("meeting_records", i, "actions", j),
                                f"the {title} of {record.date}")
    for name, meeting in ctx.spec.meetings.items():
        held = [r.date for r in ctx.meetings if r.meeting == name]
        gap = missed(meeting.every, held, today)
        if gap is not None:
            start, _ = gap
            yield warning("meeting-missed",
                          f"no record of the {meeting.title} for "
                          f"{period_label(start, meeting.every)} "
                          f"(it is held {cadence_word(meeting.every)})",
                          ctx.at(("meetings", name), key=True),
                          f"record it in `meetings/<YYYY-MM-DD>-{name}.yaml`, e.g. with "
                          f"`slaengine meeting new {name}`")


def _overdue(ctx: CheckContext, today: date, owner: str, what: str, due: date | None,
             done: bool | date, path: PathKey, source: str) -> Iterator[Diagnostic]:
    if due is None or action_status(due, done, today) != "overdue":
        return
    days = (today - due).days
    yield warning("action-overdue",
                  f"“{what}” ({party_label(ctx.spec, owner)}, from {source}) was due on "
                  f"{due.isoformat()} ({days} day{'s' if days != 1 else ''} ago) and is not done",
                  ctx.at((*path, "due")),
                  "write `done: true` (or the date it was done), or agree a new `due` date")
