"""Versions of the agreement folder: from git refs or folders, and the reviews that approve them.

A side of a diff is a folder, or a git ref whose copy of the agreement folder is exported into
a temporary folder (`git archive`). The content a review approved is found by its digest:
the newest commit of the agreement folder whose content has that digest. `draft_review` and
`review_status` hold the logic of `review new` and `review status`; the CLI only prints them.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..agreement.checks.reviews import add_months, latest_approved, next_review_due
from ..agreement.diagnostics import UsageError
from ..agreement.digest import digest, short_digest, to_yaml
from ..agreement.loader import load_folder
from ..agreement.models import AgreementSpec, Review
from ..agreement.structure import check_structure
from ..api import Agreement
from .diff import AgreementDiff, Bump, Change, bump_version, diff_agreements, suggested_bump

SEARCHED_COMMITS = 200  # how far back `git log` is searched for approved content


# ---------------------------------------------------------------- git


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed; give both sides as folders") from None


def repo_root(path: Path) -> Path | None:
    """The work tree holding `path` (or its nearest existing parent), if any."""
    probe = path.resolve()
    while not probe.exists():
        probe = probe.parent
    if probe.is_file():
        probe = probe.parent
    done = _git(["rev-parse", "--show-toplevel"], probe)
    return Path(done.stdout.decode().strip()) if done.returncode == 0 else None


def resolve_commit(ref: str, root: Path) -> str | None:
    if ref.startswith("-"):
        return None
    done = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
                root)
    return done.stdout.decode().strip() if done.returncode == 0 else None


def _in_repo(folder: Path, root: Path) -> str:
    return folder.resolve().relative_to(root.resolve()).as_posix()


def export_folder(commit: str, root: Path, relative: str, dest: Path) -> Path | None:
    """The agreement folder as it was at `commit`, written under `dest`; None if absent."""
    spec = [] if relative in ("", ".") else ["--", relative]
    done = _git(["archive", "--format=tar", commit, *spec], root)
    if done.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(dest, filter="data")
    folder = dest / relative if relative not in ("", ".") else dest
    return folder if folder.is_dir() else None


@dataclass(frozen=True)
class Side:
    """One version of the agreement: where its files are, and what the user called it."""

    label: str
    folder: Path
    commit: str | None = None  # when it came from git
    root: Path | None = None   # the temporary checkout the folder's paths are shown from


@contextmanager
def open_side(name: str | None, agreement_dir: Path) -> Iterator[Side]:
    """A folder as it is, a git ref exported to a temporary folder, or (None) the working
    agreement folder. An existing folder wins over a ref of the same name."""
    if name is None:
        yield Side("working folder", agreement_dir)
        return
    if Path(name).is_dir():
        yield Side(name, Path(name))
        return
    root = repo_root(agreement_dir)
    if root is None:
        raise UsageError(f"`{name}` is not a folder, and {agreement_dir} is not in a git "
                         "repository where it could be a ref")
    commit = resolve_commit(name, root)
    if commit is None:
        raise UsageError(f"unknown git ref `{name}` (and no folder of that name); try "
                         "`git fetch` for a remote branch, or give a commit, tag or folder")
    relative = _in_repo(agreement_dir, root)
    with tempfile.TemporaryDirectory(prefix="slaengine-") as tmp:
        folder = export_folder(commit, root, relative, Path(tmp))
        if folder is None:
            raise UsageError(f"`{name}` ({commit[:12]}) has no `{relative}/` folder")
        yield Side(name, folder, commit, Path(tmp))


def spec_of(folder: Path) -> AgreementSpec | None:
    """The agreement's models when its structure is valid (its meaning is not checked)."""
    structured, _ = check_structure(load_folder(folder))
    return structured.spec if structured is not None else None


def commits_of(agreement_dir: Path, limit: int = SEARCHED_COMMITS
               ) -> Iterator[tuple[str, AgreementSpec]]:
    """The agreement folder's content at each of its last `limit` commits, newest first
    (commits where its structure is invalid are passed over)."""
    root = repo_root(agreement_dir)
    if root is None:
        return
    relative = _in_repo(agreement_dir, root)
    log = _git(["log", "--format=%H", f"-n{limit}", "--", relative or "."], root)
    for commit in log.stdout.decode().split() if log.returncode == 0 else []:
        with tempfile.TemporaryDirectory(prefix="slaengine-") as tmp:
            folder = export_folder(commit, root, relative, Path(tmp))
            spec = spec_of(folder) if folder is not None else None
        if spec is not None:
            yield commit, spec


@dataclass(frozen=True)
class Added:
    """The commit that added a file, and its place in `git log --topo-order` (0: newest)."""

    commit: str
    position: int


