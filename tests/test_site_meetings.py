"""The site's "Meetings and actions" page and the front page's action counts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import slaengine
from slaengine.site.meetings import note_heading
from slaengine.site.renderer import render_site
from test_meetings import FEEDBACK, agreement
from test_render import plain


def test_meetings_page_shows_cadence_last_meeting_and_open_actions(tmp_path: Path) -> None:
    folder = agreement(tmp_path, {"2026-10-06-feedback": FEEDBACK})
    pages = render_site(slaengine.load_agreement(folder), date(2026, 11, 22))
    page = pages["agreement/meetings.md"]
    text = plain(page)
    assert "### Weekly pipeline sync {#pipeline_sync}" in page  # the id as written, linkable
    assert "Actions as of 2026-11-22: 1 overdue, 4 open, 4 done." in text
    assert "Held monthly, run by Marketing and Sales. Last held: 2026-10-06" in text
    assert "(attendees: Dana Whitfield, Raj Patel)" in text
    assert "Converted: Webinar leads from fintech converted at twice the average." in text
    # The weekly sync was never recorded: the page says so, like `validate --today`.
    assert "Held weekly, run by Sales. Last held: never." in text
    assert "No record for the week of 2026-11-09" in text
    assert "No record for October 2026" not in text
    # Open actions by owner, overdue first within each owner.
    sales = page[page.index("### Sales"):]
    rows = [line for line in sales.splitlines() if line.startswith("| ") and "Status" not in line]
    assert rows[0].startswith("| overdue | Call back every rejected fintech lead | 2026\\-10\\-31")
    assert all("| done |" not in row for row in rows)
    home = plain(pages["agreement/index.md"])
    assert "Actions: 4 open, 1 overdue" in home
    assert "Meetings and actions : the cadence of joint meetings; 4 open actions, 1 overdue" in home


def test_an_agreement_without_meetings_says_so(tmp_path: Path) -> None:
    pages = render_site(slaengine.load_agreement(agreement(tmp_path, {}, cadence="")),
                        date(2026, 11, 22))
    text = plain(pages["agreement/meetings.md"])
    assert "The agreement does not list its meetings yet" in text


def test_note_headings_keep_capitals_people_write() -> None:
    """The QBR's notes read "Kpis:" on the site (issue 19)."""
    assert [note_heading(k) for k in ("kpis", "next_30_days", "not_converted", "mql_backlog")] == [
        "KPIs", "Next 30 days", "Not converted", "MQL backlog"]
