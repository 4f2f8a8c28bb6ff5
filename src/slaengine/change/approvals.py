"""Verifying signed approvals against the keys of the last approved content found in git.

Reviews are read in date order, as a chain of trust. The first review whose approvals are
signed trusts the keys registered in the content it approves ("keys trusted on first use");
every later review is verified with the keys of the content the last fully verified review
approved, looked up in git by its digest. So a change cannot register the key that approves
it: that key counts from the next review on.

Date order is the order the reviews were committed in: a review added to the history after a
signed review but dated before it (back-dated, so that it would come first and bring its own
keys) is an error, and is left out of the chain. A signed review before the latest that does
not verify is an error too (never passed over), and no later review is trusted after it. The
signatures do not cover `next_review`, so a signed review's `next_review` must be the date
the review cadence of the content it approves gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..agreement.checks.reviews import add_months
from ..agreement.diagnostics import Diagnostic, UsageError, error, warning
from ..agreement.digest import digest
from ..agreement.loader import read_yaml_file
from ..agreement.models import AgreementSpec, Approval, Review
from ..agreement.models.keys import PublicKey, parse_public_key
from ..agreement.validator import ValidationResult
from .revisions import SEARCHED_COMMITS, Added, commits_of, files_added, is_ancestor
from .signing import NAMESPACE, approval_message, signature_key, verify

# What only this module can tell (the rest, `validate` learns from the pure checks).
SIGNATURE_CODES = frozenset({
    "approval-bad-signature", "approval-other-party-key", "approval-unregistered-key",
    "approval-other-content", "approval-keys-unknown",
})


def registered_keys(spec: AgreementSpec) -> dict[str, list[PublicKey]]:
    """Each party's signing keys (a key that does not parse is left out: validate names it)."""
    found: dict[str, list[PublicKey]] = {}
    for name, party in spec.parties.items():
        keys = found.setdefault(name, [])
        for text in party.lead.keys:
            try:
                keys.append(parse_public_key(text))
            except ValueError:
                continue
    return found


class ContentIndex:
    """The agreement content with a given digest: the current one, or one found in git."""

    def __init__(self, root: Path, spec: AgreementSpec, current_digest: str):
        self.root, self.spec, self.current = root, spec, current_digest
        self._found: dict[str, tuple[str, AgreementSpec]] | None = None

    def get(self, wanted: str | None) -> tuple[str, AgreementSpec] | None:
        """(`the current content` or `commit 1a2b3c4d5e6f`, its models), or None."""
        if wanted is None:
            return None
        if wanted == self.current:
            return "the current content", self.spec
        if self._found is None:
            self._found = {}
            for commit, spec in commits_of(self.root):
                self._found.setdefault(digest(spec), (f"commit {commit[:12]}", spec))
        return self._found.get(wanted)


@dataclass(frozen=True)
class Trust:
    """The keys a review's approvals are checked against, and where they come from."""

    keys: dict[str, list[PublicKey]]
    source: str
    first_use: bool = False


@dataclass(frozen=True)
class ApprovalCheck:
    """One approval: who, with which key, and the reason it does not count (None when it does)."""

    index: int  # in the review's `approvals`
    party: str
    name: str
    day: date
    signed: bool
    fingerprint: str | None = None
    code: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.code is None


@dataclass(frozen=True)
class ReviewError:
    """Why a review makes the history of approvals fail, whatever its approvals say."""

    code: str     # `review-back-dated`, `review-not-verified`, `review-next-review-moved`
    message: str  # starts with the review's file, e.g. `reviews/2026-11-19.yaml is ...`
    hint: str
    key: str      # the key of the review file the message points at

    def text(self) -> str:
        return f"{self.message}: {self.hint} [{self.code}]"


@dataclass
class ReviewCheck:
    """Every approval of one review, checked."""

    review: Review
    trust: Trust | None
    approvals: list[ApprovalCheck] = field(default_factory=list)
    note: str | None = None  # why the keys are unknown
    errors: list[ReviewError] = field(default_factory=list)
    file: str | None = None  # `reviews/2026-11-21.yaml`, when known

    def verified(self) -> set[str]:
        return {a.party for a in self.approvals if a.ok}


