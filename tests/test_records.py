"""`--format csv` writes nothing a spreadsheet would run, in both engines; `--raw-csv` opts out."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-06-01T00:00:00Z"
LEADS = ('id,email_domain,stage\n=HYPERLINK("http://x.example"),a.com,lead\n'
         '+cmd|calc,b.com,@SUM(1)\n-2,c.com,lead\n@me,d.com,\tlead\nplain,e.com,lead\n')


def csv_rows(path: Path, *extra: str) -> tuple[bytes, list[dict[str, str]]]:
    result = subprocess.run([sys.executable, "-m", "slaengine", "evaluate", "--leads", str(path),
                             "--now", NOW, "--format", "csv", *extra], cwd=ROOT,
                            capture_output=True, check=False)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout, list(csv.DictReader(io.StringIO(result.stdout.decode())))


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_formula_cells_are_prefixed_with_a_quote(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(LEADS)
    _, rows = csv_rows(path, "--engine", engine)
    assert [r["id"] for r in rows] == ["'=HYPERLINK(\"http://x.example\")", "'+cmd|calc", "'-2",
                                       "'@me", "plain"]
    # the stage is stripped as it is read, so the tab is gone
    assert [r["stage"] for r in rows] == ["lead", "'@SUM(1)", "lead", "lead", "lead"]
    _, raw = csv_rows(path, "--engine", engine, "--raw-csv")
    assert [r["id"] for r in raw] == ["=HYPERLINK(\"http://x.example\")", "+cmd|calc", "-2",
                                      "@me", "plain"]


def test_both_engines_write_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(LEADS)
    for extra in ((), ("--raw-csv",)):
        assert csv_rows(path, *extra)[0] == csv_rows(path, "--engine", "duckdb", *extra)[0]
