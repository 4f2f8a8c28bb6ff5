"""The README and the guides in docs/: every relative link and image points at a file that
exists, every `#anchor` at a heading of the Markdown file it names; the README stays a short
front door that still holds the exact test command `.ci/run` runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest


def _repository_root() -> Path:
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    raise RuntimeError("no pyproject.toml above this test")


ROOT = _repository_root()
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 200

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target "title") and ![alt](target); the text may hold one level of brackets.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]+(?:\([^\s()]*\)[^\s()]*)*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_TARGET = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]*)\"", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Link:
    source: Path
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.source.relative_to(ROOT)}:{self.line}: ({self.target})"


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        marker = FENCE.match(line)
        if fence is None:
            if marker:
                fence = marker.group(1)
            else:
                lines.append((number, line))
        elif marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence) \
                and not line[marker.end():].strip():
            fence = None
    return lines


def links(path: Path) -> list[Link]:
    found: list[Link] = []
    for number, raw in prose_lines(path):
        line = CODE_SPAN.sub(lambda span: " " * len(span.group(0)), raw)
        targets = [m.group(1) for m in INLINE_LINK.finditer(line)]
        targets += [m.group(1) for m in HTML_TARGET.finditer(line)]
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            targets.append(definition.group(1))
        found += [Link(path, number, target.strip("<>")) for target in targets]
    return found


def is_relative(target: str) -> bool:
    return not (SCHEME.match(target) or target.startswith("//"))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lower case, without punctuation other than
    `-` and `_`, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)                          # inline HTML
    text = text.replace("`", "")
    text = re.sub(r"(\*\*|__|\*)(.+?)\1", r"\2", text)           # emphasis markers
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every heading anchor of a Markdown file, numbered `-1`, `-2` as GitHub numbers repeats."""
    seen: dict[str, int] = {}
    result: set[str] = set()
    previous = ""
    for _, line in prose_lines(path):
        heading = HEADING.match(line)
        underline = SETEXT_UNDERLINE.match(line)
        if heading:
            title = heading.group(2)
        elif underline and previous.strip() and not HEADING.match(previous):
            title = previous.strip()
        else:
            previous = line
            continue
        previous = ""
        slug = github_slug(title)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return frozenset(result)


ALL_LINKS = [link for path in markdown_files() for link in links(path)]
RELATIVE_LINKS = [link for link in ALL_LINKS if is_relative(link.target)]


def test_the_guides_exist() -> None:
    for name in ("README", "team-leads", "sales-and-marketing", "revops", "reference",
                 "performance", "choices"):
        assert (DOCS / f"{name}.md").is_file(), f"docs/{name}.md is missing"


@pytest.mark.parametrize("link", RELATIVE_LINKS, ids=str)
def test_a_relative_link_points_at_a_file_and_heading_that_exist(link: Link) -> None:
    path_part, _, anchor = link.target.partition("#")
    target = (link.source.parent / unquote(path_part)).resolve() if path_part else link.source
    assert target.is_relative_to(ROOT), f"{link} leaves the repository"
    assert target.exists(), f"{link}: {target.relative_to(ROOT)} does not exist"
    if anchor:
        assert target.suffix == ".md", f"{link}: an anchor into a file that is not Markdown"
        assert unquote(anchor) in anchors(target), (
            f"{link}: no heading of {target.relative_to(ROOT)} has the anchor #{anchor}; "
            f"it has {sorted(anchors(target))}")


def test_every_guide_is_reachable_from_the_readme_and_the_index() -> None:
    def linked_from(source: Path) -> set[Path]:
        return {(source.parent / unquote(link.target.partition("#")[0])).resolve()
                for link in RELATIVE_LINKS
                if link.source == source and link.target.partition("#")[0]}

    assert (DOCS / "README.md").resolve() in linked_from(README)
    index = linked_from(DOCS / "README.md")
    for guide in sorted(DOCS.glob("*.md")):
        if guide.name != "README.md":
            assert guide.resolve() in index, f"docs/README.md does not list {guide.name}"


def test_the_link_collector_sees_links_and_skips_code() -> None:
    readme_targets = {link.target for link in links(README)}
    assert "docs/team-leads.md" in readme_targets
    assert "docs/screenshots/home.png" in readme_targets           # an image
    assert not any("javascript:" in link.target for link in ALL_LINKS)  # a code span in revops.md


def test_slugs_are_githubs() -> None:
    assert github_slug("Running the workflow's steps locally") == (
        "running-the-workflows-steps-locally")
    assert github_slug("`evaluate --engine duckdb`") == "evaluate---engine-duckdb"
    assert github_slug("KPIs in SQL: `sql --what kpis` and `kpis --engine duckdb`") == (
        "kpis-in-sql-sql---what-kpis-and-kpis---engine-duckdb")
    assert github_slug("1. Check the agreement") == "1-check-the-agreement"


def test_the_readme_is_a_short_front_door() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines; keep it to {MAX_README_LINES} and move detail "
        "into docs/")


def ci_test_command() -> str:
    """The last command line of `.ci/run` after its `cd`: the command CI runs."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    cd = next(i for i, line in enumerate(lines) if line.strip().startswith("cd "))
    commands = [line.strip() for line in lines[cd + 1:]
                if line.strip() and not line.strip().startswith("#")]
    assert commands, ".ci/run runs nothing after its `cd`"
    return commands[-1]


def test_the_readme_holds_the_exact_test_command_ci_runs() -> None:
    command = ci_test_command()
    assert "pytest" in command
    readme_lines = [line.strip() for line in README.read_text(encoding="utf-8").splitlines()]
    assert command in readme_lines, f"README.md does not hold `{command}` on a line of its own"