def files_added(folder: Path) -> dict[Path, Added] | None:
    """The commit that added each file now under `folder` (the add of its current copy: a
    file deleted and added again counts from the second add; a rename is a delete and an add),
    by resolved path. A file no commit added (not committed yet) is not in it. None when
    `folder` is not in a git repository or its history cannot be read."""
    root = repo_root(folder)
    if root is None:
        return None
    relative = _in_repo(folder, root)
    log = _git(["-c", "core.quotePath=false", "log", "--topo-order", "--no-renames",
                "--diff-filter=A", "--name-only", "--format=%x00%H", "--", relative or "."],
               root)
    if log.returncode != 0:
        return None
    found: dict[Path, Added] = {}
    for position, entry in enumerate(log.stdout.decode("utf-8", "replace").split("\0")[1:]):
        commit, _, names = entry.partition("\n")
        for name in names.splitlines():
            if name:
                found.setdefault((root / name).resolve(), Added(commit.strip(), position))
    return found


def is_ancestor(older: str, newer: str, folder: Path) -> bool:
    """Whether commit `older` is `newer` or one of its ancestors, in the repository of
    `folder`."""
    root = repo_root(folder)
    return root is not None and _git(["merge-base", "--is-ancestor", older, newer],
                                     root).returncode == 0


def find_content(wanted: str, agreement_dir: Path, limit: int = SEARCHED_COMMITS
                 ) -> tuple[str, AgreementSpec] | None:
    """The newest commit whose agreement folder has the digest `wanted`, and its content."""
    return next(((commit, spec) for commit, spec in commits_of(agreement_dir, limit)
                 if digest(spec) == wanted), None)


@dataclass
class Baseline:
    """Content to compare the current agreement with, or why there is none."""

    spec: AgreementSpec | None
    source: str | None = None  # `commit 1a2b3c4d5e6f`, `--base main`, `the current content`
    note: str | None = None    # why `spec` is missing


def content_with_digest(wanted: str | None, agreement: Agreement, what: str) -> Baseline:
    """The content `what` (e.g. `the review of 2026-11-20`) recorded by its digest."""
    if wanted is None:
        return Baseline(None, note=f"{what} records no digest")
    if wanted == agreement.digest:
        return Baseline(agreement.spec, "the current content")
    found = find_content(wanted, agreement.root)
    if found is None:
        return Baseline(None, note=f"the content {what} recorded ({short_digest(wanted)}) is "
                                   f"not in the last {SEARCHED_COMMITS} commits of "
                                   f"{agreement.root}")
    return Baseline(found[1], f"commit {found[0][:12]}")


def diff_since(base: Baseline, agreement: Agreement) -> AgreementDiff | None:
    return diff_agreements(base.spec, agreement.spec) if base.spec else None


def changes_between(base: Baseline, agreement: Agreement) -> list[Change] | None:
    found = diff_since(base, agreement)
    return found.changes if found is not None else None


# ---------------------------------------------------------------- review new

REVIEW_HEADER = "# yaml-language-server: $schema=../../schema/review.schema.json\n"


def latest_review(agreement: Agreement) -> Review | None:
    return agreement.reviews[-1] if agreement.reviews else None  # sorted by date


def in_force(agreement: Agreement) -> Review | None:
    found = latest_approved(agreement.reviews, list(agreement.spec.parties))
    return found[1] if found else None


def approved_baseline(agreement: Agreement) -> Baseline:
    review = in_force(agreement)
    if review is None:
        return Baseline(None, note="no review approved by every party is on record")
    return content_with_digest(review.digest, agreement,
                               f"the approved review of {review.date}")


@dataclass
class Draft:
    """A review record scaffolded for both leads to complete and sign."""

    path: Path
    text: str
    version: str
    bump: Bump
    changes: list[Change]
    baseline: Baseline
    previous: str | None  # the version the suggestion starts from


def draft_review(agreement: Agreement, today: date, kind: str | None,
                 baseline: Baseline, chosen: str | None = None,
                 summary: str | None = None) -> Draft:
    """`reviews/<today>.yaml`: the version (`chosen`, or the suggested one), digest, changes
    and how to approve it."""
    path = agreement.root / "reviews" / f"{today.isoformat()}.yaml"
    review = in_force(agreement)
    previous = review.version if review else (baseline.spec.version if baseline.spec else None)
    found = diff_since(baseline, agreement)
    changes = [c for c in found.changes if c.path != "version"] if found else []
    bump: Bump = (suggested_bump(changes, found.consequences) if found is not None
                  else "minor" if previous else "none")
    version = bump_version(previous, bump) if previous else agreement.spec.version
    kind = kind or ("amendment" if changes or found is None else "scheduled")
    lines = [REVIEW_HEADER,
             f"# {'Amendment' if kind == 'amendment' else 'Review'} of {agreement.name}, "
             f"scaffolded by `slaengine review new`.\n",
             f"date: {today.isoformat()}\n",
             f"version: {chosen or version}  # suggested: "
             + (f"{version}, a " if chosen and chosen != version else "") + f"{bump} change"
             + (f" from {previous}" if previous else "") + "\n",
             f"kind: {kind}\n",
             f"digest: {agreement.digest}  # the content both leads approve\n",
             to_yaml({"summary": summary}) if summary else
             "summary: >-\n  TODO: why these changes, in a few sentences both leads sign.\n"]
    if changes:
        lines.append(to_yaml({"changes": [c.text for c in changes]}))
    else:
        lines.append("changes: []  # " + ("no change of meaning since the approved content\n"
                                          if found is not None else
                                          f"{baseline.note}; list the changes by hand\n"))
    lines.append("# Each lead approves by signing: "
                 "slaengine review approve --party PARTY --key KEY\n")
    lines.append("approvals: []\n")
    lines.append("actions: []  # - {owner: PARTY, what: ..., due: YYYY-MM-DD}\n")
    due = add_months(today, agreement.spec.review.every_months)
    lines.append(f"next_review: {due.isoformat()}\n")
    return Draft(path, "".join(lines), version, bump, changes, baseline, previous)


