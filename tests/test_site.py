"""`slaengine site build|serve`: pages written into the MkDocs folder, and a strict MkDocs build."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from slaengine.cli import cli
from slaengine.files import FileRefused
from slaengine.site.build import AgreementWatcher, navigation, write_pages
from support import git

# The site tests build into the repository's site/ folder and rewrite docs/ files:
# one pytest-xdist worker runs them all, one after another.
pytestmark = pytest.mark.xdist_group("site")


ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "agreement"
HOOKS = Path("src/slaengine/site/mkdocs_hooks.py")


def site_kit(target: Path) -> Path:
    """A copy of the repository's site: mkdocs.yml, the hand-written pages and the hook file."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(ROOT / "site", target / "site",
                    ignore=lambda folder, names: ["agreement"] if Path(folder) == ROOT / "site"
                    else [])
    (target / HOOKS).parent.mkdir(parents=True)
    shutil.copy(ROOT / HOOKS, target / HOOKS)
    return target / "mkdocs.yml"


def build(config: Path, agreement: Path = EXAMPLE, today: str = "2026-11-22") -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["site", "build", "--agreement", str(agreement),
                                      "--config", str(config), "--today", today])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = site_kit(tmp_path_factory.mktemp("site"))
    code, output = build(config)
    assert code == 0, output
    return config.parent


def test_build_writes_pages_and_runs_strict_mkdocs(built: Path) -> None:
    generated = sorted(p.relative_to(built / "site").as_posix()
                       for p in (built / "site" / "agreement").rglob("*.md"))
    assert "agreement/index.md" in generated and "agreement/definitions/mql.md" in generated
    out = built / "build" / "site"
    for page in generated:
        html_page = out / page.removesuffix(".md").removesuffix("index")
        assert (html_page / "index.html").is_file() or html_page.with_suffix(".html").is_file()
    assert (out / "index.html").is_file()  # the hand-written intro stays
    lifecycle = (out / "agreement" / "lifecycle" / "index.html").read_text()
    assert '<div class="mermaid">flowchart LR' in lifecycle


def test_navigation_lists_every_generated_page(built: Path) -> None:
    home = (built / "build" / "site" / "agreement" / "index.html").read_text()
    nav = home[home.index('<nav class="md-nav md-nav--primary"'):]
    for page in ("icp", "definitions/mql", "definitions/icp_fit", "scoring", "lifecycle",
                 "service-levels", "calendars", "kpis", "dispositions", "reviews", "glossary"):
        assert f'href="../agreement/{page}/"' in nav or f'href="{page}/"' in nav, page
    assert navigation(built / "site")[1]["The agreement"][2] == {"Definitions": [
        "agreement/definitions/index.md", *(f"agreement/definitions/{d}.md" for d in (
            "excluded", "icp_fit", "mql", "sales_ready", "sal", "sql"))]}


_EXTERNAL = re.compile(r"^(https?:)?//", re.I)