def _candidates(reviews: list[Review], party: str, name: str) -> list[tuple[Review, bytes]]:
    """The messages other reviews' approvals would have signed: to name a replayed signature."""
    found = []
    for review in reviews:
        for approval in review.approvals:
            if approval.party == party and review.digest:
                found.append((review, approval_message(name, review.version, review.digest,
                                                       party, approval.day)))
    return found


def check_approval(review: Review, j: int, approval: Approval, spec: AgreementSpec,
                   trust: Trust, today: date | None, others: list[Review],
                   own_keys: dict[str, list[PublicKey]]) -> ApprovalCheck:
    """One approval of `review` (which approves `spec`), checked against `trust`."""
    party, day = approval.party, approval.day
    base = ApprovalCheck(j, party, approval.name, day, approval.signature is not None)

    def fail(code: str, problem: str, fingerprint: str | None = None) -> ApprovalCheck:
        return ApprovalCheck(j, party, approval.name, day, base.signed, fingerprint, code,
                             problem)

    lead = spec.parties[party].lead.name if party in spec.parties else None
    if lead is None:
        return fail("approval-unknown-party", f"`{party}` is not a party of the agreement")
    if approval.signature is None or approval.date is None:
        return fail("approval-unsigned", "unsigned (typed, not signed with "
                    "`slaengine review approve`)")
    if approval.name != lead:
        return fail("approval-wrong-name", f"signed as {approval.name}, but {party}'s lead is "
                    f"{lead}")
    dated = _date_problem(review, day, today)
    try:
        key, namespace = signature_key(approval.signature)
    except ValueError as unreadable:
        return fail("approval-bad-signature", f"bad signature: {unreadable}")
    fingerprint = key.fingerprint
    if namespace != NAMESPACE:
        return fail("approval-bad-signature", f"bad signature: made for `{namespace}`, not "
                    f"for `{NAMESPACE}`", fingerprint)
    if key not in trust.keys.get(party, []):
        owner = next((p for p, keys in trust.keys.items() if key in keys), None)
        if owner is not None:
            return fail("approval-other-party-key", f"signed with key {fingerprint}, which is "
                        f"registered for {owner}, not for {party}", fingerprint)
        added = key in own_keys.get(party, [])
        return fail("approval-unregistered-key", f"signed with key {fingerprint}, which is not "
                    f"registered for {party} in {trust.source}"
                    + ("; this change registers it, so it counts from the next review"
                       if added else ""), fingerprint)
    if review.digest is None:
        return fail("approval-bad-signature", "the review records no digest to verify against",
                    fingerprint)
    message = approval_message(spec.agreement, review.version, review.digest, party, day)
    if verify(message, approval.signature, key):
        if dated is not None:
            return fail(*dated, fingerprint)
        return ApprovalCheck(j, party, approval.name, day, True, fingerprint)
    for other, candidate in _candidates(others, party, spec.agreement):
        if verify(candidate, approval.signature, key):
            return fail("approval-other-content", "the signature is over another digest or "
                        f"version: the review of {other.date} (version {other.version}), "
                        "not this one", fingerprint)
    if dated is not None:
        return fail(dated[0], f"{dated[1]} (and the signature does not match it)",
                    fingerprint)
    return fail("approval-bad-signature", "bad signature: it does not verify over this "
                f"review's version {review.version}, digest and date {day} (the review or the "
                "approval was edited after signing)", fingerprint)


def _date_problem(review: Review, day: date, today: date | None) -> tuple[str, str] | None:
    if today is not None and day > today:
        return "approval-date-in-future", f"dated {day}, after today ({today})"
    if day < review.date:
        return ("approval-date-before-review",
                f"dated {day}, before the review of {review.date} it approves")
    return None


