"""`slaengine site build|serve` never writes or deletes through a symbolic link.

MkDocs empties its output folder (`site_dir`, `build/site`) and writes the site into it,
following links; slaengine writes the agreement pages into the docs folder (`docs_dir`). A
link as either folder, as one of their parents in the project, or anywhere in the output
folder is refused before anything is written: exit 2, a message naming the link, a hint.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slaengine.agreement.diagnostics import UsageError
from slaengine.cli import main
from slaengine.site.build import check_folders, site_config
from test_site import site_kit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "agreement"
HINT = "remove the link or choose another output folder: `site_dir` in mkdocs.yml"


def run(capsys: pytest.CaptureFixture[str], config: Path,
        command: str = "build") -> tuple[int, str]:
    """`slaengine site COMMAND` through the console entry point, as a user runs it."""
    with pytest.raises(SystemExit) as done:
        main(["site", command, "--agreement", str(EXAMPLE), "--config", str(config),
              "--today", "2026-11-25"])
    return int(done.value.code or 0), capsys.readouterr().err


def outside_with_a_precious_file(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    (outside / "stylesheets").mkdir(parents=True)
    (outside / "precious.txt").write_text("PRECIOUS\n")
    (outside / "stylesheets" / "agreement.css").write_text("/* mine */\n")
    return outside


def contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_an_output_folder_that_is_a_link_is_refused_and_then_builds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = site_kit(tmp_path / "project")
    outside = outside_with_a_precious_file(tmp_path)
    before = contents(outside)
    (tmp_path / "project" / "build").mkdir()
    link = tmp_path / "project" / "build" / "site"
    link.symlink_to(outside, target_is_directory=True)
    code, err = run(capsys, config)
    assert code == 2, err
    assert err.startswith(f"slaengine: error: {link}: is a symbolic link;")
    assert "would delete and overwrite what the link points to" in err and HINT in err
    assert contents(outside) == before
    assert not (tmp_path / "project" / "site" / "agreement").exists()  # refused before rendering
    link.unlink()  # once the link is gone, the build goes ahead, into the real folder
    code, err = run(capsys, config)
    assert code == 0, err
    assert (tmp_path / "project" / "build" / "site" / "index.html").is_file()
    assert contents(outside) == before


def test_a_link_inside_the_output_folder_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """MkDocs' cleaning leaves a link to a folder in place and then writes through it."""
    config = site_kit(tmp_path / "project")
    outside = outside_with_a_precious_file(tmp_path)
    before = contents(outside)
    out = tmp_path / "project" / "build" / "site"
    out.mkdir(parents=True)
    (out / "index.html").write_text("an earlier build\n")
    (out / "assets").symlink_to(outside, target_is_directory=True)
    code, err = run(capsys, config)
    assert code == 2, err
    assert f"{out / 'assets'}: is a symbolic link inside the site's output folder {out};" in err
    assert HINT in err
    assert contents(outside) == before
    assert (out / "index.html").read_text() == "an earlier build\n"


def test_a_link_deep_inside_or_hidden_is_refused_too(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = site_kit(tmp_path / "project")
    outside = outside_with_a_precious_file(tmp_path)
    deep = tmp_path / "project" / "build" / "site" / "agreement" / "definitions"
    deep.mkdir(parents=True)
    (deep / "mql.html").symlink_to(outside / "precious.txt")
    (tmp_path / "project" / "build" / "site" / ".cache").symlink_to(outside)
    code, err = run(capsys, config)
    assert code == 2, err
    assert "/build/site/.cache: is a symbolic link inside" in err and "(and 1 more)" in err
    assert (outside / "precious.txt").read_text() == "PRECIOUS\n"


def test_a_parent_of_the_output_folder_that_is_a_link_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = site_kit(tmp_path / "project")
    outside = outside_with_a_precious_file(tmp_path)
    (outside / "site").mkdir()
    (outside / "site" / "keep.html").write_text("keep\n")
    before = contents(outside)
    (tmp_path / "project" / "build").symlink_to(outside, target_is_directory=True)
    code, err = run(capsys, config)
    assert code == 2, err
    assert f"{tmp_path / 'project' / 'build'}: is a symbolic link;" in err and HINT in err
    assert contents(outside) == before


def test_a_docs_folder_that_is_a_link_is_refused_by_build_and_serve(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = site_kit(tmp_path / "project")
    docs = tmp_path / "project" / "site"
    real = tmp_path / "pages"
    docs.rename(real)
    docs.symlink_to(real, target_is_directory=True)
    for command in ("build", "serve"):  # serve is refused before it starts serving
        code, err = run(capsys, config, command)
        assert code == 2, (command, err)
        assert f"{docs}: is a symbolic link;" in err
        assert "remove the link, or set `docs_dir` in mkdocs.yml to a real folder" in err
        assert not (real / "agreement").exists()
        assert not (tmp_path / "project" / "build").exists()


def test_the_generated_pages_folder_keeps_its_protection(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = site_kit(tmp_path / "project")
    outside = outside_with_a_precious_file(tmp_path)
    before = contents(outside)
    (tmp_path / "project" / "site" / "agreement").symlink_to(outside, target_is_directory=True)
    code, err = run(capsys, config)
    assert code == 2, err
    assert "site/agreement: is a symbolic link" in err
    assert contents(outside) == before
    assert not (tmp_path / "project" / "build").exists()  # MkDocs never ran


def test_an_output_folder_that_is_a_file_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = site_kit(tmp_path / "project")
    (tmp_path / "project" / "build").mkdir()
    (tmp_path / "project" / "build" / "site").write_text("not a folder\n")
    code, err = run(capsys, config)
    assert code == 2, err
    assert "build/site: is not a folder, but it is the site's output folder" in err


def test_an_output_folder_outside_the_project_is_checked_itself_not_its_parents(
        tmp_path: Path) -> None:
    """Only the project's own folders are checked on the way: where an output folder chosen
    elsewhere lives (a link such as macOS's /tmp) is the user's choice."""
    config = site_kit(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "via").symlink_to(elsewhere, target_is_directory=True)
    check_folders(site_config(config, site_dir=str(tmp_path / "via" / "out")))
    (elsewhere / "out").symlink_to(tmp_path / "project", target_is_directory=True)
    with pytest.raises(UsageError, match="via/out: is a symbolic link"):
        check_folders(site_config(config, site_dir=str(tmp_path / "via" / "out")))
