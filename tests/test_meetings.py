"""Meetings and meeting records, as `slaengine validate` checks them on real files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

import slaengine
from slaengine import validate_folder

ROOT = Path(__file__).resolve().parents[1]
HEADER = "# yaml-language-server: $schema=../../schema/meeting.schema.json\n"
CADENCE = """
meetings:
  pipeline_sync: {title: Weekly pipeline sync, every: week, owners: [sales]}
  feedback:
    title: Monthly feedback review
    every: month
    owners: [marketing, sales]
    agenda: [Which leads converted and why, Which did not and why, The next 30 days]
"""
FEEDBACK = HEADER + """meeting: feedback
date: 2026-10-06
attendees: [Dana Whitfield, Raj Patel]
notes:
  converted: Webinar leads from fintech converted at twice the average.
  not_converted: Retail leads were rejected for budget.
  next_30_days: Twelve SQLs expected to close.
actions:
  - {owner: marketing, what: Pause retail campaigns, due: 2026-10-20, done: 2026-10-18}
  - {owner: sales, what: Call back every rejected fintech lead, due: 2026-10-31}
"""


def agreement(tmp_path: Path, records: dict[str, str], cadence: str = CADENCE) -> Path:
    """The example agreement with `cadence` instead of its own meetings and records."""
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    shutil.rmtree(folder / "meetings")
    main = folder / "agreement.yaml"
    text = main.read_text(encoding="utf-8")
    main.write_text(text[:text.index("\n# The operating cadence")] + "\n" + cadence,
                    encoding="utf-8")
    (folder / "meetings").mkdir()
    for name, text in records.items():
        (folder / "meetings" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def line_of(folder: Path, text: str) -> int:
    """The line of agreement.yaml that holds `text` (the example above it may change)."""
    lines = (folder / "agreement.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def findings(folder: Path, today: date | None = None) -> list[str]:
    """`file:line:col: severity [code]` of each finding, as the fixtures' expected lines."""
    result = validate_folder(folder, today=today)
    return [f"{Path(d.location.file).relative_to(folder) if d.location else ''}:"
            f"{d.location.line if d.location else 0}:{d.location.col if d.location else 0}: "
            f"{d.severity.value} [{d.code}]" for d in result.diagnostics
            # The example's own review state is not what these tests are about; its signed
            # review is dated 2026-11-21, so a `today` before that also finds its approvals
            # dated in the future.
            if d.code not in ("digest-mismatch", "review-overdue", "approval-date-in-future")]


def test_records_load_into_the_agreement(tmp_path: Path) -> None:
    folder = agreement(tmp_path, {"2026-10-06-feedback": FEEDBACK})
    assert findings(folder) == []
    loaded = slaengine.load_agreement(folder)
    assert loaded.spec.meetings["feedback"].every == "month"
    assert loaded.spec.meetings["feedback"].agenda[2] == "The next 30 days"
    (record,) = loaded.meetings
    assert record.meeting == "feedback" and record.date == date(2026, 10, 6)
    assert record.notes["next_30_days"] == "Twelve SQLs expected to close."
    assert [a.done for a in record.actions] == [date(2026, 10, 18), False]


def test_meeting_records_stay_out_of_the_digest(tmp_path: Path) -> None:
    """Holding a meeting is not a change of the agreement both leads must approve."""
    without = slaengine.load_agreement(agreement(tmp_path / "a", {})).digest
    with_record = slaengine.load_agreement(
        agreement(tmp_path / "b", {"2026-10-06-feedback": FEEDBACK})).digest
    assert without == with_record


def test_owners_meetings_and_dates_are_checked(tmp_path: Path) -> None:
    bad = (FEEDBACK.replace("meeting: feedback", "meeting: feedbak")
           .replace("{owner: sales, what: Call", "{owner: finance, what: Call"))
    folder = agreement(tmp_path, {"2026-10-06-feedbak": bad},
                       CADENCE.replace("owners: [sales]", "owners: [sales, revops]"))
    sync = line_of(folder, "pipeline_sync:")
    assert findings(folder) == [
        f"agreement.yaml:{sync}:77: error [unknown-party]",
        "meetings/2026-10-06-feedbak.yaml:2:10: error [unknown-meeting]",
        "meetings/2026-10-06-feedbak.yaml:11:13: error [unknown-party]",
    ]
    result = validate_folder(folder)
    messages = {d.code: (d.message, d.hint) for d in result.diagnostics}
    assert messages["unknown-meeting"] == ("unknown meeting `feedbak`",
                                           "did you mean `feedback`?")


@pytest.mark.parametrize(("old", "new", "code"), [
    ("date: 2026-10-06", "date: 2026-10-32", "invalid-value"),
    ("due: 2026-10-31}", "due: end of October}", "invalid-value"),
    ("done: 2026-10-18}", "done: yes}", "invalid-value"),
    ("every: month", "every: fortnight", "invalid-value"),
    ("attendees:", "attendes:", "unknown-key"),
])
def test_structure_errors_are_located(tmp_path: Path, old: str, new: str, code: str) -> None:
    record, cadence = FEEDBACK.replace(old, new), CADENCE.replace(old, new)
    folder = agreement(tmp_path, {"2026-10-06-feedback": record}, cadence)
    result = validate_folder(folder)
    assert not result.ok
    (found,) = [d for d in result.diagnostics if d.severity.value == "error"]
    assert found.location is not None
    assert (found.code, Path(found.location.file).name) == (
        code, "agreement.yaml" if old == "every: month" else "2026-10-06-feedback.yaml")
    line = (folder / Path(found.location.file).relative_to(folder)).read_text().splitlines()[
        found.location.line - 1]
    assert new.split(":", maxsplit=1)[0] in line


def test_a_record_named_for_another_day_is_flagged(tmp_path: Path) -> None:
    folder = agreement(tmp_path, {"2026-10-07-feedback": FEEDBACK})
    assert findings(folder) == ["meetings/2026-10-07-feedback.yaml:3:7: warning [meeting-file-name]"]


def test_today_warns_on_overdue_actions_and_missed_meetings(tmp_path: Path) -> None:
    folder = agreement(tmp_path, {"2026-10-06-feedback": FEEDBACK})
    sync, feedback = line_of(folder, "pipeline_sync:"), line_of(folder, "  feedback:")
    assert findings(folder, date(2026, 10, 31)) == [
        f"agreement.yaml:{sync}:3: warning [meeting-missed]",  # no sync in the week of Oct 19
        f"agreement.yaml:{feedback}:3: warning [meeting-missed]",  # no review in September
    ]
    late = findings(folder, date(2026, 11, 2))
    assert "meetings/2026-10-06-feedback.yaml:11:70: warning [action-overdue]" in late
    assert f"agreement.yaml:{feedback}:3: warning [meeting-missed]" not in late  # October held
    result = validate_folder(folder, today=date(2026, 11, 2))
    overdue = [d for d in result.diagnostics if d.code == "action-overdue"]
    assert [d.message for d in overdue] == [
        "“Call back every rejected fintech lead” (Sales, from the Monthly feedback review of "
        "2026-10-06) was due on 2026-10-31 (2 days ago) and is not done"]
    missed = [d.message for d in result.diagnostics if d.code == "meeting-missed"]
    assert missed == ["no record of the Weekly pipeline sync for the week of 2026-10-26 "
                      "(it is held weekly)"]
