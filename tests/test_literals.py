"""`matches` runs on RE2 in Python as in DuckDB: no pattern hangs, both engines agree, and
`validate` refuses at its line what RE2 cannot run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from slaengine.evaluate.literals import Re2Pattern, compile_pattern

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-06-01T00:00:00Z"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slaengine", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)


def _with_pattern(tmp_path: Path, pattern: str) -> Path:
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    shutil.rmtree(folder / "tests")
    path = folder / "definitions.yaml"
    text = path.read_text()
    assert "matches: '\\.edu$'" in text
    path.write_text(text.replace("matches: '\\.edu$'", f"matches: '{pattern}'"))
    return folder


@pytest.mark.parametrize("pattern", ["^(a+)+$", "[a-z0-9-]+\\.edu$"])
def test_a_pattern_that_backtracks_in_re_does_not_hang(tmp_path: Path, pattern: str) -> None:
    folder = _with_pattern(tmp_path, pattern)
    leads = tmp_path / "leads.jsonl"
    leads.write_text('{"id": "L-1", "email_domain": "' + "a" * 50_000 + '!"}\n')
    outputs = []
    for engine in ("python", "duckdb"):
        result = run("evaluate", "--agreement", str(folder), "--leads", str(leads),
                     "--now", NOW, "--engine", engine)
        assert result.returncode == 0, result.stderr
        outputs.append(orjson.loads(result.stdout)["definitions"])
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(("pattern", "construct"), [
    ("^(\\w+)@\\1$", "a back reference"), ("^(?=.*x)", "a lookahead or lookbehind"),
    ("foo(?!bar)", "a lookahead or lookbehind"), ("(?<=@)gmail", "a lookahead or lookbehind")])
def test_validate_refuses_what_re2_cannot_run_at_its_line(tmp_path: Path, pattern: str,
                                                          construct: str) -> None:
    folder = _with_pattern(tmp_path, pattern)
    result = run("validate", str(folder))
    assert result.returncode == 1
    [line] = [x for x in result.stdout.splitlines() if ": error: " in x]
    assert line.startswith(f"{folder}/definitions.yaml:13:42: error: `{pattern}` cannot run on "
                           "RE2, the linear-time regex engine both engines use: it uses")
    assert construct in line and line.endswith("[regex-not-linear]")
    assert "hint: write it without back references" in result.stdout


@settings(deadline=None)  # the first compile of a pattern computes Unicode classes
@given(pattern=st.sampled_from([r"\.edu$", r"^[a-z]+$", r"(?i)GMAIL", r"\d{3}", r"\w+@\w+",
                                r"^\s*$", r"a|b", r"caf.", r"\bco\b"]),
       text=st.text(max_size=20))
@example(pattern=r"\.edu$", text="x.edu\n")  # `$` also before a final newline, as in `re`
@example(pattern=r"\d{3}", text="١٢٣")  # Unicode digits, as in `re`
def test_re2_answers_as_python_re_does(pattern: str, text: str) -> None:
    assert (_compiled(pattern).search(text) is not None) == \
        (re.search(pattern, text) is not None)


@cache
def _compiled(pattern: str) -> Re2Pattern:
    return compile_pattern(pattern)
