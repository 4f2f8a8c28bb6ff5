"""Phrases around conditions and structured values: grammatical, and never JSON.

The grammar checks run over every page the site renders for the example agreement, so a
template that glues a phrase into a sentence badly (`leads where is a …`) fails here.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter

import slaengine
from slaengine.agreement.models.conditions import Condition
from slaengine.agreement.phrases import leads_where, structured_text
from slaengine.cli import cli
from slaengine.site.renderer import render_site

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "agreement"
CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)

# Constructions a careful writer never leaves on a page.
BAD_GRAMMAR = {
    "subject missing after where": re.compile(r"\bwhere (?:is|are|not|Is)\b"),
    "doubled article": re.compile(r"\b(?:a|an|the) (?:a|an|the)\b", re.IGNORECASE),
    "doubled word": re.compile(r"\b(is|of|to|the|and|or|by|in|on)\s+\1\b"),
    "capitalised verb mid-sentence": re.compile(r"\b(?:and|or|where|when|that) Is\b"),
    "space before punctuation": re.compile(r"\w \.(?!\.)|\w ,"),
    "raw JSON": re.compile(r"\{\"|\[\{|\"\s*:\s*[\[{\"0-9]"),
    "Python literal": re.compile(r"\b(?:True|False|None)\b(?! of)|\{'|\['"),
    "raw inline flag": re.compile(r"\(\?i\)"),
}


@pytest.fixture(scope="module")
def example() -> slaengine.Agreement:
    return slaengine.load_agreement(EXAMPLE)


def test_leads_where_reads_as_a_phrase(example: slaengine.Agreement) -> None:
    spec = example.spec
    mql = CONDITION.validate_python({"definition": "mql"}, strict=True)
    icp = CONDITION.validate_python({"not": {"definition": "icp_fit"}}, strict=True)
    event = CONDITION.validate_python(
        {"all": [{"field": "source", "eq": "event"}, {"definition": "icp_fit"}]}, strict=True)
    assert leads_where(mql, spec) == "every Marketing-qualified lead"
    assert leads_where(icp, spec) == "every lead that is not an Ideal customer profile fit"
    assert leads_where(event, spec) == (
        "leads where lead source is event and the lead is an Ideal customer profile fit")


def test_structured_values_are_worded(example: slaengine.Agreement) -> None:
    spec = example.spec
    calibration = {"converted": {"field": "sql_at", "exists": True}, "cohort": "created_at",
                   "maturity": "90d"}
    text = structured_text(calibration, spec)
    assert text == ("converted when Became an SQL is recorded; counted from “Created”; "
                    "mature after 90 days")
    assert structured_text({"escalate_to": "VP Sales", "notify": ["@a", "@b"]}, spec) == (
        "escalate to VP Sales; notify @a and @b")


def test_every_site_page_reads_grammatically(example: slaengine.Agreement) -> None:
    pages = render_site(example, date(2026, 11, 22))
    assert len(pages) >= 10
    found = []
    for name, text in pages.items():
        body = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # diagrams are not prose
        body = re.sub(r"^---\n.*?\n---\n", "", body, flags=re.DOTALL)
        for problem, pattern in BAD_GRAMMAR.items():
            found += [f"{name}: {problem}: …{m.string[max(0, m.start() - 40):m.end() + 40]}…"
                      for m in pattern.finditer(body)]
    assert found == []


@pytest.mark.parametrize("problem", sorted(BAD_GRAMMAR))
def test_the_grammar_checks_catch_their_mistake(problem: str) -> None:
    samples = {
        "subject missing after where": "Applies to: leads where is a Marketing-qualified lead",
        "doubled article": "is a an MQL", "doubled word": "counted by by month",
        "capitalised verb mid-sentence": "(source is event and Is an ICP fit)",
        "space before punctuation": "the lead , then", "raw JSON": 'added: {"cohort": "x"}',
        "Python literal": "exists: True", "raw inline flag": r"matches (?i)\bintern\b",
    }
    assert BAD_GRAMMAR[problem].search(samples[problem])


def test_a_diff_of_structured_settings_shows_no_json(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(EXAMPLE, old)
    shutil.copytree(EXAMPLE, new)
    scoring = (new / "scoring.yaml").read_text(encoding="utf-8")
    scoring = re.sub(r"    calibration:\n(?:      .*\n)+", "", scoring)
    (new / "scoring.yaml").write_text(scoring, encoding="utf-8")
    levels = (new / "service-levels.yaml").read_text(encoding="utf-8")
    levels = levels.replace("on_breach: {escalate_to: VP Sales}\n  event",
                            "on_breach: {escalate_to: VP Sales, notify: ['@rpatel']}\n  event", 1)
    (new / "service-levels.yaml").write_text(levels, encoding="utf-8")
    for fmt in ("text", "markdown"):
        result = CliRunner().invoke(cli, ["diff", str(old), str(new), "--format", fmt])
        assert result.exit_code == 0, result.output
        assert "removed calibration: converted when Became an SQL is recorded" in result.output
        assert "@rpatel" in result.output
        assert not BAD_GRAMMAR["raw JSON"].search(result.output), result.output
