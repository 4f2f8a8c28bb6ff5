"""`slaengine review new|status`, in a git repository like the one a team keeps its agreement in;
and the README's copy of the pull-request workflow's steps, run on a clone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from slaengine import validate_folder
from support import drop_signed_reviews, git, make_key, register_keys, run_in

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "agreement"
HEADER = "# yaml-language-server: $schema=../../schema/review.schema.json\n"




def later_than_every_review(days: int) -> date:
    dates = [date.fromisoformat(p.stem) for p in (EXAMPLE / "reviews").glob("*.yaml")]
    return max(dates) + timedelta(days=days)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    return {"marketing": make_key(folder, "dana"), "sales": make_key(folder, "raj")}


def with_keys(agreement: Path, keys: dict[str, Path]) -> None:
    drop_signed_reviews(agreement)
    register_keys(agreement, {"Dana Whitfield": keys["marketing"], "Raj Patel": keys["sales"]})


def approve(root: Path, keys: dict[str, Path], on: date,
            monkeypatch: pytest.MonkeyPatch) -> None:
    """What both leads do: sign the latest review with their keys."""
    for party, key in keys.items():
        code, result = run_in(["review", "approve", "--party", party, "--key", str(key),
                               "--today", on.isoformat()], root, monkeypatch)
        assert code == 0, result.output


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Path]) -> Path:
    """The example agreement in a git repository, its current content approved by both leads
    in a review of its own (so the test does not depend on the example's review history)."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root / "agreement")
    shutil.copytree(ROOT / "schema", root / "schema")
    with_keys(root / "agreement", keys)
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "The example agreement")
    day = later_than_every_review(1)
    code, result = run_in(["review", "new", "--today", day.isoformat(), "--kind", "scheduled"],
                       root, monkeypatch)
    assert code == 0, result.output
    approve(root, keys, day, monkeypatch)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Review approved by both leads")
    return root


