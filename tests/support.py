"""Helpers several test modules share: git in a scratch repository, the CLI in process."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
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


def make_key(folder: Path, name: str, kind: str = "ed25519") -> Path:
    """A real key pair from ssh-keygen, without a passphrase; returns the private key's path."""
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{name}@test", "-f",
                    str(path)], check=True, capture_output=True)
    return path


def register_keys(agreement: Path, keys: dict[str, Path]) -> None:
    """Put each lead's public key (`{"Dana Whitfield": private key path}`) into the example
    agreement in place of the one key it registers for that lead."""
    path = agreement / "agreement.yaml"
    text = path.read_text()
    parties = yaml.safe_load(text)["parties"]
    for lead, key in keys.items():
        [registered] = [p["lead"]["keys"] for p in parties.values() if p["lead"]["name"] == lead]
        assert len(registered) == 1 and text.count(registered[0]) == 1, lead
        text = text.replace(registered[0], key.with_suffix(".pub").read_text().strip())
    path.write_text(text)


def drop_signed_reviews(agreement: Path) -> None:
    """Remove the example's signed reviews: a test that registers its own keys signs its own
    (the example's signatures are over the example's keys, which the test replaces)."""
    for review in (agreement / "reviews").glob("*.yaml"):
        if "signature:" in review.read_text():
            review.unlink()


def threshold_change_repo(tmp_path: Path) -> Path:
    """A git repository with the example agreement committed, then the MQL threshold raised
    and committed: `diff HEAD~1` has one change to word."""
    root = tmp_path / "repo"
    shutil.copytree(Path(__file__).resolve().parents[1] / "agreement", root / "agreement")
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "The example agreement")
    path = root / "agreement" / "definitions.yaml"
    path.write_text(path.read_text().replace("{score: engagement, gte: 40}",
                                             "{score: engagement, gte: 50}"))
    git(root, "commit", "-qam", "Raise the MQL threshold")
    return root
