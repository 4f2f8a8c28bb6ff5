"""The "Meetings and actions" page: the cadence, the last meeting of each kind, and every
action not yet done by owner (overdue first); and the counts the front page shows."""

from __future__ import annotations

from typing import Any

from ..agreement.cadence import cadence_word, missed, period_label
from ..agreement.describe import party_label
from ..change.actions import collect_actions, counts
from .context import Site
from .markdown import ident

Page = dict[str, Any]

# Words a notes key may hold that people write in capitals (`kpis` → `KPIs`).
_CAPITALS = {w.lower(): w for w in ("KPI", "KPIs", "MQL", "MQLs", "SAL", "SALs", "SQL", "SQLs",
                                    "SLA", "SLAs", "ICP", "QBR")}


def note_heading(key: str) -> str:
    """A notes key as a heading: `next_30_days` → `Next 30 days`, `kpis` → `KPIs`."""
    words = [_CAPITALS.get(w, w) for w in key.split("_") if w]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def action_counts(site: Site) -> dict[str, int]:
    """`{"overdue", "open", "done"}` as of the site's date."""
    return counts(collect_actions(site.agreement, site.today))


def action_summary(site: Site) -> str:
    found = action_counts(site)
    return (f"the cadence of joint meetings; {found['open']:,} open actions, "
            f"{found['overdue']:,} overdue")


def meetings_page(site: Site) -> Page:
    spec, today = site.spec, site.today
    records = site.agreement.meetings
    cadence = []
    for meeting_id, meeting in spec.meetings.items():
        held = [r for r in records if r.meeting == meeting_id and r.date <= today]
        last = held[-1] if held else None
        gap = missed(meeting.every, [r.date for r in held], today)
        cadence.append({
            "id": ident(meeting_id), "title": meeting.title, "every": cadence_word(meeting.every),
            "owners": " and ".join(party_label(spec, o) for o in meeting.owners),
            "agenda": meeting.agenda, "description": meeting.description,
            "last": last.date.isoformat() if last else "never",
            "attendees": ", ".join(last.attendees) if last and last.attendees else "—",
            "notes": [{"question": note_heading(key), "text": text}
                      for key, text in last.notes.items() if text] if last else [],
            "missed": period_label(gap[0], meeting.every) if gap else None,
        })
    items = collect_actions(site.agreement, today)
    owners: dict[str, list[dict[str, str]]] = {}
    for item in items:
        if item.status == "done":
            continue
        owners.setdefault(item.owner_title, []).append({
            "status": item.status, "what": item.what,
            "due": item.due.isoformat() if item.due else "—", "source": item.source_title})
    return {"today": today.isoformat(), "meetings": cadence, "counts": counts(items),
            "owners": [{"owner": owner, "actions": actions}
                       for owner, actions in sorted(owners.items())]}
