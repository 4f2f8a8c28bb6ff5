"""`slaengine diff`: changes of meaning in words, never formatting; git refs; impact on leads.

The example agreement is edited in a temporary copy: `fixtures/diff/changes.yaml` holds edits
that change its meaning with the exact changes each must give, `fixtures/diff/reformat.yaml`
edits that only change how it is written. Property tests draw whole agreements.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from slaengine import ValidationResult, load_agreement, validate_folder
from slaengine.agreement.describe import allowance_text, short_label
from slaengine.agreement.digest import digest, dump_agreement
from slaengine.agreement.loader import parse_yaml
from slaengine.agreement.models import AgreementSpec, Definition, Duration, FieldCondition
from slaengine.change.diff import Change, diff_agreements, leaf_effect
from slaengine.change.impact import kpis_available, measure_impact
from slaengine.evaluate.leads import read_leads
from strategies import (
    Data,
    Env,
    agreement_files,
    agreements,
    conditions,
    get_path,
    leaves,
    mutate_meaning,
    plain_yaml,
    set_path,
    write_files,
)
from support import git, run_in, threshold_change_repo

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "agreement"
VERSION = yaml.safe_load((EXAMPLE / "agreement.yaml").read_text())["version"]
LEADS = ROOT / "examples" / "leads.jsonl"
FIXTURES = ROOT / "tests" / "fixtures" / "diff"
CHANGES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "changes.yaml").read_text())
REFORMATS: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "reformat.yaml").read_text())
NOW = "2026-11-20T10:00:00+01:00"
MIRROR = {"added": "removed", "removed": "added", "changed": "changed"}


def apply(folder: Path, edits: list[dict[str, Any]]) -> None:
    for edit in edits:
        if "move" in edit:
            source, target = folder / edit["move"], folder / edit["into"]
            target.write_text(target.read_text() + "\n" + source.read_text())
            source.unlink()
            continue
        path = folder / edit["file"]
        text = path.read_text()
        assert text.count(edit["replace"]) == 1, f"{edit['file']}: {edit['replace']!r}"
        path.write_text(text.replace(edit["replace"], edit["with"]))


def valid(folder: Path) -> tuple[AgreementSpec, str]:
    result = validate_folder(folder)
    assert result.errors == [], "\n".join(d.format() for d in result.errors)
    assert result.structured is not None and result.digest is not None
    return result.structured.spec, result.digest


@pytest.fixture(scope="module")
def example() -> tuple[AgreementSpec, str]:
    return valid(EXAMPLE)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "agreement"
    shutil.copytree(EXAMPLE, target)
    return target


def edited(copy: Path, *edits: tuple[str, str, str]) -> AgreementSpec:
    apply(copy, [{"file": f, "replace": a, "with": b} for f, a, b in edits])
    return valid(copy)[0]


def rows(changes: list[Change]) -> list[tuple[str, str, str, str]]:
    return [(c.section, c.kind, c.severity, c.text) for c in changes]


# ---------------------------------------------------------------- changes of meaning, in words


def test_a_raised_mql_threshold_reads_as_the_one_test_that_changed(
        copy: Path, example: tuple[AgreementSpec, str]) -> None:
    after = edited(copy, ("definitions.yaml", "{score: engagement, gte: 40}",
                          "{score: engagement, gte: 50}"))
    [change] = diff_agreements(example[0], after).changes
    assert change.text == "MQL: engagement score at least 40 → at least 50"
    assert change.to_json() == {
        "section": "definitions", "key": "mql", "path": "definitions.mql.when.any.0.all.1",
        "kind": "changed", "subject": "MQL", "aspect": "engagement score",
        "before": "at least 40", "after": "at least 50", "severity": "narrows",
        "editorial": False, "text": "MQL: engagement score at least 40 → at least 50"}


def test_a_shorter_allowance_reads_in_business_hours(
        copy: Path, example: tuple[AgreementSpec, str]) -> None:
    after = edited(copy, ("service-levels.yaml", "within: 24h", "within: 8h"))
    diff = diff_agreements(example[0], after)
    assert rows(diff.changes) == [(
        "service_levels", "changed", "tightens",
        "Sales contacts every MQL: within 24 business hours → within 8 business hours")]
    assert diff.bump == "major"


@pytest.mark.parametrize("case", CHANGES, ids=[c["name"] for c in CHANGES])
def test_each_change_is_reported_exactly_once(case: dict[str, Any], copy: Path,
                                              example: tuple[AgreementSpec, str]) -> None:
    apply(copy, case["edits"])
    after, after_digest = valid(copy)
    assert after_digest != example[1]
    diff = diff_agreements(example[0], after)
    assert rows(diff.changes) == [(c["section"], c["kind"], c["severity"], c["text"])
                                  for c in case["changes"]]
    assert diff.bump == case["bump"]
    assert [c.text for c in diff.consequences] == case.get("following", [])
    # Backwards, every change is there once more, mirrored.
    back = diff_agreements(after, example[0]).changes
    assert sorted(MIRROR[c.kind] for c in back) == sorted(c.kind for c in diff.changes)
    for forward in diff.changes:
        if forward.kind == "changed":
            assert any(b.before == forward.after and b.after == forward.before
                       and b.path == forward.path for b in back), forward.text


def test_many_changes_at_once_are_each_reported_once(
        copy: Path, example: tuple[AgreementSpec, str]) -> None:
    expected: Counter[str] = Counter()
    taken: set[str] = set()
    for case in CHANGES:  # every case whose edits still apply after the earlier ones
        texts = {f.name: f.read_text() for f in copy.glob("*.yaml")}
        if any(texts.get(e["file"], "").count(e["replace"]) != 1 for e in case["edits"]) or (
                case["name"] in ("band-conversion", "definition-title")):
            continue
        apply(copy, case["edits"])
        expected.update(c["text"] for c in case["changes"])
        taken.add(case["name"])
    assert len(taken) >= 25
    after, _ = valid(copy)
    found = Counter(c.text for c in diff_agreements(example[0], after).changes)
    assert found == expected


@pytest.mark.parametrize("case", REFORMATS, ids=[c["name"] for c in REFORMATS])
def test_formatting_gives_an_empty_diff(case: dict[str, Any], copy: Path,
                                       example: tuple[AgreementSpec, str]) -> None:
    before = {f.name: f.read_text() for f in copy.glob("*.yaml")}
    apply(copy, case["edits"])
    assert {f.name: f.read_text() for f in copy.glob("*.yaml")} != before
    after, after_digest = valid(copy)
    assert after_digest == example[1]
    assert diff_agreements(example[0], after).changes == []


@pytest.mark.parametrize(("old", "new", "effect"), [
    ({"gte": 40}, {"gte": 50}, "narrows"), ({"gte": 40}, {"gt": 40}, "narrows"),
    ({"lte": 5}, {"lte": 9}, "widens"), ({"between": [50, 5000]}, {"between": [20, 5000]}, "widens"),
    ({"between": [50, 5000]}, {"between": [60, 6000]}, "mixed"),
    ({"in": ["a"]}, {"in": ["a", "b"]}, "widens"), ({"not_in": ["a"]}, {"not_in": ["a", "b"]}, "narrows"),
    ({"eq": "a"}, {"in": ["a", "b"]}, "widens"), ({"ne": "a"}, {"not_in": ["a", "b"]}, "narrows"),
    ({"within": "30d"}, {"within": "2w"}, "narrows"), ({"older_than": "30d"}, {"older_than": "45d"}, "narrows"),
    ({"matches": "^a"}, {"matches": "^b"}, "mixed"), ({"within": "2bd"}, {"within": "16h"}, "mixed"),
])
def test_how_a_changed_test_moves_its_definition(old: dict[str, Any], new: dict[str, Any],
                                                  effect: str) -> None:
    def test(ops: dict[str, Any]) -> FieldCondition:
        return FieldCondition.model_validate({"field": "x", **ops}, strict=True)

    assert leaf_effect(test(old), test(new)) == effect


ICP = {"all": [{"field": "employee_count", "between": [50, 5000]},
               {"not": {"field": "industry", "eq": "retail"}}, {"field": "country", "eq": "NL"}]}


@pytest.mark.parametrize(("when", "expected"), [
    ({"all": [ICP["all"][1], ICP["all"][0], ICP["all"][2]]},
     [("neutral", "ICP fit: condition 2 moved to 1")]),
    ({"all": [ICP["all"][1], {"field": "employee_count", "between": [50, 4000]}, ICP["all"][2]]},
     [("narrows", "ICP fit: employee count between 50 and 5,000 → between 50 and 4,000")]),
    ({"all": [ICP["all"][0], {"not": {"field": "industry", "in": ["retail", "government"]}},
              ICP["all"][2]]},
     [("narrows", "ICP fit: not industry is retail → one of retail or government")]),
    ({"all": [ICP["all"][0], {"field": "seniority", "eq": "vp"}, ICP["all"][2]]},
     [("narrows", "ICP fit: condition 2: not industry is retail → Seniority is vp")]),
    ({"all": [ICP["all"][0], ICP["all"][2]]},
     [("widens", "ICP fit: removed condition 2: not industry is retail")]),
    ({"any": ICP["all"]},
     [("narrows", "ICP fit: (Employee count is between 50 and 5,000 and not industry is retail "
                  "and country is NL) → (Employee count is between 50 and 5,000 or not industry "
                  "is retail or country is NL)")]),
    ({"all": [ICP["all"][0], {"any": [ICP["all"][1], {"field": "country", "eq": "BE"}]},
              ICP["all"][2]]},
     [("narrows", "ICP fit: condition 2: not industry is retail → (not industry is retail or "
                  "country is BE)")]),
])
def test_a_condition_tree_is_compared_part_by_part(
        when: dict[str, Any], expected: list[tuple[str, str]],
        example: tuple[AgreementSpec, str]) -> None:
    def variant(condition: dict[str, Any]) -> AgreementSpec:
        definitions = dict(example[0].definitions)
        definitions["icp_fit"] = Definition.model_validate(
            {"title": "Ideal customer profile fit", "when": condition}, strict=True)
        return example[0].model_copy(update={"definitions": definitions})

    changes = diff_agreements(variant(ICP), variant(when)).changes
    assert [(c.severity, c.text) for c in changes] == expected


@pytest.mark.parametrize(("identifier", "title", "label"), [
    ("mql", "Marketing-qualified lead", "MQL"), ("icp_fit", "Ideal customer profile fit", "ICP fit"),
    ("sal", "Sales-accepted lead", "SAL"), ("sales_ready", "Sales-ready lead", "Sales-ready lead"),
    ("excluded", "Excluded contact", "Excluded contact"), ("demo", None, "Demo"),
])
def test_definitions_are_named_by_their_acronym_when_their_id_is_one(
        identifier: str, title: str | None, label: str) -> None:
    assert short_label(identifier, title) == label


def test_allowances_say_business_time() -> None:
    assert allowance_text(Duration(24, "h"), True) == "within 24 business hours"
    assert allowance_text(Duration(24, "h"), False) == "within 24 hours"
    assert allowance_text(Duration(2, "bd"), True) == "within 2 business days"
    assert allowance_text(Duration(1, "h"), True) == "within 1 business hour"


# ---------------------------------------------------------------- properties on drawn agreements


def _valid_files(files: dict[str, str]) -> ValidationResult:
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp), files)
        return validate_folder(tmp)


def _spec(files: dict[str, str]) -> tuple[AgreementSpec, str]:
    result = _valid_files(files)
    assert result.errors == [], "\n".join(d.format() for d in result.errors)
    assert result.structured is not None and result.digest is not None
    return result.structured.spec, result.digest


@settings(max_examples=40, deadline=None)
@given(agreements(), st.data())
def test_dumped_shuffled_and_split_the_digest_and_diff_stay(data: Data,
                                                            draw: st.DataObject) -> None:
    spec, expected = _spec({"agreement.yaml": plain_yaml(data)})
    canonical = parse_yaml(dump_agreement(spec), "agreement.yaml").data
    files = agreement_files(canonical, draw.draw)  # keys shuffled, sections over files, styles
    for name, text in files.items():
        note(f"--- {name}\n{text}")
    again, actual = _spec(files)
    assert actual == expected == digest(again)
    assert diff_agreements(spec, again).changes == []


def _thresholds(data: Data) -> list[tuple[tuple[str | int, ...], Any]]:
    """Numbers a definition compares with, and service levels' allowances."""
    found = []
    for path, value in leaves(data):
        if (path[:1] == ("definitions",) and path[-1] in ("gt", "gte", "lt", "lte")
                and isinstance(value, int | float) and not isinstance(value, bool)) or (
                path[:1] == ("service_levels",) and path[-1] == "within"):
            found.append((path, value))
    return found


