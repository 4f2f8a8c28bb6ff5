"""`evaluate --jobs N`: several processes give the same bytes as one, in input order."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slaengine
from slaengine.cli import parallel
from slaengine.cli.parallel import evaluate_parallel, tasks_of
from slaengine.evaluate.leads import BOM, RawRecord, jsonl_blocks, jsonl_records, read_leads
from slaengine.evaluate.records import Tally, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.fromisoformat("2026-11-20T10:00:00+01:00")
ENGINE = slaengine.load_agreement(ROOT / "agreement").engine

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="forked workers need POSIX")

# Every kind of line a real export holds: good leads, bad values, broken JSON, non-objects,
# blank lines, CRLF endings, a line longer than a block, non-UTF-8 bytes.
AWKWARD_LINES = [
    b'{"lead_id": "A", "employee_count": 300, "industry": "software", "stage": "lead"}',
    b'{"lead_id": "B", "employee_count": "lots"}',
    b"not json at all",
    b"[1, 2]",
    b"",
    b'{"lead_id": "C", "stage": "sql"}\r',
    b'{"lead_id": "D", "company": "' + b"x" * 5000 + b'"}',
    b'{"lead_id": "E", "company": "\xff\xfe"}',
    b"   ",
]


def one_process(path: Path) -> tuple[bytes, Tally]:
    out, tally = io.BytesIO(), Tally()
    write_jsonl(tally.count(ENGINE.records(read_leads(path), NOW)), out, ENGINE)
    return out.getvalue(), tally


def several(stream: io.BufferedIOBase | io.BytesIO, name: str, jobs: int, block: int,
            direct: bool = False) -> tuple[bytes, Tally]:
    """Through the parent's `write`, or (`direct`) written by the workers to a file."""
    out, tally = io.BytesIO(), Tally()
    if not direct:
        evaluate_parallel(ENGINE, stream, NOW, jobs, out.write,  # type: ignore[arg-type]
                          tally, name, block_bytes=block)
        return out.getvalue(), tally
    with tempfile.TemporaryFile() as target:
        evaluate_parallel(ENGINE, stream, NOW, jobs, out.write,  # type: ignore[arg-type]
                          tally, name, block_bytes=block, out_fd=target.fileno())
        assert out.getvalue() == b""  # nothing passed through the parent
        target.seek(0)
        return target.read(), tally


@pytest.mark.parametrize("direct", [False, True])
@pytest.mark.parametrize("block", [1, 64, 700, 1 << 20])
@pytest.mark.parametrize("ending", [b"\n", b""])
def test_a_mapped_file_gives_the_bytes_of_one_process(tmp_path: Path, block: int,
                                                      ending: bytes, direct: bool) -> None:
    path = tmp_path / "leads.jsonl"
    lines = [*AWKWARD_LINES, *(line.rstrip() for line in
                               (ROOT / "examples" / "leads.jsonl").read_bytes().splitlines()[:300])]
    path.write_bytes(BOM + b"\n".join(lines) + ending)
    expected, tally = one_process(path)
    with open(path, "rb") as handle:
        got, parallel_tally = several(handle, str(path), 2, block, direct)
    assert got == expected
    assert parallel_tally == tally
    assert tally.records == len([line for line in lines if line.strip()])


@pytest.mark.parametrize("direct", [False, True])
@pytest.mark.parametrize("block", [5, 4096])
def test_a_pipe_gives_the_bytes_of_one_process(tmp_path: Path, block: int, direct: bool) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_bytes(b"\n".join(AWKWARD_LINES * 3) + b"\n")
    expected, _ = one_process(path)
    # No fileno: the lines are sent in blocks.
    got, _ = several(io.BytesIO(path.read_bytes()), "-", 3, block, direct)
    assert got == expected


