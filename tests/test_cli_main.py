"""The exit codes of the real command: 3 and one line for a bug, located errors for deep input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from slaengine.agreement.loader import MAX_FILE_BYTES, MAX_YAML_DEPTH
from slaengine.agreement.structure import MAX_CONDITION_DEPTH
from slaengine.cli import EXIT_INTERNAL, main

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-06-01T00:00:00Z"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slaengine", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def _explode(*args: object, **kwargs: object) -> None:
    raise KeyError("boom")  # stands in for a bug: no real input reaches one any more


def _run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_internal_error_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("slaengine.cli.commands.validate_folder", _explode)
    code, out, err = _run_main(["validate", "agreement"], capsys)
    assert code == EXIT_INTERNAL == 3 and out == ""
    [line] = err.splitlines()
    assert line.startswith("slaengine: internal error: KeyError: 'boom' in slaengine/")
    assert "please report it to the slaengine maintainers" in line
    assert line.endswith("rerun with --debug for the traceback")
    assert "Traceback" not in err


def test_debug_prints_the_traceback(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("slaengine.cli.commands.validate_folder", _explode)
    code, _, err = _run_main(["--debug", "validate", "agreement"], capsys)
    assert code == 3
    assert err.startswith("Traceback (most recent call last):")
    assert "KeyError: 'boom'" in err
    assert err.splitlines()[-1].startswith("slaengine: internal error: KeyError: 'boom'")


def _agreement_with(tmp_path: Path, when: str) -> Path:
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    shutil.rmtree(folder / "tests")
    path = folder / "definitions.yaml"
    path.write_text(path.read_text().replace(
        "definitions:\n", f"definitions:\n  deep:\n    title: Deep\n    when: {when}\n", 1))
    return folder


def _nested(levels: int) -> str:
    cond = "{field: employee_count, gt: 1}"
    for i in range(levels):
        cond = ("{all: [" if i % 2 else "{any: [") + cond + ", {field: industry, eq: software}]}"
    return cond


def test_condition_depth_at_the_limit_runs_everywhere(tmp_path: Path) -> None:
    folder = str(_agreement_with(tmp_path, _nested(MAX_CONDITION_DEPTH)))
    assert run("validate", folder, "--today", "2026-11-22").returncode in (0, 1)
    for command in (["evaluate", "--leads", "examples/leads.jsonl", "--now", NOW],
                    ["evaluate", "--engine", "duckdb", "--leads", "examples/leads.jsonl",
                     "--now", NOW],
                    ["explain", "--lead", "examples/leads.jsonl", "--now", NOW],
                    ["sql", "--dialect", "postgres"]):
        result = run(*command, "--agreement", folder)
        assert result.returncode in (0, 1), (command, result.stderr[-500:])
        assert "Traceback" not in result.stderr and "is not a valid agreement" not in result.stderr


@pytest.mark.parametrize("when", [_nested(MAX_CONDITION_DEPTH + 1), _nested(200),
                                  "{not: " * 40 + "{field: employee_count, gt: 1}" + "}" * 40])
def test_conditions_nested_too_deep_are_a_located_error(tmp_path: Path, when: str) -> None:
    folder = _agreement_with(tmp_path, when)
    result = run("validate", str(folder), "--today", "2026-11-22")
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 1
    if len(when) < 5000:  # 200 levels are refused earlier, by the YAML depth limit
        assert errors[0].startswith(f"{folder}/definitions.yaml:6:")
        assert errors[0].endswith(f"conditions are nested more than {MAX_CONDITION_DEPTH} levels "
                                  "deep (`all`, `any` and `not` inside each other) "
                                  "[condition-too-deep]")
    else:
        assert errors[0].endswith("[yaml-too-deep]")
    evaluated = run("evaluate", "--agreement", str(folder), "--leads", "examples/leads.jsonl",
                    "--now", NOW)
    assert evaluated.returncode == 1 and "Traceback" not in evaluated.stderr


@pytest.mark.parametrize("levels", [MAX_YAML_DEPTH + 1, 400, 5000])
def test_yaml_nested_too_deep_is_a_located_error(tmp_path: Path, levels: int) -> None:
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    (folder / "deep.yaml").write_text("x: " + "[" * (levels - 1) + "]" * (levels - 1) + "\n")
    result = run("validate", str(folder))
    assert result.returncode == 1, result.stderr
    assert f"{folder}/deep.yaml:1:{MAX_YAML_DEPTH + 3}: error: values are nested more than " \
           f"{MAX_YAML_DEPTH} levels deep here [yaml-too-deep]" in result.stdout


def test_yaml_at_the_depth_limit_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    (folder / "deep.yaml").write_text("x: " + "[" * (MAX_YAML_DEPTH - 1)
                                      + "]" * (MAX_YAML_DEPTH - 1) + "\n")
    result = run("validate", str(folder))
    assert result.returncode == 1
    assert "[unknown-key]" in result.stdout and "yaml-too-deep" not in result.stdout


def test_huge_agreement_file_is_refused_unread(tmp_path: Path) -> None:
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    with open(folder / "huge.yaml", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no 10 MB written to disk
    result = run("validate", str(folder))
    assert result.returncode == 1
    assert f"{folder}/huge.yaml: error: file is larger than 10 MB [file-too-large]" \
        in result.stdout
