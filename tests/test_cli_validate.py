"""`slaengine validate` run as a real command, as a user or CI would."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "agreement"
VERSION = yaml.safe_load((EXAMPLE / "agreement.yaml").read_text())["version"]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slaengine", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "agreement"
    shutil.copytree(EXAMPLE, target)
    return target


def test_example_is_valid_with_default_folder() -> None:
    result = run("validate", "--today", "2026-11-22")
    assert result.returncode == 0, result.stdout
    files = len(list(EXAMPLE.glob("*.yaml")) + list(EXAMPLE.glob("*/*.yaml")))
    assert result.stdout.strip().startswith(f"agreement ({files} files): valid, version "
                                            f"{VERSION}")
    assert ": error:" not in result.stdout and "0 errors, 0 warnings" in result.stdout


def test_agreement_option_and_argument_are_the_same() -> None:
    by_arg = run("validate", "agreement", "--today", "2026-11-22")
    by_option = run("validate", "--agreement", "agreement", "--today", "2026-11-22")
    assert by_arg.stdout == by_option.stdout
    clash = run("validate", "agreement", "--agreement", "elsewhere")
    assert clash.returncode == 2


def test_json_format(copy: Path) -> None:
    (copy / "definitions.yaml").write_text(
        (copy / "definitions.yaml").read_text().replace("{definition: icp_fit}",
                                                        "{definition: icp_fitt}", 1))
    result = run("validate", str(copy), "--format", "json", "--today", "2026-11-22")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["valid"] is False and doc["errors"] == 1
    assert doc["warnings"] == 1  # the edit also departs from the approved digest
    [diag] = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    assert diag["code"] == "unknown-definition"
    assert diag["hint"] == "did you mean `icp_fit`?"
    assert diag["file"].endswith("definitions.yaml") and diag["line"] > 0 and diag["col"] > 0


def test_github_format_annotates_the_line(copy: Path) -> None:
    path = copy / "service-levels.yaml"
    path.write_text(path.read_text().replace("within: 24h", "within: 3d", 1))
    result = run("validate", str(copy), "--format", "github", "--today", "2026-11-22")
    assert result.returncode == 1
    [line] = [ln for ln in result.stdout.splitlines() if ln.startswith("::error ")]
    assert line.startswith(f"::error file={path},")
    assert ",line=10,col=13,title=ambiguous-business-days::" in line
    assert "%3A" not in line.split("::")[2]  # only property values are escaped


def test_strict_turns_warnings_into_errors(copy: Path) -> None:
    path = copy / "agreement.yaml"
    path.write_text(path.read_text().replace("Northwind Analytics marketing", "Northwind marketing"))
    lenient = run("validate", str(copy), "--today", "2026-11-22")
    assert lenient.returncode == 0
    assert f"warning: the agreement has changed since version {VERSION}" in lenient.stdout
    strict = run("validate", str(copy), "--strict", "--today", "2026-11-22")
    assert strict.returncode == 1
    assert f"error: the agreement has changed since version {VERSION}" in strict.stdout


def test_today_drives_the_overdue_check() -> None:
    latest = max(EXAMPLE.glob("reviews/*.yaml"))
    due = date.fromisoformat(str(yaml.safe_load(latest.read_text())["next_review"]))
    on_time = run("validate", "--today", due.isoformat())
    late = run("validate", "--today", (due + timedelta(days=3)).isoformat())
    assert "review-overdue" not in on_time.stdout
    assert f"the review was due on {due.isoformat()} (3 days ago) [review-overdue]" in late.stdout
    assert run("validate", "--today", "20-05-2027").returncode == 2


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"definitions: [\n", "yaml-syntax"),
        (b"", "empty-file"),
        (b"\x00\x01binary\xff", "unreadable-file"),
    ],
)
def test_unreadable_files_give_one_located_line(copy: Path, content: bytes, code: str) -> None:
    (copy / "extra.yaml").write_bytes(content)
    result = run("validate", str(copy))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = [ln for ln in result.stdout.splitlines() if f"[{code}]" in ln]
    assert len(lines) == 1
    assert lines[0].startswith(f"{copy / 'extra.yaml'}:")


def test_missing_folder_is_usage_error(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"slaengine: error: {tmp_path / 'nowhere'}: agreement folder not found"


def test_paths_are_shown_relative_to_the_working_directory(copy: Path) -> None:
    (copy / "extra.yaml").write_text("definitons: {}\n")
    result = run("validate", "agreement", cwd=copy.parent)
    assert result.stdout.splitlines()[0].startswith(
        "agreement/extra.yaml:1:1: error: unknown section `definitons` [unknown-key]")
    assert "hint: did you mean `definitions`?" in result.stdout


def test_schema_check_detects_drift(tmp_path: Path) -> None:
    assert run("schema", "--check", "schema").returncode == 0
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    (tmp_path / "schema" / "review.schema.json").write_text("{}\n")
    stale = run("schema", "--check", str(tmp_path / "schema"))
    assert stale.returncode == 1
    assert "review.schema.json: out of date" in stale.stderr