def review_files(root: Path, reviews: list[Review]) -> list[Path | None]:
    """The file of `reviews/` each review was read from (None when none reads as it)."""
    read: list[tuple[Path, Review]] = []
    folder = root / "reviews"
    for path in sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []:
        try:
            read.append((path, Review.model_validate(read_yaml_file(path).data, strict=True)))
        except ValidationError:
            continue
    found: list[Path | None] = []
    taken: set[Path] = set()
    for review in reviews:
        match = next((p for p, r in read if p not in taken and r == review), None)
        if match is not None:
            taken.add(match)
        found.append(match)
    return found


def _signed(review: Review) -> bool:
    return any(a.signature for a in review.approvals)


class _History:
    """When each review's file was committed, from git (None outside a repository)."""

    def __init__(self, root: Path, files: list[Path | None]):
        self.root, self.files = root, files
        self.added = files_added(root / "reviews")

    def _of(self, i: int) -> Added | None:
        path = self.files[i]
        if self.added is None or path is None:
            return None
        return self.added.get(path.resolve())  # None: not committed yet

    def before(self, x: int, y: int) -> str | None:
        """The commit that added review `x`'s file, when it came before the one that added
        `y`'s (an ancestor of it; a file not committed yet comes after every commit)."""
        at_x, at_y = self._of(x), self._of(y)
        if self.added is None or at_x is None:
            return None
        if at_y is None:
            return at_x.commit
        if at_x.commit == at_y.commit or at_x.position < at_y.position:
            return None  # the same commit, or `x`'s was listed first: never an ancestor
        return at_x.commit if is_ancestor(at_x.commit, at_y.commit, self.root) else None


def _back_dated(reviews: list[Review], order: list[int], history: _History,
                names: list[str]) -> dict[int, ReviewError]:
    """Each review read before a signed review that was committed before it (its date puts it
    first, though it came later): the one it should follow, named in an error."""
    place = {i: n for n, i in enumerate(order)}
    signed = [i for i in order if _signed(reviews[i])]
    found: dict[int, ReviewError] = {}
    for y in order:
        for x in reversed(signed):  # the latest such review is the one to date it after
            if place[x] <= place[y]:
                break
            commit = history.before(x, y)
            if commit is None:
                continue
            other = reviews[x]
            where = (f"the review of {other.date} ({names[x]}), which was committed earlier "
                     f"(commit {commit[:12]})")
            found[y] = ReviewError(
                "review-back-dated",
                f"{names[y]} is dated before {where}; a review cannot be back-dated"
                if reviews[y].date < other.date else
                f"{names[y]} has the date of {where}, but is read before it (reviews of one "
                "date are read in the order of their file names); a review cannot be put "
                "before one committed earlier",
                "date it today (`slaengine review new`)", "date")
            break
    return found


def _cadence_error(review: Review, approved: AgreementSpec, name: str) -> ReviewError | None:
    """A signed review's `next_review` (which the signatures do not cover) moved off the date
    the review cadence of the content it approves gives (`review new` writes that date)."""
    months = approved.review.every_months
    due = add_months(review.date, months)
    if review.next_review is None or review.next_review == due:
        return None
    return ReviewError(
        "review-next-review-moved",
        f"{name} says `next_review: {review.next_review}`, but the review cadence of the "
        f"content it approves (every {months} month{'s' if months != 1 else ''}) makes the "
        f"next review due on {due}; the signatures do not cover `next_review`, so it cannot "
        "be moved after signing", f"write `next_review: {due}`", "next_review")


