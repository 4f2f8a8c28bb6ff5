"""Fuzzing the real command: mutated lead files and agreement files never crash it.

Bounded (a few dozen examples each) and deterministic under CI=true (tests/conftest.py).
Each run asserts: an exit code of 0, 1 or 2 only (never 3, never a traceback), and for lead
files every record accounted for: one output record per non-blank JSON line, and one per
CSV line when no quote can join lines.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slaengine.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-06-01T00:00:00Z"
JSONL = b"\n".join((ROOT / "examples" / "leads.jsonl").read_bytes().splitlines()[:6]) + b"\n"
CSV = b"\n".join((ROOT / "examples" / "leads.csv").read_bytes().splitlines()[:6]) + b"\n"
HOSTILE = [b'"', b",", b"\r", b"\n", b"\r\n", b"\x00", b"{", b"}", b"[", b":", b"=", b"\xff",
           b"9" * 25, b"\\", b"'", b"\t", b";", b"1e999", b"NaN"]
FUZZ = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        if draw(st.booleans()) and at < len(data):
            del data[at:at + draw(st.integers(1, 8))]
        else:
            data[at:at] = draw(st.sampled_from(HOSTILE))
    return bytes(data)


def _run(argv: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capfd.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capfd.readouterr()
    return int(exited.value.code or 0), out, err


@FUZZ
@given(data=st.data())
def test_mutated_lead_files(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                            data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["jsonl", "csv"]))
    content = data.draw(mutated(JSONL if kind == "jsonl" else CSV))
    path = tmp_path / f"leads.{kind}"
    path.write_bytes(content)
    code, out, err = _run(["evaluate", "--leads", str(path), "--now", NOW], capfd)
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        return
    records = [orjson.loads(line) for line in out.splitlines()]
    lines = content.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if kind == "jsonl":
        assert len(records) == sum(1 for line in lines if line.strip())
    elif b'"' not in content and b"\r" not in content:
        assert len(records) == sum(1 for line in lines[1:] if line.strip())


@FUZZ
@given(data=st.data())
def test_mutated_agreement_files(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                 data: st.DataObject) -> None:
    folder = tmp_path / "agreement"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(ROOT / "agreement", folder)
    name = data.draw(st.sampled_from(["definitions.yaml", "scoring.yaml", "fields.yaml",
                                      "service-levels.yaml", "lifecycle.yaml"]))
    path = folder / name
    path.write_bytes(data.draw(mutated(path.read_bytes())))
    code, _, err = _run(["validate", str(folder), "--today", "2026-11-22"], capfd)
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err
