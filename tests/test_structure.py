"""Hand-editing mistakes and what `slaengine validate` tells the lead who made them.

Each `tests/fixtures/mistakes/<case>.yaml` starts from the agreement in
`tests/fixtures/mistakes/base/`, makes one edit a marketing or sales lead could make by hand
(`replace:` → `with:` once in `file:`, or `delete: true` to remove the file) and holds the
exact output of `slaengine validate` and its exit code. The base has no review on record, so
an otherwise valid agreement carries the one `never-approved` warning.

A second test reads every message and hint the mistakes and the invalid agreements under
`tests/fixtures/agreements/` produce, and fails on Python reprs or JSON Schema and pydantic
phrasing: a lead must never read either.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import slaengine
from slaengine.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
MISTAKES = FIXTURES / "mistakes"
BASE = MISTAKES / "base"
CASES = sorted(MISTAKES.glob("*.yaml"))
INVALID_AGREEMENTS = sorted(p / "agreement" for p in (FIXTURES / "agreements" / "invalid").iterdir()
                            if (p / "agreement").is_dir())
MIN_CASES = 40
_TODAY = date(2026, 6, 1)

# What a team lead must never read in a diagnostic.
JARGON = re.compile("|".join([
    r"\bTrue\b", r"\bFalse\b", r"\bNone\b", r"\{'", r"\['", r"'\}", r"'\]",
    r"is not valid under", r"any of the given schemas", r"(?i:additional propert)",
    r"(?i:input should be)", r"(?i:validation error)", r"is a required property",
    r"does not match '", r"is not of type", r"is too (?:long|short)", r"should be a valid",
    r"\bNoneType\b", r"<class ", r"\bjson\b", r"\$ref", r"\bschema\b", r"pydantic",
    r"oneOf", r"anyOf", r"Traceback",
]))


def _spec(case: Path) -> dict[str, Any]:
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    assert isinstance(spec, dict), case
    return spec


def apply_mistake(spec: dict[str, Any], folder: Path) -> None:
    """Copy the base agreement into `folder/agreement` and make the case's one edit."""
    target = folder / "agreement"
    shutil.copytree(BASE, target)
    path = target / spec["file"]
    if spec.get("delete"):
        path.unlink()
        return
    text = path.read_text(encoding="utf-8")
    assert text.count(spec["replace"]) == 1, f"`{spec['replace']}` must occur once in {path}"
    path.write_text(text.replace(spec["replace"], spec["with"]), encoding="utf-8")


def run_case(spec: dict[str, Any]) -> tuple[str, int]:
    """The case's agreement through the real `validate` command: its output and exit code."""
    with tempfile.TemporaryDirectory() as tmp:
        apply_mistake(spec, Path(tmp))
        with contextlib.chdir(tmp):
            result = CliRunner().invoke(cli, ["validate", "agreement", "--today", "2026-06-01"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.stdout, result.exit_code


def test_base_is_valid() -> None:
    output, code = run_case({"file": "agreement.yaml", "replace": "agreement:", "with": "agreement:"})
    assert code == 0, output
    assert ": error:" not in output


def test_inventory() -> None:
    """The suite cannot silently shrink, and each case says what mistake it makes."""
    assert len(CASES) >= MIN_CASES, f"only {len(CASES)} mistakes"
    for case in CASES:
        spec = _spec(case)
        assert spec["mistake"] and spec["file"] and isinstance(spec["expected"], str), case.name
        assert spec.get("delete") or ("replace" in spec and "with" in spec), case.name


@pytest.mark.parametrize("case", [pytest.param(c, id=c.stem) for c in CASES])
def test_mistake(case: Path) -> None:
    spec = _spec(case)
    output, code = run_case(spec)
    assert output == spec["expected"]
    assert code == spec["exit"]


def _messages_of_mistakes() -> list[tuple[str, str]]:
    found = []
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            apply_mistake(_spec(case), Path(tmp))
            result = slaengine.validate_folder(Path(tmp) / "agreement", today=_TODAY)
            found += [(case.stem, text) for d in result.diagnostics
                      for text in (d.message, d.hint or "")]
    return found


def test_no_reprs_or_jargon_in_any_diagnostic() -> None:
    """Every message and hint of every fixture, mistakes and invalid agreements alike."""
    found = _messages_of_mistakes()
    for folder in INVALID_AGREEMENTS:
        result = slaengine.validate_folder(folder, today=_TODAY)
        found += [(folder.parent.name, text) for d in result.diagnostics
                  for text in (d.message, d.hint or "")]
    assert len(found) > 2 * MIN_CASES
    bad = [f"{case}: {text}" for case, text in found if JARGON.search(text)]
    assert bad == []


@pytest.mark.parametrize("text", [
    "`{'field': 'mql_at', 'exists': True}` is not one of `True`",
    "'forty' is not valid under any of the given schemas",
    "Input should be a valid integer", "got None", "['a'] is too short",
    "Additional properties are not allowed ('x' was unexpected)",
])
def test_the_jargon_scan_catches_what_it_must(text: str) -> None:
    assert JARGON.search(text)


@pytest.mark.parametrize("text", [
    "`gte` must be a number, not text", "write 40, without words",
    "the agreement has no `stages` section", "hint: write `0.75` for 75%",
])
def test_the_jargon_scan_lets_plain_words_through(text: str) -> None:
    assert not JARGON.search(text)


def test_count_short_form_means_count_true_and_where() -> None:
    """`count: <condition>` and `count: true` + `where:` are the same agreement (one digest)."""
    digests = []
    for spec in [{"file": "kpis.yaml", "replace": "mql_volume:", "with": "mql_volume:"},
                 _spec(MISTAKES / "count-with-condition.yaml")]:
        with tempfile.TemporaryDirectory() as tmp:
            apply_mistake(spec, Path(tmp))
            digests.append(slaengine.validate_folder(Path(tmp) / "agreement", today=_TODAY).digest)
    assert digests[0] is not None and digests[0] == digests[1]