# ---------------------------------------------------------------- review status


@dataclass
class Status:
    """Which version is in force, whether the content still matches it, and when it is due."""

    agreement: Agreement
    today: date
    in_force: Review | None
    latest: Review | None
    baseline: Baseline               # the approved content
    changes: list[Change] | None     # since the approved content, when it could be found
    latest_changes: list[Change] | None = None  # since the latest review's digest
    latest_note: str | None = None
    problems: list[str] = field(default_factory=list)  # what `--require-approval` fails on

    @property
    def matches(self) -> bool:
        return self.in_force is not None and self.in_force.digest == self.agreement.digest

    @property
    def due(self) -> date | None:
        if self.in_force is None:
            return None
        return next_review_due(self.in_force, self.agreement.spec.review.every_months)

    @property
    def overdue_days(self) -> int:
        return max((self.today - self.due).days, 0) if self.due else 0

    def missing(self, review: Review) -> list[str]:
        return [p for p in self.agreement.spec.parties if p not in review.approved_by()]

    def to_json(self) -> dict[str, Any]:
        spec = self.agreement.spec

        def review_json(review: Review | None) -> dict[str, Any] | None:
            if review is None:
                return None
            return {"date": review.date.isoformat(), "version": review.version,
                    "kind": review.kind, "digest": review.digest,
                    "approvals": [{"party": a.party, "name": a.name, "on": a.day.isoformat(),
                                   "date": a.day.isoformat(), "signed": a.signature is not None}
                                  for a in review.approvals],
                    "missing": self.missing(review)}

        return {
            "agreement": spec.agreement, "version": spec.version, "digest": self.agreement.digest,
            "in_force": review_json(self.in_force), "latest_review": review_json(self.latest),
            "matches_approved": self.matches,
            "approved_content": self.baseline.source, "note": self.baseline.note,
            "changes_since_approved": ([c.to_json() for c in self.changes]
                                       if self.changes is not None else None),
            "next_review": {"due": self.due.isoformat() if self.due else None,
                            "days_left": (self.due - self.today).days if self.due else None,
                            "overdue_days": self.overdue_days},
            "approval": {"ok": not self.problems, "problems": self.problems},
        }


def review_status(agreement: Agreement, today: date) -> Status:
    review, latest = in_force(agreement), latest_review(agreement)
    baseline = approved_baseline(agreement)
    changes = changes_between(baseline, agreement)
    status = Status(agreement, today, review, latest, baseline, changes)
    status.problems = _approval_problems(status)
    return status


def _approval_problems(status: Status) -> list[str]:
    """Why the latest review does not approve the current content (empty when it does)."""
    agreement, latest = status.agreement, status.latest
    if latest is None:
        return ["no review is on record; run `slaengine review new`, then both leads approve"]
    problems = []
    missing = status.missing(latest)
    if missing:
        who = " and ".join(f"{p} ({agreement.spec.parties[p].lead.name})" for p in missing)
        problems.append(f"the review of {latest.date} (version {latest.version}) still needs "
                        f"approval from {who}")
    if latest.digest != agreement.digest:
        base = (status.baseline if latest is status.in_force else
                content_with_digest(latest.digest, agreement, f"the review of {latest.date}"))
        status.latest_changes = changes_between(base, agreement)
        status.latest_note = base.note
        problem = (f"the agreement changed after the review of {latest.date} recorded its "
                   f"digest (now {agreement.digest})" if latest.digest else
                   f"the review of {latest.date} records no digest (the content's digest is "
                   f"{agreement.digest})")
        if status.latest_changes:
            problem += ": " + "; ".join(c.text for c in status.latest_changes)
        elif base.note:
            problem += f" ({base.note})"
        problems.append(problem)
    return problems


__all__ = [
    "Baseline",
    "Draft",
    "Side",
    "Status",
    "approved_baseline",
    "changes_between",
    "content_with_digest",
    "diff_since",
    "draft_review",
    "export_folder",
    "find_content",
    "in_force",
    "latest_review",
    "open_side",
    "repo_root",
    "resolve_commit",
    "review_status",
    "spec_of",
]
