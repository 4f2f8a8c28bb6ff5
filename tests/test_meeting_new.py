"""`slaengine meeting new`: the scaffolded record validates, carries the month's numbers and
the open actions, and never overwrites or follows a link."""

from __future__ import annotations

from pathlib import Path

import pytest

import slaengine
from support import run_in
from test_meetings import FEEDBACK, agreement

ROOT = Path(__file__).resolve().parents[1]
LEADS = ROOT / "examples" / "leads.jsonl"


def test_scaffold_with_the_months_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = agreement(tmp_path, {"2026-10-06-feedback": FEEDBACK})
    code, result = run_in(["meeting", "new", "feedback", "--agreement", str(folder), "--today",
                           "2026-11-04", "--leads", str(LEADS)], tmp_path, monkeypatch)
    assert code == 0, result.output
    path = folder / "meetings" / "2026-11-04-feedback.yaml"
    assert result.output.strip() == str(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schema/meeting.schema.json\n")
    assert "# October 2026 in numbers (slaengine report --leads" in text
    assert "#   Win rate: 50.0% (target met)" in text
    assert "#   Sales contacts every MQL: 13 met, 0 breached, 0 still running" in text
    # The open action of October's meeting, and those of the reviews, are listed to go through.
    assert ("#   [overdue] Sales: Call back every rejected fintech lead (due 2026-10-31; "
            "meetings/2026-10-06-feedback.yaml)") in text
    assert "Pause retail campaigns" not in text  # done
    record = next(m for m in slaengine.load_agreement(folder).meetings
                  if m.date.isoformat() == "2026-11-04")
    assert record.meeting == "feedback" and record.actions == []
    assert record.notes["converted"].startswith("In October 2026: 9 leads converted")
    assert record.notes["not_converted"].startswith("3 leads came back to marketing, most for:")
    assert set(record.notes) == {"converted", "not_converted", "next_30_days"}


def test_scaffold_without_leads_and_a_given_month(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = agreement(tmp_path, {})
    code, result = run_in(["meeting", "new", "pipeline_sync", "--agreement", str(folder),
                           "--today", "2026-11-09", "--month", "2026-09"], tmp_path, monkeypatch)
    assert code == 0, result.output
    text = (folder / "meetings" / "2026-11-09-pipeline_sync.yaml").read_text(encoding="utf-8")
    assert "in numbers" not in text
    assert "#  - {owner: sales, what: ..., due: YYYY-MM-DD, done: false}" in text
    (record,) = slaengine.load_agreement(folder).meetings
    assert record.notes == {"converted": "", "not_converted": "", "next_30_days": ""}


def test_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = agreement(tmp_path, {"2026-10-06-feedback": FEEDBACK})
    base = ["meeting", "new", "--agreement", str(folder)]
    before = (folder / "meetings" / "2026-10-06-feedback.yaml").read_bytes()
    code, result = run_in([*base, "feedback", "--today", "2026-10-06"], tmp_path, monkeypatch)
    assert code == 2 and "already exists" in str(result.exception)
    assert (folder / "meetings" / "2026-10-06-feedback.yaml").read_bytes() == before
    code, result = run_in([*base, "qbr", "--today", "2026-10-06"], tmp_path, monkeypatch)
    assert code == 2
    assert str(result.exception) == ("unknown meeting `qbr`; the agreement's meetings: "
                                     "`pipeline_sync`, `feedback`")
    code, result = run_in([*base, "feedback", "--month", "2026-13"], tmp_path, monkeypatch)
    assert code == 2 and "`2026-13` is not a month" in result.output
    assert sorted(p.name for p in (folder / "meetings").iterdir()) == ["2026-10-06-feedback.yaml"]


def test_a_symlinked_folder_or_file_is_never_followed(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder = agreement(tmp_path, {})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / "meetings").rmdir()
    (folder / "meetings").symlink_to(elsewhere)
    code, result = run_in(["meeting", "new", "feedback", "--agreement", str(folder), "--today",
                           "2026-11-04"], tmp_path, monkeypatch)
    assert code == 2 and "is a symbolic link" in str(result.exception)
    assert list(elsewhere.iterdir()) == []
    (folder / "meetings").unlink()
    (folder / "meetings").mkdir()
    target = tmp_path / "victim.txt"  # a dangling link: writing through it would create it
    (folder / "meetings" / "2026-11-04-feedback.yaml").symlink_to(target)
    code, result = run_in(["meeting", "new", "feedback", "--agreement", str(folder), "--today",
                           "2026-11-04"], tmp_path, monkeypatch)
    assert code == 2 and "already exists" in str(result.exception)
    assert not target.exists()
    assert [p.name for p in (folder / "meetings").iterdir()] == ["2026-11-04-feedback.yaml"]