def test_built_site_loads_nothing_from_other_hosts(built: Path) -> None:
    out = built / "build" / "site"
    pages = list(out.rglob("*.html"))
    assert len(pages) > 15
    for page in pages:
        text = page.read_text()
        for tag in re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", text, re.I):
            for url in re.findall(r'\b(?:src|href)="([^"]*)"', tag):
                assert not _EXTERNAL.match(url), (page, tag)
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page
    for sheet in out.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]([^'\"]+)",
                              sheet.read_text()):
            assert not any(_EXTERNAL.match(u) for u in url), (sheet, url)
    assert (out / "assets" / "javascripts" / "mermaid.min.js").stat().st_size > 1_000_000


def test_build_is_deterministic(tmp_path: Path) -> None:
    config = site_kit(tmp_path)
    docs = tmp_path / "site" / "agreement"
    stale = docs / "definitions" / "removed.md"  # written by an earlier build
    write_pages({"agreement/definitions/removed.md": "# A definition that no longer exists\n"},
                tmp_path / "site")
    assert build(config)[0] == 0
    first = {p: p.read_bytes() for p in sorted(docs.rglob("*")) if p.is_file()}
    html = {p: p.read_bytes() for p in sorted((tmp_path / "build").rglob("*.html"))}
    assert stale not in first and not stale.exists()
    assert build(config)[0] == 0
    assert {p: p.read_bytes() for p in sorted(docs.rglob("*")) if p.is_file()} == first
    assert {p: p.read_bytes() for p in sorted((tmp_path / "build").rglob("*.html"))} == html


def test_write_pages_touches_only_its_folder(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("# Mine\n")
    (tmp_path / "agreement").mkdir()
    (tmp_path / "agreement" / ".keep").write_text("")
    assert write_pages({"agreement/a.md": "# A\n", "agreement/b/c.md": "# C\n"}, tmp_path) == 2
    assert write_pages({"agreement/a.md": "# A\n", "agreement/b/c.md": "# C\n"}, tmp_path) == 0
    assert write_pages({"agreement/a.md": "# A2\n"}, tmp_path) == 2  # one changed, one removed
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "agreement", "agreement/.keep", "agreement/.slaengine-pages", "agreement/a.md",
        "index.md"]
    for bad in ("index.md", "agreement/../x.md", "other/a.md", "agreement/"):
        with pytest.raises(ValueError, match="not inside"):
            write_pages({bad: "x"}, tmp_path)


def test_write_pages_never_follows_a_link_nor_deletes_what_it_did_not_write(
        tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.md").write_text("# Keep me\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "agreement").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(FileRefused, match="agreement: is a symbolic link"):
        write_pages({"agreement/a.md": "# A\n"}, docs)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious.md"]
    (docs / "agreement").unlink()
    (docs / "agreement").mkdir()
    (docs / "agreement" / "mine.md").write_text("# Someone's own page\n")
    (docs / "agreement" / "sub").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(FileRefused, match="sub: is a symbolic link"):
        write_pages({"agreement/sub/x.md": "# X\n"}, docs)
    (docs / "agreement" / "sub").unlink()
    assert write_pages({"agreement/a.md": "# A\n"}, docs) == 1
    assert write_pages({}, docs) == 1  # its own page removed, the other one kept
    assert (docs / "agreement" / "mine.md").exists()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious.md"]


def test_invalid_agreement_and_missing_config(tmp_path: Path) -> None:
    config = site_kit(tmp_path / "kit")
    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken)
    (broken / "lifecycle.yaml").write_text("stages:\n  - {id: lead, owner: nobody}\n")
    code, output = build(config, broken)
    assert code == 1
    assert "unknown party `nobody`" in output and "is not a valid agreement" in output
    result = subprocess.run([sys.executable, "-m", "slaengine", "site", "build", "--config",
                             str(tmp_path / "none.yml")], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 2 and "no MkDocs configuration" in result.stderr


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    config = site_kit(tmp_path)
    (tmp_path / "site" / "index.md").write_text("# Intro\n\n[gone](agreement/nowhere.md)\n")
    code, output = build(config)
    assert code == 1
    assert "nowhere.md" in output and "the site did not build" in output


def test_watcher_notices_changes(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("a: 1\n")
    seen: list[int] = []
    watcher = AgreementWatcher(tmp_path, lambda: seen.append(1), interval=0.05)
    watcher.start()
    try:
        time.sleep(0.2)
        assert seen == []
        (tmp_path / "a.yaml").write_text("a: 22\n")
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen == [1]
    finally:
        watcher.stop()
        watcher.join(5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode("utf-8"))


def _wait_for(url: str, text: str, timeout: float = 60) -> str:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            last = _fetch(url)
            if text in last:
                return last
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} never showed {text!r}; last page:\n{last[:2000]}")


def test_serve_rerenders_when_the_agreement_changes(tmp_path: Path) -> None:
    config = site_kit(tmp_path / "kit")
    agreement = tmp_path / "agreement"
    shutil.copytree(EXAMPLE, agreement)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "slaengine", "site", "serve", "--agreement", str(agreement),
         "--config", str(config), "--today", "2026-11-22", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        page = f"http://127.0.0.1:{port}/agreement/definitions/icp_fit/"
        _wait_for(page, "Employee count is between 50 and 5,000")
        definitions = agreement / "definitions.yaml"
        definitions.write_text(definitions.read_text().replace("between: [50, 5000]",
                                                               "between: [75, 5000]"))
        _wait_for(page, "Employee count is between 75 and 5,000")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert "re-rendered the agreement" in output, output


def test_the_reviews_page_shows_what_changed_between_approved_texts(tmp_path: Path) -> None:
    """The change-control diff between each review's approved text and the previous one's."""
    import slaengine  # noqa: PLC0415
    from slaengine.site.build import review_changes  # noqa: PLC0415
    from slaengine.site.renderer import render_site  # noqa: PLC0415

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "agreement")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "as approved on 2026-11-20")
    approved = slaengine.load_agreement(repo / "agreement").digest
    definitions = repo / "agreement" / "definitions.yaml"
    definitions.write_text(definitions.read_text().replace(
        "- {score: engagement, gte: 40}", "- {score: engagement, gte: 50}"))
    git(repo, "commit", "-qam", "raise the MQL bar")
    changed = slaengine.load_agreement(repo / "agreement", today=None)
    (repo / "agreement" / "reviews" / "2027-01-10.yaml").write_text(
        "# yaml-language-server: $schema=../../schema/review.schema.json\n"
        "date: 2027-01-10\nversion: 2.2.0\nkind: amendment\n"
        "approvals:\n  - {party: marketing, name: Dana Whitfield, on: 2027-01-10}\n"
        "  - {party: sales, name: Raj Patel, on: 2027-01-10}\n"
        f"digest: {changed.digest}\nnext_review: 2027-05-17\n")
    agreement = slaengine.load_agreement(repo / "agreement")
    assert agreement.reviews[-2].digest == approved

    changes = review_changes(agreement)
    assert changes["2027-01-10"] == ["MQL: engagement score at least 40 → at least 50"]
    page = render_site(agreement, agreement.reviews[-1].date, changes)["agreement/reviews.md"]
    section = page.split("{#review-2027-01-10}")[1].split("\n## ")[0]
    assert "What changed since the previous review" in section
    assert "engagement score at least 40 → at least 50" in section
    # Outside git the texts cannot be found: the page falls back to what reviews record.
    outside = tmp_path / "copy"
    shutil.copytree(repo / "agreement", outside)
    assert "2027-01-10" not in review_changes(slaengine.load_agreement(outside))
