"""Lead data never becomes markup: every Markdown output, run on a hostile lead file.

The lead file is the example one with ids, sources, campaigns, stages and dispositions replaced
by HTML, images, links, table breaks, headings, emphasis and line breaks. Each command runs
through the real CLI; its Markdown is rendered with Python-Markdown (what MkDocs uses) and the
HTML checked: no `<img>`, `<a>`, `<script>`, heading or emphasis from a lead, every table row
as wide as its header, and the values still visible as text.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import markdown  # type: ignore[import-untyped]  # Python-Markdown ships no type hints
import pytest
from click.testing import CliRunner, Result
from hypothesis import example, given
from hypothesis import strategies as st

from slaengine.agreement.markdown_text import Md, lead_code, lead_message, lead_text
from slaengine.cli import cli
from support import run_in, threshold_change_repo

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreement"
LEADS = ROOT / "examples" / "leads.jsonl"
NOW = "2026-11-01T00:00:00+01:00"
HOSTILE = ["<img src=x onerror=alert(1)>", "[click](https://evil.example)",
           "![x](https://evil.example/p.png)", "| broken | table", "# heading", "**bold**",
           "line\nbreak", "<script>alert(1)</script>"]
# How each hostile value reads once rendered (a line break is a space in one line of text).
VISIBLE = [h.replace("\n", " ") for h in HOSTILE]


class Rendered(HTMLParser):
    """Tags, text and table rows (cell counts) of rendered Markdown."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.headings: list[str] = []
        self.strong: list[str] = []
        self.rows: list[int] = []  # cells per row, in order
        self.table_widths: list[list[int]] = []
        self._text: list[str] = []
        self._in: list[str] = []
        self.feed(html)
        self.text = "".join(self._text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in.append(tag)
        if tag == "table":
            self.table_widths.append([])
        elif tag == "tr":
            self.table_widths[-1].append(0)
        elif tag in ("td", "th"):
            self.table_widths[-1][-1] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            del self._in[len(self._in) - 1 - self._in[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._in and re.fullmatch(r"h[1-6]", self._in[-1]):
            self.headings.append(data)
        if self._in and self._in[-1] in ("strong", "em"):
            self.strong.append(data)


def shown_as(value: str) -> str:
    """What a lead value reads as once rendered: one line, control characters as U+FFFD."""
    return " ".join(re.sub(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", "\ufffd", value).split())


def rendered(text: str) -> Rendered:
    return Rendered(markdown.markdown(text, extensions=["tables"]))


def assert_inert(text: str, *, shown: list[str]) -> Rendered:
    """The Markdown renders no markup from a lead, and each of `shown` is visible as text."""
    page = rendered(text)
    assert not {"img", "a", "script"} & set(page.tags), sorted(set(page.tags))
    assert "<img" not in page.text or "&lt;" not in page.text  # text, never a parsed tag
    assert not [h for h in page.headings if "heading" in h], page.headings
    assert "bold" not in page.strong, page.strong
    for widths in page.table_widths:
        assert len(set(widths)) == 1, widths  # no row has extra (or fewer) cells
    for value in shown:
        assert value in page.text, value
    return page


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example leads with hostile ids, sources, campaigns, some stages and dispositions."""
    records = []
    for i, line in enumerate(LEADS.read_text().splitlines()):
        record = json.loads(line)
        value = HOSTILE[i % len(HOSTILE)]
        record.update(id=f"{value} {i}", source=value, campaign=value)
        if i % 50 == 0:
            record["stage"] = value
        if record.get("disposition") and i % 3 == 0:
            record["disposition"] = value
        records.append(json.dumps(record))
    path = tmp_path_factory.mktemp("hostile") / "leads.jsonl"
    path.write_text("\n".join(records) + "\n")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# ---------------------------------------------------------------- the escaper


@given(st.text(max_size=60))
@example("<img src=x onerror=alert(1)>")
@example("[click](https://evil.example)")
@example("![x](https://evil.example/p.png)")
@example("| broken | table")
@example("# heading")
@example("**bold**")
@example("line\nbreak")
@example("- item")
@example("1. item")
@example("`code` ~~gone~~ \\| _x_")
@example("\x03")
def test_lead_text_in_a_table_cell_renders_as_exactly_that_text(value: str) -> None:
    page = rendered(f"| a | b | c |\n|---|---|---|\n| {lead_text(value)} | z | "
                    f"{lead_code(value)} |\n")
    assert set(page.tags) <= {"table", "thead", "tbody", "tr", "th", "td", "code"}
    assert page.tags.count("code") == 1
    assert page.table_widths == [[3, 3]]
    cells = page.text.split("z") if "z" not in value else [page.text, page.text]
    assert shown_as(value) in cells[0] and shown_as(value) in cells[1]


@given(st.text(max_size=60))
@example("[click](https://evil.example)")
@example("- item")
def test_lead_text_after_a_list_marker_stays_one_plain_item(value: str) -> None:
    page = rendered(f"- {lead_code(value)} from {lead_text(value)}\n")
    assert set(page.tags) <= {"ul", "li", "code"}
    assert page.tags.count("li") == 1 and page.tags.count("ul") == 1
    assert page.text.count(shown_as(value)) >= 2


@given(st.text(max_size=30), st.text(max_size=30))
@example("<img src=x onerror=alert(1)>", "[click](https://evil.example)")
@example("a`b", "| c")
def test_a_message_quoting_lead_values_renders_only_code(value: str, other: str) -> None:
    message = f"recorded stage `{value}` is not {other} (`{other}`)"
    page = rendered(f"| a | b |\n|---|---|\n| {lead_message(message)} | z |\n")
    assert set(page.tags) <= {"table", "thead", "tbody", "tr", "th", "td", "code"}
    assert page.table_widths == [[2, 2]]
    assert "recorded stage" in page.text


def test_markdown_written_by_slaengine_passes_as_it_is() -> None:
    assert lead_text(Md("`code`")) == "`code`"
    assert lead_text("a-b.c") == "a-b.c"  # only markup is escaped: ids stay readable
    assert lead_text("-1") == "\\-1" and lead_text("12. x") == "12\\. x"
    assert lead_text("paid_social") == "paid_social" and lead_text("_x_") == "\\_x\\_"
    # GitHub would link a bare URL: its `:` (or the `.` after `www`) becomes an entity
    assert lead_text("see https://evil.example") == "see https&#58;//evil.example"
    assert lead_text("WWW.evil.example") == "WWW&#46;evil.example"
    assert rendered(lead_text("see https://evil.example")).text.strip() == \
        "see https://evil.example"
    assert lead_code("Software") == "`Software`"  # as before: a code span when it is safe
    assert lead_code("a`b") == "<code>a\\`b</code>"


# ---------------------------------------------------------------- every Markdown output


def test_check_markdown_shows_hostile_lead_data_as_text(hostile: Path) -> None:
    result = run("check", "--agreement", str(AGREEMENT), "--leads", str(hostile), "--now", NOW,
                 "--format", "markdown")
    assert result.exit_code == 1, result.output  # findings: breaches and stage violations
    page = assert_inert(result.stdout, shown=[f"{v} " for v in VISIBLE[:4]])
    # a message quoting a lead value keeps the value as code, and as text
    assert "recorded stage <img src=x onerror=alert(1)> is not a stage" in page.text
    assert "recorded stage `<img src=x onerror=alert(1)>` is not a stage" in result.stdout


def test_kpis_markdown_shows_hostile_group_names_as_text(hostile: Path) -> None:
    result = run("kpis", "--agreement", str(AGREEMENT), "--leads", str(hostile), "--now", NOW,
                 "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert_inert(result.stdout, shown=["![x](https://evil.example/p.png)"])


def test_monthly_report_shows_hostile_lead_data_as_text(hostile: Path, tmp_path: Path) -> None:
    result = run("report", "--agreement", str(AGREEMENT), "--leads", str(hostile),
                 "--month", "2026-10", "--now", NOW, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "report-2026-10.md").read_text()
    own_charts = re.sub(r"^!\[.*\]\(report-[\w-]+\.svg\)$", "", text, flags=re.M)
    page = assert_inert(own_charts,
                        shown=["![x](https://evil.example/p.png)", "<img src=x onerror=alert(1)>",
                               "[click](https://evil.example)"])
    assert "reached" in page.text
    # the charts are the report's own images: exactly five, none from a lead
    assert re.findall(r"^!\[.*\]\((.*)\)$", text, flags=re.M) == [
        f"report-2026-10-{n}.svg" for n in ("sla-trend", "funnel", "conversion-by-source",
                                            "rejections-by-source", "calibration")]
    html = (tmp_path / "report-2026-10.html").read_text()
    assert not set("\ue000\ue001\ue002\ue003") & set(text + html)  # marks never shown
    assert "<img" not in html and "<script>alert" not in html and 'href="https://evil' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt; " in html  # a lead id, as code


def test_diff_comment_shows_hostile_example_ids_as_text(
        hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = threshold_change_repo(tmp_path)
    code, result = run_in(["diff", "HEAD~1", "--format", "markdown", "--leads", str(hostile),
                           "--now", NOW], root, monkeypatch)
    assert code == 0, result.output
    assert "loses it:" in result.stdout
    page = assert_inert(result.stdout, shown=[" loses it: "])
    assert any(f"{v} " in page.text for v in VISIBLE), "no hostile example id is shown"
