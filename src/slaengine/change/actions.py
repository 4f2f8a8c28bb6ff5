"""Every action agreed in reviews and meetings, with its status as of a day.

An action is `done` (`done: true` or the date it was done), `overdue` (due before today, not
done) or `open`. The list is ordered as a meeting goes through it: overdue first (oldest due
first), then open (soonest due first, undated last), then done (most recent due first).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..agreement.cadence import ActionStatus, action_status
from ..agreement.describe import party_label
from ..agreement.models import MeetingRecord, Review
from ..api import Agreement

STATUSES: tuple[ActionStatus, ...] = ("overdue", "open", "done")


@dataclass(frozen=True)
class ActionItem:
    """One action, where it was agreed, and its status."""

    source: str  # the record's file, relative to the agreement folder
    source_title: str  # `Monthly feedback review, 2026-10-06` / `Review of 2026-11-16`
    source_date: date
    owner: str
    owner_title: str
    what: str
    due: date | None
    done: bool | date
    status: ActionStatus

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "source_title": self.source_title, "owner": self.owner,
                "what": self.what, "due": self.due.isoformat() if self.due else None,
                "done": self.done if isinstance(self.done, bool) else self.done.isoformat(),
                "status": self.status}


def _records(agreement: Agreement, key: str) -> list[tuple[str, dict[str, Any]]]:
    """Each record of a collection (`reviews`, `meeting_records`) with its file, in file order."""
    raw = agreement.loaded.data.get(key, [])
    out = []
    for i, data in enumerate(raw):
        location = agreement.loaded.locate((key, i))
        path = Path(location.file) if location is not None else Path(f"{key}/{i}")
        try:
            relative = path.resolve().relative_to(agreement.root.resolve()).as_posix()
        except ValueError:
            relative = path.as_posix()
        out.append((relative, data))
    return out


def collect_actions(agreement: Agreement, today: date) -> list[ActionItem]:
    """Every action of every review and meeting record, ordered as the module says."""
    spec = agreement.spec
    items: list[ActionItem] = []
    for source, data in _records(agreement, "reviews"):
        review = Review.model_validate(data, strict=True)
        for action in review.actions:
            items.append(ActionItem(
                source, f"Review of {review.date.isoformat()}", review.date, action.owner,
                party_label(spec, action.owner), action.what, action.due, action.done,
                action_status(action.due, action.done, today)))
    for source, data in _records(agreement, "meeting_records"):
        record = MeetingRecord.model_validate(data, strict=True)
        meeting = spec.meetings.get(record.meeting)
        title = meeting.title if meeting is not None else record.meeting
        for item in record.actions:
            items.append(ActionItem(
                source, f"{title}, {record.date.isoformat()}", record.date, item.owner,
                party_label(spec, item.owner), item.what, item.due, item.done,
                action_status(item.due, item.done, today)))
    return sorted(items, key=_order)


def _order(item: ActionItem) -> tuple[int, int, str, str]:
    rank = STATUSES.index(item.status)
    due = item.due.toordinal() if item.due else 10**7
    if item.status == "done":
        due = -due
    return rank, due, item.source_date.isoformat(), item.what


def counts(items: list[ActionItem]) -> dict[str, int]:
    """How many actions of each status, every status present."""
    found = Counter(item.status for item in items)
    return {status: found[status] for status in STATUSES}


def actions_json(items: list[ActionItem], today: date) -> dict[str, Any]:
    """The `actions --format json` document."""
    return {"today": today.isoformat(), "counts": counts(items),
            "actions": [item.to_json() for item in items]}