def test_a_worker_that_fails_stops_the_run_without_leaving_the_others_waiting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers write in turn; one failing must still hand the turn on."""
    path = tmp_path / "leads.jsonl"
    path.write_bytes(b"\n".join(AWKWARD_LINES * 40) + b"\n")
    real = jsonl_records

    def failing(lines: list[bytes], first: int = 1) -> Iterator[RawRecord]:
        if first > 30:  # a block in the middle of the file
            raise RuntimeError("a block that cannot be evaluated")
        return real(lines, first)

    expected, _ = one_process(path)
    monkeypatch.setattr(parallel, "jsonl_records", failing)  # the forked workers inherit it
    outcome: list[BaseException] = []
    target = tmp_path / "out.jsonl"

    def run() -> None:
        try:
            with open(path, "rb") as handle, open(target, "wb") as out:
                evaluate_parallel(ENGINE, handle, NOW, 2, out.write, Tally(), str(path),
                                  block_bytes=200, out_fd=out.fileno())
        except RuntimeError as exc:
            outcome.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive(), "the run hangs"
    assert [str(e) for e in outcome] == ["a block that cannot be evaluated"]
    # What was written is the output of the lines before the failed block, in order.
    written = target.read_bytes()
    assert expected.startswith(written) and 0 < written.count(b"\n") <= 30


def test_an_empty_file_gives_no_records(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    with open(path, "rb") as handle:
        got, tally = several(handle, str(path), 2, 64, direct=True)
    assert got == b"" and tally.records == 0


lines_strategy = st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
                          max_size=40)


@settings(max_examples=200)
@given(lines=lines_strategy, size=st.integers(1, 90), ending=st.sampled_from([b"", b"\n"]))
def test_blocks_cut_only_between_lines_and_number_them(lines: list[bytes], size: int,
                                                       ending: bytes) -> None:
    data = (b"\n".join(lines) + ending if lines else b"").removeprefix(BOM)
    expected = list(enumerate(data.split(b"\n") if data else [], 1))
    if expected and data.endswith(b"\n"):
        expected.pop()
    with_bom = BOM + data  # dropped once, at the start
    by_offset = [(with_bom[where[0]:where[0] + where[1]], first)
                 for where, first in tasks_of(io.BytesIO(with_bom), size, True)
                 if isinstance(where, tuple)]
    for blocks in ([(block, first) for block, first, _ in jsonl_blocks(io.BytesIO(with_bom), size)],
                   by_offset):
        assert b"".join(block for block, _ in blocks) == data
        numbered = []
        for block, first in blocks:
            pieces = block.split(b"\n")
            if pieces[-1] == b"":
                pieces.pop()
            numbered += list(enumerate(pieces, first))
        assert numbered == expected


def test_a_leading_byte_order_mark_is_dropped_once() -> None:
    data = BOM + b'{"lead_id": "A"}\n' + BOM + b'{"lead_id": "B"}\n'
    (block, first, offset), = jsonl_blocks(io.BytesIO(data), 1 << 10)
    assert first == 1 and block.startswith(b"{") and block.count(BOM) == 1
    assert offset == len(BOM) and data[offset:] == block
    records = list(jsonl_records(block.split(b"\n")))
    assert records[1].data is None  # a BOM inside the file is not silently accepted


def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "slaengine", *args], cwd=ROOT,
                          capture_output=True, check=False)


def test_the_command_gives_the_same_output_and_summary_on_two_processes(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_bytes(b"\n".join(AWKWARD_LINES) + b"\n"
                     + (ROOT / "examples" / "leads.jsonl").read_bytes())
    now = NOW.isoformat()
    one = run_cli("evaluate", "--leads", str(path), "--now", now, "--jobs", "1")
    two = run_cli("evaluate", "--leads", str(path), "--now", now, "--jobs", "2")
    assert one.returncode == two.returncode == 1  # the awkward lines are errors
    assert one.stdout == two.stdout and one.stdout.count(b"\n") == 2000 + 7

    def without_time(stderr: bytes) -> str:
        return re.sub(r"in [\d.]+s, [\d,]+/s", "", stderr.decode())

    assert without_time(one.stderr) == without_time(two.stderr)


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_a_bad_number_of_jobs_is_a_usage_error(jobs: str) -> None:
    result = run_cli("evaluate", "--leads", "examples/leads.jsonl", "--jobs", jobs)
    assert result.returncode == 2
    assert b"--jobs" in result.stderr and b"Traceback" not in result.stderr


def test_a_json_array_file_is_refused_before_any_worker_starts(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_bytes(b'[{"lead_id": "A"}]\n')
    result = run_cli("evaluate", "--leads", str(path), "--jobs", "2")
    assert result.returncode == 2 and b"jq -c" in result.stderr
    assert os.path.getsize(path) > 0
