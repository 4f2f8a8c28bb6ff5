"""Writes stay inside their folder: atomic, never through a symbolic link (real CLI runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from slaengine.files import FileRefused, atomic_write

ROOT = Path(__file__).resolve().parents[1]


def test_atomic_write_replaces_and_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    atomic_write(path, "one")
    os.chmod(path, 0o600)
    atomic_write(path, b"two")
    assert path.read_text() == "two" and (path.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temporary left


def test_atomic_write_refuses_a_symbolic_link_and_leaves_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("secret")
    link = tmp_path / "out.md"
    link.symlink_to(victim)
    with pytest.raises(FileRefused, match=r"out\.md: is a symbolic link; refusing to write"):
        atomic_write(link, "overwritten")
    assert victim.read_text() == "secret" and link.is_symlink()


def test_report_refuses_to_write_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("secret")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report-2026-10.md").symlink_to(victim)
    result = subprocess.run([sys.executable, "-m", "slaengine", "report", "--leads",
                             "examples/leads.jsonl", "--month", "2026-10", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"slaengine: error: {out}/report-2026-10.md: is a symbolic "
                                      "link; refusing to write through it (remove the link, or "
                                      "give the real path)")
    assert victim.read_text() == "secret"


def test_gitignore_covers_the_rendered_pages_as_file_folder_or_link() -> None:
    lines = (ROOT / ".gitignore").read_text().splitlines()
    assert "site/agreement" in lines  # no trailing slash: a link or a file is ignored too
