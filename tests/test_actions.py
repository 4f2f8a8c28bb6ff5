"""`slaengine actions`: every action from reviews and meetings, run as users run it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import slaengine
from slaengine.change.actions import collect_actions
from support import run_in
from test_meetings import FEEDBACK, agreement


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return agreement(tmp_path, {"2026-10-06-feedback": FEEDBACK})


def test_json_lists_every_action_with_its_status(folder: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    code, result = run_in(["actions", "--agreement", str(folder), "--today", "2026-12-10",
                           "--format", "json"], folder.parent, monkeypatch)
    assert code == 0, result.output
    document = json.loads(result.output)
    assert document["counts"] == {"overdue": 2, "open": 3, "done": 4}
    first = document["actions"][0]
    assert first == {"source": "meetings/2026-10-06-feedback.yaml",
                     "source_title": "Monthly feedback review, 2026-10-06", "owner": "sales",
                     "what": "Call back every rejected fintech lead", "due": "2026-10-31",
                     "done": False, "status": "overdue"}
    assert [a["status"] for a in document["actions"]] == ["overdue"] * 2 + ["open"] * 3 + [
        "done"] * 4
    dated = next(a for a in document["actions"] if a["what"] == "Pause retail campaigns")
    assert (dated["done"], dated["status"]) == ("2026-10-18", "done")
    # Every action of the example's reviews is there too.
    reviews = [a for a in document["actions"] if a["source"].startswith("reviews/")]
    assert len(reviews) == 7


def test_fail_on_overdue_exits_1_only_when_one_is(folder: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["actions", "--agreement", str(folder), "--fail-on", "overdue"]
    code, result = run_in([*args, "--today", "2026-10-31"], folder.parent, monkeypatch)
    assert code == 0, result.output
    assert result.output.splitlines()[0] == "Actions as of 2026-10-31: 0 overdue, 5 open, 4 done"
    code, result = run_in([*args, "--today", "2026-11-01"], folder.parent, monkeypatch)
    assert code == 1
    assert ("  overdue         Sales: Call back every rejected fintech lead (due 2026-10-31; "
            "from Monthly feedback review, 2026-10-06)") in result.output.splitlines()
    code, _ = run_in(["actions", "--agreement", str(folder), "--today", "2026-11-01"],
                     folder.parent, monkeypatch)
    assert code == 0  # --fail-on never is the default


def test_markdown_is_a_table_with_pipes_escaped(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    record = FEEDBACK.replace("Pause retail campaigns", "Pause retail | DIY campaigns")
    folder = agreement(tmp_path, {"2026-10-06-feedback": record})
    code, result = run_in(["actions", "--agreement", str(folder), "--today", "2026-11-01",
                           "--format", "markdown"], tmp_path, monkeypatch)
    assert code == 0
    lines = result.output.splitlines()
    assert lines[0] == "## Actions as of 2026-11-01"
    assert lines[2] == "1 overdue, 4 open, 4 done."
    assert ("| done 2026-10-18 | Marketing | Pause retail \\| DIY campaigns | 2026-10-20 | "
            "Monthly feedback review, 2026-10-06 |") in lines


def test_bad_today_is_a_usage_error(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, result = run_in(["actions", "--agreement", str(folder), "--today", "tomorrow"],
                          folder.parent, monkeypatch)
    assert code == 2
    assert "`tomorrow` is not a date; write YYYY-MM-DD" in result.output


def test_collect_orders_overdue_then_open_then_done(folder: Path) -> None:
    items = collect_actions(slaengine.load_agreement(folder), date(2026, 12, 10))
    overdue = [i.due for i in items if i.status == "overdue" and i.due]
    assert overdue == sorted(overdue)  # oldest first
    open_ = [i.due for i in items if i.status == "open" and i.due]
    assert open_ == sorted(open_)
