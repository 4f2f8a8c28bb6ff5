"""Data-driven tests of `slaengine validate` against the agreements in tests/fixtures/agreements.

Each `invalid/<case>/` holds one agreement with one realistic mistake, the diagnostics the
validator must print for it (`expected.txt`: `PATH:LINE:COL: SEVERITY [CODE]` per line, in
printed order, message wording deliberately left out) and optionally extra CLI arguments
(`args.txt`). Each `valid/<case>/` holds an agreement that must validate clean; all valid
cases are the same agreement written differently, so they share one digest.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import slaengine

FIXTURES = Path(__file__).parent / "fixtures" / "agreements"
VALID = sorted(p for p in (FIXTURES / "valid").iterdir() if p.is_dir())
INVALID = sorted(p for p in (FIXTURES / "invalid").iterdir() if p.is_dir())
DEFAULT_ARGS = ("--today", "2026-06-01")
MIN_INVALID_CASES = 25

# `path:line:col: error: message [code]`, or `path: warning: message [code]` without a line.
DIAGNOSTIC = re.compile(
    r"^(?P<where>\S.*?): (?P<severity>error|warning): .* \[(?P<code>[a-z0-9]+(?:-[a-z0-9]+)*)\]$")
HINT = re.compile(r"^    hint: ")


def run_validate(case: Path, args: tuple[str, ...] | list[str]) -> subprocess.CompletedProcess[str]:
    """The real CLI, as a user runs it from the case folder."""
    return subprocess.run(
        [sys.executable, "-m", "slaengine", "validate", "agreement", *args],
        cwd=case, capture_output=True, text=True, timeout=120, check=False)


def case_args(case: Path) -> list[str]:
    args_file = case / "args.txt"
    if args_file.is_file():
        return args_file.read_text(encoding="utf-8").split()
    return list(DEFAULT_ARGS)


def diagnostics(stdout: str) -> list[str]:
    """The printed diagnostics as `PATH:LINE:COL: SEVERITY [CODE]`, in printed order.

    Every line but the closing summary must be a diagnostic or its hint, so a finding
    printed in some other shape cannot slip past the comparison.
    """
    lines = stdout.splitlines()
    assert lines, "validate printed nothing"
    found: list[str] = []
    for line in lines[:-1]:
        match = DIAGNOSTIC.match(line)
        if match:
            found.append(f"{match['where']}: {match['severity']} [{match['code']}]")
        else:
            assert HINT.match(line), f"unexpected output line: {line!r}"
    assert not DIAGNOSTIC.match(lines[-1]), f"no summary line after {lines[-1]!r}"
    return found


def expected_lines(case: Path) -> list[str]:
    text = (case / "expected.txt").read_text(encoding="utf-8")
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout, result.stdout
    assert "Traceback" not in result.stderr, result.stderr


def test_fixture_inventory() -> None:
    """The suite cannot silently shrink, and every case is complete."""
    assert len(INVALID) >= MIN_INVALID_CASES, f"only {len(INVALID)} invalid cases"
    assert {p.name for p in VALID} >= {"minimal", "reformatted", "single-file"}
    for case in [*VALID, *INVALID]:
        assert (case / "agreement").is_dir(), f"{case.name}: no agreement/ folder"
    for case in INVALID:
        assert expected_lines(case), f"{case.name}: expected.txt is empty"
        for line in expected_lines(case):
            assert re.fullmatch(r"\S+: (error|warning) \[[a-z0-9-]+\]", line), (
                f"{case.name}: malformed expected line {line!r}")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in INVALID])
def test_invalid_agreement(case: Path) -> None:
    result = run_validate(case, case_args(case))
    assert_no_traceback(result)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert diagnostics(result.stdout) == expected_lines(case), result.stdout


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in VALID])
def test_valid_agreement(case: Path) -> None:
    result = run_validate(case, case_args(case))
    assert_no_traceback(result)
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    found = diagnostics(result.stdout)
    assert not [d for d in found if " error [" in d], result.stdout
    # The valid fixtures are written to be clean: not even a warning.
    assert found == [], result.stdout


def test_valid_cases_share_one_digest() -> None:
    """Key order, quoting, comments, defaults and the split into files do not change meaning."""
    digests = {case.name: slaengine.validate_folder(case / "agreement").digest for case in VALID}
    assert None not in digests.values(), digests
    assert len(set(digests.values())) == 1, digests


def test_valid_cases_record_their_digest() -> None:
    """Every valid case's approved review carries the digest of its content (no mismatch)."""
    for case in VALID:
        result = slaengine.validate_folder(case / "agreement")
        reviews = (case / "agreement" / "reviews").glob("*.yaml")
        assert result.digest is not None
        assert any(result.digest in r.read_text(encoding="utf-8") for r in reviews), case.name


def test_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "slaengine", "validate", "no-such-agreement"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert_no_traceback(result)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message, "no message on stderr"
    assert len(message.splitlines()) == 1, message
    assert "no-such-agreement" in message
