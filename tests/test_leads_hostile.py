"""JSON Lines that would be misread: repeated keys, long integers, endless lines; every
`--jobs` and both engines give the same records, through the real command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from slaengine.evaluate.leads import jsonl_records
from slaengine.evaluate.lines import MAX_LINE_BYTES

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-06-01T00:00:00Z"
LEADS = (ROOT / "examples" / "leads.jsonl").read_bytes().splitlines()[:30]


def evaluate(path: Path, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    result = subprocess.run([sys.executable, "-m", "slaengine", "evaluate", "--leads", str(path),
                             "--now", NOW, *extra], cwd=ROOT, capture_output=True, check=False)
    return (result.returncode, [orjson.loads(line) for line in result.stdout.splitlines()],
            result.stderr.decode())


def messages(records: list[dict[str, object]]) -> list[str]:
    return [e["message"] for r in records for e in r["errors"]  # type: ignore[attr-defined]
            if e["code"] == "unreadable-record"]


def hostile(tmp_path: Path) -> Path:
    lines = list(LEADS)
    lines[2] = lines[2].replace(b'{"id":"', b'{"id":"X-1","id":"', 1)  # a repeated key
    lines[4] = lines[4].replace(b'"id":"L-0700000005"', b'"id":123456789012345678901234567', 1)
    lines[6] = b'{"id": "L-long", "note": "' + b"x" * (MAX_LINE_BYTES + 5) + b'"}'
    lines[8] = lines[8].replace(b'"id":"', b'"id" : "', 1)  # spaces around the colon
    path = tmp_path / "leads.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_repeated_keys_long_integers_and_long_lines(tmp_path: Path) -> None:
    code, records, _ = evaluate(hostile(tmp_path))
    assert code == 1 and len(records) == 30
    assert messages(records) == [
        "line 3 names `id` twice; a record gives each column once (which value is meant "
        "cannot be told)",
        "line 7 is not a JSON object: the line is longer than 1 MB, the limit"]
    assert records[4]["id"] == "123456789012345678901234567"  # exactly, as text
    assert records[8]["id"] == "L-0700000009" and not records[8]["errors"]


@pytest.mark.parametrize("jobs", ["2", "auto"])
def test_every_jobs_gives_the_same_records(tmp_path: Path, jobs: str) -> None:
    path = hostile(tmp_path)
    one = evaluate(path, "--jobs", "1")
    assert evaluate(path, "--jobs", jobs)[:2] == one[:2]


def test_duckdb_gives_the_same_records(tmp_path: Path) -> None:
    path = hostile(tmp_path)
    assert evaluate(path, "--engine", "duckdb")[:2] == evaluate(path)[:2]


def test_a_blank_first_line_then_an_array_is_read_alike_by_every_jobs(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_bytes(b"\n[\n" + b",\n".join(LEADS[:5]) + b"\n]\n")
    code, records, _ = evaluate(path, "--jobs", "1")
    assert code == 1 and len(records) == 7  # `[`, five leads (each ends in a comma), `]`
    assert evaluate(path, "--jobs", "2")[:2] == (code, records)


keys = st.sampled_from(["id", "a", "b", "x y", 'q"', "1"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**25), 10**25),
                    st.text(alphabet='ab": 0123456789\t', max_size=8))
spaces = st.sampled_from(["", " ", "\t", "\r", "  "])


@given(st.lists(st.tuples(keys, scalars, spaces, spaces), min_size=1, max_size=6))
@example([("id", "x", " ", ""), ("id", "y", "", "")])  # repeated, the first `"id" :`
@example([("a", 'v" :w', "", ""), ("a", 1, "", "")])  # `" :` inside text, then repeated
@example([("a", 10**19, "", ""), ("b", "1234567890 123456789", "", "")])
def test_a_line_is_read_exactly_or_refused_whatever_its_spacing(
        items: list[tuple[str, object, str, str]]) -> None:
    """Every line is read as Python's own exact reader reads it, or, with a key twice,
    refused: orjson's answer is kept only where the quick check proves it exact."""
    body = ",".join(f"{orjson.dumps(k).decode()}{before}:{after}{orjson.dumps(v).decode()}"
                    if not isinstance(v, int) or isinstance(v, bool)
                    else f"{orjson.dumps(k).decode()}{before}:{after}{v}"
                    for k, v, before, after in items)
    [record] = list(jsonl_records([("{" + body + "}\n").encode()]))
    names = [k for k, *_ in items]
    if len(set(names)) < len(names):
        assert record.data is None and record.error is not None
        assert "twice" in record.error.message
    else:
        want = {k: v if not isinstance(v, int) or isinstance(v, bool)
                or -(2**63) <= v < 2**64 else str(v) for k, v, *_ in items}
        assert record.data == want