def verify_reviews(spec: AgreementSpec, reviews: list[Review], root: Path, current_digest: str,
                   today: date | None) -> list[ReviewCheck]:
    """Every review's approvals checked, in the order of `reviews`."""
    index = ContentIndex(root, spec, current_digest)
    order = sorted(range(len(reviews)), key=lambda i: (reviews[i].date, i))
    files = review_files(root, reviews)
    names = [f"reviews/{path.name}" if path is not None else f"the review of {review.date}"
             for path, review in zip(files, reviews, strict=True)]
    labels = [f"reviews/{path.name}" if path is not None else None for path in files]
    back_dated = _back_dated(reviews, order, _History(root, files), names)
    trust: Trust | None = None
    unverified: str | None = None  # why no review is trusted any more, when none is
    checks: dict[int, ReviewCheck] = {}
    for i in order:
        review, latest = reviews[i], i == order[-1]
        if i in back_dated:  # left out of the chain: it cannot bring keys, nor be judged by them
            checks[i] = _left_out(review, back_dated[i], names[i])
            continue
        signed = _signed(review)
        # An unsigned review's content matters only for the latest (the keys to sign it with):
        # looking up the others would walk the git history for nothing.
        content = index.get(review.digest) if signed or latest else None
        own = registered_keys(content[1]) if content else {}
        used = trust or (Trust(own, f"the content it approves ({content[0]}): keys trusted on "
                                    "first use", first_use=True)
                         if content and unverified is None else None)
        if not signed:
            checks[i] = _unsigned(review, content[1] if content else spec, used)
            checks[i].file = labels[i]
            if used is None:
                checks[i].note = unverified or (
                    f"the content it approves ({review.digest or 'no digest'}) is not in the "
                    f"last {SEARCHED_COMMITS} commits, so its keys cannot be known")
            continue
        if content is None or used is None:
            if unverified is None and (trust is None or not latest):
                unverified = (f"the content the signed review of {review.date} approves is not "
                              f"in the last {SEARCHED_COMMITS} commits (a shallow clone? fetch "
                              "the whole history), so no keys are trusted after it")
                trust = None
            checks[i] = ReviewCheck(review, trust, [], note=unverified if used is None else (
                f"the content it approves ({review.digest or 'no digest'}) is not in the last "
                f"{SEARCHED_COMMITS} commits, so the keys it was signed with cannot be known"),
                file=labels[i])
            continue
        source, approved = content
        others = [r for r in reviews if r is not review]
        found = ReviewCheck(review, used, [
            check_approval(review, j, a, approved, used, today, others, own)
            for j, a in enumerate(review.approvals)], file=labels[i])
        checks[i] = found
        moved = _cadence_error(review, approved, names[i])
        if moved is not None:
            found.errors.append(moved)
        failed = [a for a in found.approvals if a.signed and a.code is not None
                  and a.code != "approval-date-in-future"]
        if set(approved.parties) <= found.verified():
            trust = Trust(own, f"the content approved by the review of {review.date} "
                               f"({source})")
            unverified = None
        elif failed and not latest:
            # A signed review the next one builds on: it must verify, never be passed over
            # (a back-dated review of other keys would make the real one fail unnoticed).
            found.errors.append(ReviewError(
                "review-not-verified",
                f"{names[i]} is signed but does not verify against the keys of {used.source}: "
                + "; ".join(f"the approval of {a.party} ({a.name}, {a.day}) does not count: "
                            f"{a.problem} [{a.code}]" for a in failed),
                "restore it as it was signed, or remove it if it was never signed with keys "
                "both leads registered; no later review is trusted until then", "approvals"))
            trust = None
            unverified = (f"the review of {review.date} is signed but does not verify, so no "
                          "keys are trusted after it")
        elif trust is None:
            # Never trust on first use again once a signed review did not verify: that would
            # let a later review bring its own keys.
            unverified = (f"the review of {review.date} is signed but does not verify, so no "
                          "keys are trusted after it")
    return [checks[i] for i in range(len(reviews))]


def _left_out(review: Review, problem: ReviewError, name: str) -> ReviewCheck:
    found = ReviewCheck(review, None, errors=[problem], file=name)
    found.approvals = [ApprovalCheck(j, a.party, a.name, a.day, a.signature is not None,
                                     code=problem.code, problem=problem.message)
                       for j, a in enumerate(review.approvals)]
    return found


def _unsigned(review: Review, approved: AgreementSpec, trust: Trust | None) -> ReviewCheck:
    found = ReviewCheck(review, trust)
    for j, approval in enumerate(review.approvals):
        lead = approved.parties.get(approval.party)
        found.approvals.append(ApprovalCheck(
            j, approval.party, approval.name, approval.day, False,
            code="approval-unsigned" if lead else "approval-unknown-party",
            problem=("unsigned (typed, not signed with `slaengine review approve`)" if lead
                     else f"`{approval.party}` is not a party of the agreement")))
    return found