def test_review_new_scaffolds_a_review_that_loads(repo: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    definitions = repo / "agreement" / "definitions.yaml"
    edit(definitions, "{score: engagement, gte: 40}", "{score: engagement, gte: 50}")
    git(repo, "commit", "-qam", "Raise the MQL threshold")
    day = later_than_every_review(10)
    code, result = run_in(["review", "new", "--today", day.isoformat()], repo, monkeypatch)
    assert code == 0, result.output
    path = repo / "agreement" / "reviews" / f"{day}.yaml"
    assert result.stdout.strip() == str(path.relative_to(repo))
    text = path.read_text()
    assert text.startswith(HEADER)
    validated = validate_folder(repo / "agreement")
    assert validated.errors == [], [d.format() for d in validated.errors]
    assert validated.structured is not None
    [review] = [r for r in validated.structured.reviews if r.date == day]
    previous = yaml.safe_load((repo / "agreement" / "reviews" /
                               f"{later_than_every_review(1)}.yaml").read_text())["version"]
    major = int(previous.split(".")[0])
    assert review.version == f"{major + 1}.0.0"  # a definition narrowed
    assert review.kind == "amendment"
    assert review.digest == validated.digest
    assert review.changes == ["MQL: engagement score at least 40 → at least 50"]
    assert review.approvals == [] and review.summary
    due = day.replace(year=day.year + 1, month=day.month - 6) if day.month > 6 else \
        day.replace(month=day.month + 6)
    assert review.next_review == due
    assert ("# Each lead approves by signing: slaengine review approve --party PARTY --key KEY\n"
            "approvals: []\n") in text
    # The version is set in the agreement before the digest is taken: ready to sign.
    assert f"set version {review.version} in " in result.stderr
    assert validated.structured.spec.version == review.version
    # Never over an existing file.
    code, _ = run_in(["review", "new", "--today", day.isoformat()], repo, monkeypatch)
    assert code == 2 and path.read_text() == text


def test_nothing_changed_suggests_the_same_version(repo: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    day = later_than_every_review(200)
    code, result = run_in(["review", "new", "--today", day.isoformat()], repo, monkeypatch)
    assert code == 0, result.output
    data = yaml.safe_load((repo / "agreement" / "reviews" / f"{day}.yaml").read_text())
    approved = yaml.safe_load((repo / "agreement" / "reviews" /
                               f"{later_than_every_review(1)}.yaml").read_text())
    assert data["version"] == approved["version"] and data["kind"] == "scheduled"
    assert data["changes"] == []


def test_review_new_against_a_ref(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit(repo / "agreement" / "dispositions.yaml",
         "{title: Duplicate of an existing lead, returns_to: disqualified}",
         "{title: Duplicate of an existing lead, returns_to: nurture}")
    day = later_than_every_review(10)
    code, result = run_in(["review", "new", "--today", day.isoformat(), "--base", "HEAD"], repo,
                       monkeypatch)
    assert code == 0, result.output
    data = yaml.safe_load((repo / "agreement" / "reviews" / f"{day}.yaml").read_text())
    assert data["changes"] == ["Duplicate of an existing lead: returns to Disqualified → Nurture"]
    assert "compared with --base HEAD: 1 change" in result.stderr


def test_approved_content_not_in_git_suggests_minor(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "agreement"  # not in a git repository
    shutil.copytree(EXAMPLE, folder)
    edit(folder / "definitions.yaml", "{score: engagement, gte: 40}",
         "{score: engagement, gte: 45}")
    day = later_than_every_review(3)
    code, result = run_in(["review", "new", "--agreement", str(folder), "--today", day.isoformat()],
                       tmp_path, monkeypatch)
    assert code == 0, result.output
    text = (folder / "reviews" / f"{day}.yaml").read_text()
    data = yaml.safe_load(text)
    assert data["changes"] == [] and "list the changes by hand" in text
    assert "suggested: minor change" in text
    assert "the changes are not known, so a minor change is suggested" in result.stderr


def test_both_approvals_pass_and_a_later_edit_fails(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                    keys: dict[str, Path]) -> None:
    agreement = repo / "agreement"
    edit(agreement / "service-levels.yaml", "within: 24h", "within: 8h")
    git(repo, "commit", "-qam", "Faster first touch")
    day = later_than_every_review(10)
    code, _ = run_in(["review", "new", "--today", day.isoformat()], repo, monkeypatch)
    assert code == 0
    assert (agreement / "reviews" / f"{day}.yaml").is_file()
    # Before both leads sign, the check names who is missing.
    code, result = run_in(["review", "status", "--require-approval", "--today", day.isoformat()],
                       repo, monkeypatch)
    assert code == 1
    assert (f"the review of {day} (version " in result.stdout
            and "still needs approval from marketing (Dana Whitfield) and sales (Raj Patel)"
            in result.stdout)
    approve(repo, keys, day, monkeypatch)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Both leads approve")
    code, result = run_in(["review", "status", "--require-approval", "--today", day.isoformat()],
                       repo, monkeypatch)
    assert code == 0, result.output
    assert "Content: matches the approved digest" in result.stdout
    assert f"Approval: ok, the review of {day} is signed by every party" in result.stdout
    # One more edit, after the approval: named, in words.
    edit(agreement / "definitions.yaml", "{field: employee_count, gte: 20}",
         "{field: employee_count, gte: 25}")
    code, result = run_in(["review", "status", "--require-approval", "--today", day.isoformat()],
                       repo, monkeypatch)
    assert code == 1
    assert "  - MQL: employee count at least 20 → at least 25" in result.stdout
    assert (f"the agreement changed after the review of {day} recorded its digest (now sha256:"
            in result.stdout)
    assert result.stdout.rstrip().endswith("MQL: employee count at least 20 → at least 25")
    # Without --require-approval it only reports.
    code, _ = run_in(["review", "status", "--today", day.isoformat()], repo, monkeypatch)
    assert code == 0


def test_status_reports_an_overdue_review(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    approved = later_than_every_review(1)
    due = yaml.safe_load((repo / "agreement" / "reviews" / f"{approved}.yaml").read_text())[
        "next_review"]  # PyYAML reads it as a date
    assert isinstance(due, date)
    today = due + timedelta(days=12)
    code, result = run_in(["review", "status", "--today", today.isoformat()], repo, monkeypatch)
    assert code == 0
    assert f"Next review: due {due}, overdue by 12 days" in result.stdout
    code, result = run_in(["review", "status", "--today", approved.isoformat()], repo, monkeypatch)
    assert "Next review: due " in result.stdout and " days" in result.stdout
    assert "overdue" not in result.stdout
    code, result = run_in(["review", "status", "--today", today.isoformat(), "--format", "json",
                        "--require-approval"], repo, monkeypatch)
    assert code == 0
    doc = json.loads(result.stdout)
    assert doc["next_review"] == {"due": due.isoformat(), "days_left": -12, "overdue_days": 12}
    assert doc["matches_approved"] is True and doc["approval"] == {"ok": True, "problems": []}
    assert doc["in_force"]["date"] == approved.isoformat()
    assert [a["party"] for a in doc["in_force"]["approvals"]] == ["marketing", "sales"]
    assert doc["changes_since_approved"] == []


# ---------------------------------------------------------------- the workflow, locally


def readme_local_steps() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Running the workflow's steps locally", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_the_readme_runs_the_workflows_steps(tmp_path: Path, keys: dict[str, Path]) -> None:
    """The README block, on a clone of a repository whose main branch holds the agreement, on
    a branch that changes it with a review both leads approved (installing is left out: this
    slaengine is already installed)."""
    steps = readme_local_steps()
    assert steps[0].startswith("python3 -m venv .venv") and "pip install" in steps[0]
    workflow = (ROOT / ".github" / "workflows" / "agreement.yml").read_text()
    for step in steps[1:]:
        command = step.replace("origin/main", "origin/${{ github.base_ref }}")
        assert command in workflow, f"the README step `{step}` is not the workflow's"
    origin = tmp_path / "origin"
    for part in ("agreement", "schema", "examples"):
        shutil.copytree(ROOT / part, origin / part)
    with_keys(origin / "agreement", keys)
    git(tmp_path, "init", "-q", "-b", "main", str(origin))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    day = later_than_every_review(1)

    def sh(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                              text=True, check=False)

    assert sh(f"slaengine review new --today {day}", origin).returncode == 0
    for party, key in keys.items():
        assert sh(f"slaengine review approve --party {party} --key {key} --today {day}",
                  origin).returncode == 0
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "The agreement, approved")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "switch", "-qc", "higher-conversion-target")
    edit(clone / "agreement" / "kpis.yaml", "    maturity: 90d\n    target: {gte: 0.25}",
         "    maturity: 90d\n    target: {gte: 0.3}")
    later = day + timedelta(days=1)
    assert sh(f"slaengine review new --today {later}", clone).returncode == 0
    for party, key in keys.items():
        assert sh(f"slaengine review approve --party {party} --key {key} --today {later}",
                  clone).returncode == 0
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "A higher conversion target, approved")
    for step in steps[1:]:
        done = sh(step, clone)
        assert done.returncode == 0, f"{step}\n{done.stdout}\n{done.stderr}"
    comment = (clone / "diff.md").read_text()
    assert comment.startswith("<!-- slaengine-diff -->")
    assert ("| changed | MQL to SQL conversion: target at least 25% → at least 30% | tightens |"
            in comment)
    assert "### Impact on 2,000 leads from examples/leads.jsonl" in comment
