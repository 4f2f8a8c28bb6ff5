"""Golden-file snapshots of what the example agreement's readers see.

`slaengine check` (text and Markdown), `slaengine explain` for an MQL and a lead that is not one,
the monthly report's Markdown and every page `render_site` produces are compared exactly with
the files under `tests/snapshots/`. These are read by a marketing or a sales lead, so a change to
any of them should be read as they would read it, in the diff of the golden file.

To accept an intended change, rewrite the golden files and review the diff:

    SLAENGINE_UPDATE_SNAPSHOTS=1 pytest -n0 tests/test_snapshots.py

Under `CI=true` an update request is refused (the test fails), so CI can never rewrite its own
expectations. A last test scans every golden file for Python reprs, raw JSON objects and schema
jargon (the scanner of `tests/test_structure.py`).
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

import slaengine
from slaengine.cli import cli
from slaengine.site.renderer import render_site
from test_structure import JARGON

ROOT = Path(__file__).parent.parent
SNAPSHOTS = Path(__file__).parent / "snapshots"
LEADS = "examples/leads.jsonl"
NOW = "2026-11-20T10:00:00+01:00"
SITE_TODAY = date(2026, 11, 22)
MQL_LEAD = "L-0700000064"  # a marketing-qualified lead still with marketing
NOT_MQL_LEAD = "L-0700000001"  # a free-mail contact: excluded, not an MQL


def _update_requested() -> bool:
    if not os.environ.get("SLAENGINE_UPDATE_SNAPSHOTS"):
        return False
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail("SLAENGINE_UPDATE_SNAPSHOTS is refused under CI: CI never rewrites its own "
                    "expectations; update the snapshots locally and commit them")
    return True


def assert_snapshot(name: str, actual: str) -> None:
    """`actual` equals `tests/snapshots/<name>`, or rewrites it when an update is requested."""
    path = SNAPSHOTS / name
    if _update_requested():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), (f"no golden file {path.relative_to(ROOT)}: run "
                            "SLAENGINE_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py")
    assert actual == path.read_text(encoding="utf-8"), (
        f"{path.relative_to(ROOT)} differs; if the change is intended, run "
        "SLAENGINE_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py and read the diff")


def _run(args: list[str], expect_exit: int) -> str:
    """A real `slaengine` run from the project root: its standard output."""
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        os.chdir(cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == expect_exit, result.output
    return result.stdout


@pytest.mark.parametrize(("fmt", "name"), [("text", "check.txt"), ("markdown", "check.md")])
def test_check(fmt: str, name: str) -> None:
    # exit 1: the example export has breaches, by design
    assert_snapshot(name, _run(["check", "--leads", LEADS, "--now", NOW, "--format", fmt], 1))


@pytest.mark.parametrize(("lead", "name"), [(MQL_LEAD, "explain-mql.txt"),
                                            (NOT_MQL_LEAD, "explain-not-mql.txt")])
def test_explain(lead: str, name: str) -> None:
    assert_snapshot(name, _run(["explain", "--lead", LEADS, "--id", lead, "--now", NOW], 0))


def test_explain_leads_are_what_their_names_say() -> None:
    mql = _run(["explain", "--lead", LEADS, "--id", MQL_LEAD, "--now", NOW], 0)
    other = _run(["explain", "--lead", LEADS, "--id", NOT_MQL_LEAD, "--now", NOW], 0)
    assert "\n✓ Marketing-qualified lead [mql]\n" in mql
    assert "\n✗ Marketing-qualified lead [mql]\n" in other


def test_monthly_report(tmp_path: Path) -> None:
    _run(["report", "--leads", LEADS, "--month", "2026-10", "--out", str(tmp_path)], 0)
    assert_snapshot("report-2026-10.md",
                    (tmp_path / "report-2026-10.md").read_text(encoding="utf-8"))


def _site() -> dict[str, str]:
    agreement = slaengine.load_agreement(ROOT / "agreement", today=SITE_TODAY)
    return render_site(agreement, SITE_TODAY)


SITE_PAGES = sorted(_site())


@pytest.mark.parametrize("page", SITE_PAGES)
def test_site_page(page: str, site: dict[str, str]) -> None:
    assert_snapshot(f"site/{page}", site[page])


def test_every_site_page_has_a_golden_file(site: dict[str, str]) -> None:
    golden = {str(p.relative_to(SNAPSHOTS / "site")) for p in (SNAPSHOTS / "site").rglob("*.md")}
    assert golden == set(site), "a page was added or removed: update the snapshots"


@pytest.fixture(scope="module")
def site() -> dict[str, str]:
    return _site()


# What a lead must not read in a golden file, besides the diagnostics' jargon.
RAW_JSON = re.compile(r"\{\"")


def _unreadable(line: str) -> bool:
    return bool(JARGON.search(line) or RAW_JSON.search(line))


def _golden_files() -> list[Path]:
    return sorted(p for p in SNAPSHOTS.rglob("*") if p.is_file())


def test_no_reprs_json_or_jargon_in_any_golden_file() -> None:
    files = _golden_files()
    assert len(files) >= 5 + len(SITE_PAGES)
    found = [f"{path.relative_to(SNAPSHOTS)}:{number}: {line.strip()}"
             for path in files
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if _unreadable(line)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text", ['added calibration: {"cohort": "created_at"}',
                                  "flag: True", "owner: None"])
def test_the_golden_scan_catches_what_it_must(text: str) -> None:
    assert _unreadable(text)
