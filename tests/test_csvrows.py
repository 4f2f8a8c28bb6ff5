"""Every line of a broken CSV export is a record or a located error, through the real command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from slaengine.evaluate.csvrows import MAX_ROW_BYTES
from slaengine.evaluate.leads import read_leads
from slaengine.evaluate.lines import MAX_LINE_BYTES

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-06-01T00:00:00Z"
LINES = (ROOT / "examples" / "leads.csv").read_text(encoding="utf-8").splitlines()[:21]
HEADER, ROWS = LINES[0], LINES[1:]
IDS = [row.split(",")[0] for row in ROWS]


def evaluate(path: Path, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    result = subprocess.run([sys.executable, "-m", "slaengine", "evaluate", "--leads", str(path),
                             "--now", NOW, *extra], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    return (result.returncode, [orjson.loads(line) for line in result.stdout.splitlines()],
            result.stderr)


def errors(records: list[dict[str, object]]) -> list[str]:
    return [e["message"] for r in records for e in r["errors"]  # type: ignore[attr-defined]
            if e["code"] == "unreadable-record"]


def write(path: Path, rows: list[str], end: str = "\n") -> Path:
    path.write_bytes((end.join([HEADER, *rows]) + end).encode("utf-8"))
    return path


def test_an_unclosed_quote_is_one_error_and_the_rows_after_it_are_read(tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[4] = rows[4].replace(",", ',"Acme, Inc,', 1)
    code, records, _ = evaluate(write(tmp_path / "leads.csv", rows))
    assert code == 1
    assert len(records) == 20  # 20 rows in, 20 records out
    assert [r["id"] for r in records] == [*IDS[:4], None, *IDS[5:]]
    assert errors(records) == [
        "row 5 (line 6) has a quote that is never closed (the cell runs to the end of the "
        "file); the lines after it are read as rows of their own"]


def test_two_stray_quotes_do_not_swallow_the_rows_between(tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[2] = rows[2].replace(",", ',"Acme, Inc,', 1)
    cells = rows[9].split(",")
    cells[3] = '27" screens'  # a quote inside a cell that is not quoted is only a character
    rows[9] = ",".join(cells)
    code, records, _ = evaluate(write(tmp_path / "leads.csv", rows))
    assert code == 1 and len(records) == 20
    assert [r["id"] for r in records] == [*IDS[:2], None, *IDS[3:]]
    [error] = errors(records)
    assert error.startswith("row 3 (line 4) has a quoted cell that runs on to line 11, and then")


@pytest.mark.parametrize("cell", ['"1"200', '"50" ', '"a"b"'])
def test_text_after_a_closing_quote_is_an_error(tmp_path: Path, cell: str) -> None:
    """`"1"200` is no CSV cell: read as 1200 it passed an employee-count test unnoticed."""
    rows = list(ROWS)
    cells = rows[6].split(",")
    cells[1] = cell
    rows[6] = ",".join(cells)
    code, records, _ = evaluate(write(tmp_path / "leads.csv", rows))
    assert code == 1 and len(records) == 20
    assert [r["id"] for r in records] == [*IDS[:6], None, *IDS[7:]]
    assert errors(records) == [
        "row 7 (line 8) has text after the closing quote of a cell (as in `\"1\"200`); quote "
        "the whole cell or remove its quotes"]


def test_short_and_long_rows_are_errors(tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[3] = ",".join(rows[3].split(",")[:5])
    rows[6] = rows[6] + ",extra"
    code, records, _ = evaluate(write(tmp_path / "leads.csv", rows))
    cells = HEADER.count(",") + 1
    assert code == 1 and len(records) == 20
    assert errors(records) == [f"row 4 (line 5) has 5 cells but the header has {cells}",
                               f"row 7 (line 8) has {cells + 1} cells but the header has {cells}"]


def test_carriage_return_line_ends_are_read(tmp_path: Path) -> None:
    code, records, _ = evaluate(write(tmp_path / "leads.csv", ROWS, end="\r"))
    _, expected, _ = evaluate(write(tmp_path / "unix.csv", ROWS))
    assert code == 0 and records == expected and len(records) == 20


def test_a_bare_carriage_return_in_a_cell_is_an_error(tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[2] = rows[2].replace(",", ",x\ry", 1)
    code, records, _ = evaluate(write(tmp_path / "leads.csv", rows))
    assert code == 1 and len(records) == 20
    assert errors(records) == ["row 3 (line 4) has a carriage return inside a cell that is not "
                               "quoted; quote the cell or remove the carriage return"]


def test_duckdb_gives_the_same_records_or_refuses_naming_the_line(tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[3] = ",".join(rows[3].split(",")[:5])
    path = write(tmp_path / "short.csv", rows)
    assert evaluate(path, "--engine", "duckdb")[:2] == evaluate(path)[:2]
    refused = {
        "unclosed": ([*ROWS[:4], ROWS[4].replace(",", ',"Acme, Inc,', 1), *ROWS[5:]], "\n",
                     "row 5 (line 6) has a quote that is never closed"),
        "paired": ([*ROWS[:2], ROWS[2].replace(",", ',"Acme, Inc,', 1), *ROWS[3:9],
                    ROWS[9].replace(",", ',27" screens', 1), *ROWS[10:]], "\n",
                   ""),  # DuckDB's own words name the line
        "bare-cr": ([*ROWS[:2], ROWS[2].replace(",", ",x\ry", 1), *ROWS[3:]], "\n",
                    "row 3 (line 4) has a carriage return inside a cell that is not quoted"),
        "cr-only": (ROWS, "\r", "line 1 holds a carriage return that does not end a line"),
    }
    for name, (lines, end, message) in refused.items():
        path = write(tmp_path / f"{name}.csv", lines, end=end)
        code, records, stderr = evaluate(path, "--engine", "duckdb")
        assert (code, records) == (2, []), (name, stderr)
        assert stderr.startswith(f"slaengine: error: {path}: {message}"), (name, stderr)
        assert "--engine python" in stderr


def test_a_line_past_the_limit_is_an_error_and_memory_stays_bounded(tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[1] = rows[1] + "x" * (MAX_LINE_BYTES + 10)
    code, records, _ = evaluate(write(tmp_path / "leads.csv", rows))
    assert code == 1 and len(records) == 20
    assert errors(records) == ["row 2 (line 3) is longer than 1 MB, the limit"]


def test_a_quoted_cell_past_the_cell_limit_is_an_error_and_its_lines_are_read(
        tmp_path: Path) -> None:
    rows = list(ROWS)
    rows[0] = rows[0].replace(",", ',"open,', 1)
    filler = ["y" * 1000] * (MAX_ROW_BYTES // 1000 + 5)
    path = write(tmp_path / "leads.csv", [rows[0], *filler, *rows[1:]])
    records = list(read_leads(path))
    assert records[0].error is not None
    assert records[0].error.message == (
        "row 1 (line 2) has a cell longer than 131,072 characters, the limit; is a quote "
        "missing?")
    # every filler line is then a short row of its own, and the real rows are read
    assert len(records) == 1 + len(filler) + 19
    assert [r.data["id"] for r in records[-19:] if r.data] == IDS[1:]


@pytest.mark.parametrize("device", ["/dev/zero", "fifo"])
def test_devices_and_pipes_are_refused(tmp_path: Path, device: str) -> None:
    path = device
    if device == "fifo":
        path = str(tmp_path / "leads.csv")
        os.mkfifo(path)
    for option in ("--leads", "--mapping"):
        args = ["--leads", path] if option == "--leads" else [
            "--leads", "examples/leads.csv", "--mapping", path]
        result = subprocess.run([sys.executable, "-m", "slaengine", "evaluate", *args,
                                 "--now", NOW], cwd=ROOT, capture_output=True, text=True,
                                check=False, timeout=60)
        assert result.returncode == 2, result.stderr
        kind = "a device" if device == "/dev/zero" else "a named pipe"
        assert f"{path}: is {kind}, not a lead file" in result.stderr or (
            option == "--mapping" and result.stderr == f"slaengine: error: {path}: not a "
            "regular file (a named pipe, a device or a folder)\n")