def problems_of(check: ReviewCheck) -> list[str]:
    """Each approval that does not count, in words, for `review status --require-approval`."""
    found = [f"the review of {check.review.date} cannot be verified: {check.note}"
             ] if check.note else []
    found += [f"the approval of {a.party} ({a.name}, {a.day}) does not count: {a.problem} "
              f"[{a.code}]" for a in check.approvals if not a.ok]
    return found


def history_errors(checks: list[ReviewCheck]) -> list[ReviewError]:
    """What makes the history of approvals fail, review by review in date order (a back-dated
    review, a signed review that does not verify, a `next_review` moved after signing)."""
    dated = sorted(checks, key=lambda c: c.review.date)
    return [e for check in dated for e in check.errors]


def check_json(check: ReviewCheck) -> dict[str, Any]:
    """The latest review's signatures for `review status --format json`."""
    return {"file": check.file,
            "keys_from": check.trust.source if check.trust else None,
            "trusted_on_first_use": bool(check.trust and check.trust.first_use),
            "note": check.note,
            "approvals": [{"party": a.party, "name": a.name, "date": a.day.isoformat(),
                           "signed": a.signed, "key": a.fingerprint, "verified": a.ok,
                           "code": a.code, "problem": a.problem} for a in check.approvals]}


def errors_json(errors: list[ReviewError]) -> list[dict[str, str]]:
    return [{"code": e.code, "message": e.message, "hint": e.hint} for e in errors]


def latest_index(reviews: list[Review]) -> int:
    return max(range(len(reviews)), key=lambda i: (reviews[i].date, i))


def latest_check(spec: AgreementSpec, reviews: list[Review], root: Path, current_digest: str,
                 today: date | None) -> ReviewCheck | None:
    """The latest review's approvals, checked (None when there is no review)."""
    if not reviews:
        return None
    return verify_reviews(spec, reviews, root, current_digest, today)[latest_index(reviews)]


def signature_diagnostics(result: ValidationResult, today: date) -> list[Diagnostic]:
    """What only ssh-keygen and git can tell, for `validate`: each approval of the latest review
    that does not count, and the keys it cannot be checked against (warnings: the review may
    still await signatures), and what makes the history fail (errors: a back-dated review, an
    earlier signed review that does not verify, a `next_review` moved after signing)."""
    if result.structured is None or result.digest is None or not any(
            a.signature for r in result.structured.reviews for a in r.approvals):
        return []  # nothing signed: nothing only ssh-keygen could find
    reviews = result.structured.reviews
    latest = latest_index(reviews)
    locate = result.loaded.locate
    try:
        checks = verify_reviews(result.structured.spec, reviews, result.loaded.root,
                                result.digest, today)
    except UsageError as problem:
        return [warning("signatures-not-verified", f"signatures not verified: {problem}",
                        locate(("reviews", latest)))]
    check = checks[latest]
    found = [warning(a.code, f"the approval of `{a.party}` does not count: {a.problem}",
                     locate(("reviews", latest, "approvals", a.index)))
             for a in check.approvals if a.code in SIGNATURE_CODES]
    if check.note and reviews[latest].digest == result.digest:  # else: digest-mismatch
        found.append(warning("approval-keys-unknown", "the review's signatures cannot be "
                             f"verified: {check.note}", locate(("reviews", latest, "digest"))))
    for i, each in enumerate(checks):
        found += [error(e.code, e.message, locate(("reviews", i, e.key))
                        or locate(("reviews", i)), e.hint) for e in each.errors]
    return found


__all__ = [
    "SIGNATURE_CODES",
    "ApprovalCheck",
    "ContentIndex",
    "ReviewCheck",
    "ReviewError",
    "Trust",
    "check_approval",
    "check_json",
    "errors_json",
    "history_errors",
    "latest_check",
    "latest_index",
    "problems_of",
    "registered_keys",
    "review_files",
    "signature_diagnostics",
    "verify_reviews",
]
