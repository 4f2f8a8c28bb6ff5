"""Helpers several test modules share: git in a scratch repository, the CLI in process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from slaengine.agreement.diagnostics import UsageError
from slaengine.cli import cli


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; raise when it fails."""
    done = subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
                           *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def run_in(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, Result]:
    """The command in this process; a usage error exits 2, as `slaengine` does."""
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(cli, args)
    if isinstance(result.exception, UsageError):
        return 2, result
    return result.exit_code, result