@settings(max_examples=60, deadline=None)
@given(agreements(), st.data())
def test_a_moved_threshold_or_allowance_shows(data: Data, draw: st.DataObject) -> None:
    choices = _thresholds(data)
    assume(choices)
    path, value = draw.draw(st.sampled_from(choices))
    if isinstance(value, str):
        amount = int(value.rstrip("smhdwb"))
        new: Any = f"{amount + draw.draw(st.sampled_from((1, 5)))}{value.lstrip('0123456789')}"
    else:
        new = value + draw.draw(st.sampled_from((1, -1, 10)))
        assume(new != value)
    note(f"{'.'.join(map(str, path))}: {value!r} -> {new!r}")
    before, before_digest = _spec({"agreement.yaml": plain_yaml(data)})
    result = _valid_files({"agreement.yaml": plain_yaml(set_path(data, path, new))})
    assume(result.ok)  # e.g. a number outside its field's enum
    assert result.structured is not None
    assert result.digest != before_digest
    changes = diff_agreements(before, result.structured.spec).changes
    assert [(c.section, c.key) for c in changes] == [(str(path[0]), str(path[1]))]
    assert changes[0].kind == "changed" and changes[0].before != changes[0].after
    assert get_path(data, path) == value


@settings(max_examples=60, deadline=None)
@given(agreements(), st.data())
def test_the_diff_is_empty_exactly_when_the_digest_is_equal(data: Data,
                                                             draw: st.DataObject) -> None:
    mutation = mutate_meaning(data, draw.draw)
    assume(mutation is not None)
    assert mutation is not None
    changed, what = mutation
    note(what)
    before, before_digest = _spec({"agreement.yaml": plain_yaml(data)})
    result = _valid_files({"agreement.yaml": plain_yaml(changed)})
    assume(result.ok)
    assert result.structured is not None
    changes = diff_agreements(before, result.structured.spec).changes
    assert bool(changes) == (result.digest != before_digest)
    assert all(c.text and c.section for c in changes)


