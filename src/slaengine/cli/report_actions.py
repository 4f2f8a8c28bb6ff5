"""The monthly report's opening section: the actions agreed last, and where each stands.

Returned as plain parts (a sentence, or a table's rows under `HEADERS`) that the report's
section builder lays out, so this module does not depend on the report's block types.
"""

from __future__ import annotations

from datetime import date

from ..change.actions import ActionItem, counts

HEADERS = ["Status", "Owner", "Action", "Due", "Agreed in"]
Part = str | list[list[str]]


def _status(item: ActionItem) -> str:
    if item.status == "done" and isinstance(item.done, date):
        return f"done {item.done.isoformat()}"
    return item.status


def _rows(items: list[ActionItem]) -> list[list[str]]:
    return [[_status(i), i.owner_title, i.what, i.due.isoformat() if i.due else "—",
             i.source_title] for i in items]


def actions_parts(items: list[ActionItem], first: date, last: date, month: str,
                  today: date) -> list[Part]:
    """The actions agreed from `first` to `last` (the report's month), and any other action
    still overdue on `today`, overdue first."""
    agreed = [i for i in items if first <= i.source_date <= last]
    late = [i for i in items if i.status == "overdue" and i not in agreed]
    if not agreed and not late:
        return [f"No actions were agreed in {month} and none is overdue "
                "(`slaengine actions` lists them all)."]
    found = counts(agreed)
    parts: list[Part] = [
        f"Actions agreed in {month}, as of {today.isoformat()}: {found['overdue']} overdue, "
        f"{found['open']} open, {found['done']} done (`slaengine actions` lists them all)."]
    if agreed:
        parts.append(_rows(agreed))
    if late:
        parts += ["Older actions still overdue:", _rows(late)]
    return parts