@settings(max_examples=60, deadline=None)
@given(agreements(), st.data())
def test_any_rewritten_condition_tree_is_reported_in_place(data: Data,
                                                           draw: st.DataObject) -> None:
    assume(data.get("definitions"))
    name = draw.draw(st.sampled_from(sorted(data["definitions"])))
    env = Env({field: (spec["type"], spec.get("enum")) for field, spec in data["fields"].items()})
    changed = set_path(data, ("definitions", name, "when"), draw.draw(conditions(env)))
    before, before_digest = _spec({"agreement.yaml": plain_yaml(data)})
    result = _valid_files({"agreement.yaml": plain_yaml(changed)})
    assume(result.ok)
    assert result.structured is not None
    diff = diff_agreements(before, result.structured.spec)
    assert bool(diff.changes) == (result.digest != before_digest)
    assert {(c.section, c.key) for c in diff.changes} <= {("definitions", name)}
    assert all(c.text.startswith(c.subject) for c in diff.changes)


# ---------------------------------------------------------------- the command, on git refs




@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A git repository with the example agreement committed, then the MQL threshold raised
    and committed."""
    yield threshold_change_repo(tmp_path)


def test_diff_between_two_commits(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, result = run_in(["diff", "HEAD~1", "HEAD"], repo, monkeypatch)
    assert code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"HEAD~1 ({VERSION}, ") and f" → HEAD ({VERSION}, " in lines[0]
    assert "  ~ MQL: engagement score at least 40 → at least 50  [narrows]" in lines
    major = int(VERSION.split(".")[0]) + 1
    assert lines[1].startswith(f"1 change; suggested version {major}.0.0 (major change from "
                               f"{VERSION}: MQL")
    # HEAD defaults to the working folder, which is HEAD here: no change.
    code, result = run_in(["diff", "HEAD"], repo, monkeypatch)
    assert code == 0 and "No change of meaning" in result.stdout


def test_diff_of_a_ref_against_a_folder(repo: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    code, result = run_in(["diff", "HEAD~1", str(EXAMPLE), "--format", "json"], repo, monkeypatch)
    assert code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["base"]["source"] == "HEAD~1" and len(doc["base"]["commit"]) == 40
    assert doc["head"]["commit"] is None and doc["identical"] is True
    assert doc["changes"] == [] and doc["suggested_bump"] == "none"


def test_an_unknown_ref_exits_2(repo: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "slaengine", "diff", "no-such-branch"],
                          cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "unknown git ref `no-such-branch`" in done.stderr


def test_an_invalid_side_prints_its_errors_and_exits_1(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo / "agreement" / "definitions.yaml"
    path.write_text(path.read_text().replace("{definition: icp_fit}", "{definition: icp_fitt}"))
    git(repo, "commit", "-qam", "A typo")
    code, result = run_in(["diff", "HEAD~1", "HEAD"], repo, monkeypatch)
    assert code == 1
    assert "HEAD:agreement/definitions.yaml:" in result.stderr
    assert "[unknown-definition]" in result.stderr


def test_json_shape(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, result = run_in(["diff", "HEAD~1", "--format", "json"], repo, monkeypatch)
    assert code == 0
    doc = json.loads(result.stdout)
    assert set(doc) == {"base", "head", "identical", "suggested_bump", "suggested_version",
                        "changes", "consequences", "impact"}
    assert set(doc["base"]) == {"source", "commit", "agreement", "version", "digest"}
    assert doc["head"]["source"] == "working folder"
    assert doc["base"]["digest"] != doc["head"]["digest"]
    assert doc["suggested_bump"] == "major" and doc["suggested_version"] == "3.0.0"
    assert [c["text"] for c in doc["changes"]] == [
        "MQL: engagement score at least 40 → at least 50"]
    assert doc["consequences"] == [{
        "section": "definitions", "key": "sales_ready", "subject": "Sales-ready lead",
        "severity": "narrows", "through": "MQL", "text": "Sales-ready lead narrows, through MQL"}]
    assert doc["impact"] is None


def test_markdown_is_one_comment_with_a_marker(repo: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    code, result = run_in(["diff", "HEAD~1", "--format", "markdown", "--leads", str(LEADS),
                        "--now", NOW], repo, monkeypatch)
    assert code == 0, result.output
    text = result.stdout
    assert text.startswith(f"<!-- slaengine-diff -->\n## Agreement changes: {VERSION} → {VERSION}\n")
    assert "| changed | MQL: engagement score at least 40 → at least 50 | narrows |" in text
    assert "### Definitions" in text and "### Impact on 2,000 leads" in text
    assert "| MQL | " in text and "loses it: ✓ Engagement score is at least 40" in text


# ---------------------------------------------------------------- impact on real leads


def test_impact_counts_equal_evaluating_both_versions(
        copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edited(copy, ("definitions.yaml", "{score: engagement, gte: 40}",
                  "{score: engagement, gte: 50}"))
    code, result = run_in(["diff", str(EXAMPLE), str(copy), "--leads", str(LEADS), "--now", NOW,
                        "--format", "json"], ROOT, monkeypatch)
    assert code == 0, result.output
    impact = json.loads(result.stdout)["impact"]
    now = datetime.fromisoformat(NOW)
    before, after = load_agreement(EXAMPLE), load_agreement(copy)
    old = {d.id: d for d in before.evaluate_many(read_leads(LEADS), now)}
    new = {d.id: d for d in after.evaluate_many(read_leads(LEADS), now)}
    assert impact["leads"] == len(old) == 2000
    for name in before.spec.definitions:
        gained = [i for i in old if not old[i].verdicts[name] and new[i].verdicts[name]]
        lost = [i for i in old if old[i].verdicts[name] and not new[i].verdicts[name]]
        found = impact["definitions"][name]
        assert (found["gained"], found["lost"]) == (len(gained), len(lost)), name
        assert found["before"] == sum(d.verdicts[name] for d in old.values())
        for ex in found["examples"]:
            assert ex["id"] in (gained if ex["change"] == "gained" else lost)
    mql = impact["definitions"]["mql"]
    assert mql["lost"] > 0 and mql["gained"] == 0 and len(mql["examples"]) == 3
    assert all(ex["condition"].startswith("✓ Engagement score is at least 40 → ✗ Engagement "
                                          "score is at least 50 (was ") for ex in mql["examples"])
    for name, level in impact["service_levels"].items():
        moved = Counter((old[i].service_levels[name].status, new[i].service_levels[name].status)
                        for i in old)
        expected = {(a, b): n for (a, b), n in moved.items() if a != b}
        assert {(t["from"], t["to"]): t["count"] for t in level["transitions"]} == expected
        assert level["changed"] == sum(expected.values())
    assert impact["stages"]["changed"] == sum(old[i].stage != new[i].stage for i in old)
    if kpis_available():
        report = after.kpis(read_leads(LEADS), now)  # type: ignore[attr-defined,unused-ignore]
        assert impact["kpis"]["available"] is True
        assert {k: v["after"] for k, v in impact["kpis"]["values"].items()} == {
            k: r.value for k, r in report.kpis.items()}


def test_impact_without_kpis_says_so(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("slaengine.change.impact.kpis_available", lambda: False)
    after = edited(copy, ("service-levels.yaml", "within: 24h", "within: 8h"))
    assert after is not None
    impact = measure_impact(load_agreement(EXAMPLE), load_agreement(copy),
                            lambda: read_leads(LEADS), datetime(2026, 11, 20, 9, tzinfo=UTC))
    assert impact.kpis == [] and impact.kpi_note is not None and "skipped" in impact.kpi_note
    assert impact.to_json()["kpis"]["available"] is False
    assert all(d.gained == d.lost == 0 for d in impact.definitions.values())
    moved = impact.service_levels["mql_first_touch"]
    assert moved.changed > 0 and all(b in ("breached", "at_risk") for _, b, _ in
                                      moved.most_common())


def test_text_output_with_impact(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edited(copy, ("definitions.yaml", "{score: engagement, gte: 40}",
                  "{score: engagement, gte: 50}"))
    code, result = run_in(["diff", str(EXAMPLE), str(copy), "--leads", str(LEADS), "--now", NOW],
                       ROOT, monkeypatch)
    assert code == 0
    lines = result.stdout.splitlines()
    assert any(line.startswith("Impact on 2,000 leads from ") for line in lines)
    assert any(line.startswith("  MQL: ") and " lose it)" in line for line in lines)
    assert sum(" loses it: ✓ Engagement score is at least 40" in line for line in lines) == 3
    code, result = run_in(["diff", str(EXAMPLE), str(copy), "--leads", "missing.jsonl"], ROOT,
                       monkeypatch)
    assert code == 2
