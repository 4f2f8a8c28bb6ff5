"""Verifying signed approvals against the keys of the last approved content found in git.

Reviews are read in date order, as a chain of trust. The first review whose approvals are
signed trusts the keys registered in the content it approves ("keys trusted on first use");
every later review is verified with the keys of the content the last fully verified review
approved, looked up in git by its digest. So a change cannot register the key that approves
it: that key counts from the next review on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..agreement.digest import digest
from ..agreement.models import AgreementSpec, Approval, Review
from ..agreement.models.keys import PublicKey, parse_public_key
from .revisions import SEARCHED_COMMITS, commits_of
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


@dataclass
class ReviewCheck:
    """Every approval of one review, checked."""

    review: Review
    trust: Trust | None
    approvals: list[ApprovalCheck] = field(default_factory=list)
    note: str | None = None  # why the keys are unknown

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


def verify_reviews(spec: AgreementSpec, reviews: list[Review], root: Path, current_digest: str,
                   today: date | None) -> list[ReviewCheck]:
    """Every review's approvals checked, in the order of `reviews`."""
    index = ContentIndex(root, spec, current_digest)
    order = sorted(range(len(reviews)), key=lambda i: (reviews[i].date, i))
    trust: Trust | None = None
    unverified: str | None = None  # why trust on first use is over, when it is
    checks: dict[int, ReviewCheck] = {}
    for i in order:
        review = reviews[i]
        signed = any(a.signature for a in review.approvals)
        # An unsigned review's content matters only for the latest (the keys to sign it with):
        # looking up the others would walk the git history for nothing.
        content = index.get(review.digest) if signed or i == order[-1] else None
        own = registered_keys(content[1]) if content else {}
        used = trust or (Trust(own, f"the content it approves ({content[0]}): keys trusted on "
                                    "first use", first_use=True)
                         if content and unverified is None else None)
        if not signed:
            checks[i] = _unsigned(review, content[1] if content else spec, used)
            if used is None:
                checks[i].note = unverified or (
                    f"the content it approves ({review.digest or 'no digest'}) is not in the "
                    f"last {SEARCHED_COMMITS} commits, so its keys cannot be known")
            continue
        if content is None or used is None:
            if trust is None and unverified is None:
                unverified = (f"the content the signed review of {review.date} approves is not "
                              f"in the last {SEARCHED_COMMITS} commits (a shallow clone? fetch "
                              "the whole history), so no keys are trusted after it")
            checks[i] = ReviewCheck(review, trust, [], note=unverified or (
                f"the content it approves ({review.digest or 'no digest'}) is not in the last "
                f"{SEARCHED_COMMITS} commits, so the keys it was signed with cannot be known"))
            continue
        source, approved = content
        others = [r for r in reviews if r is not review]
        found = ReviewCheck(review, used, [
            check_approval(review, j, a, approved, used, today, others, own)
            for j, a in enumerate(review.approvals)])
        checks[i] = found
        if set(approved.parties) <= found.verified():
            trust = Trust(own, f"the content approved by the review of {review.date} "
                               f"({source})")
            unverified = None
        elif trust is None:
            # Never trust on first use again once a signed review did not verify: that would
            # let a later review bring its own keys.
            unverified = (f"the review of {review.date} is signed but does not verify, so no "
                          "keys are trusted after it")
    return [checks[i] for i in range(len(reviews))]


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


def check_json(check: ReviewCheck) -> dict[str, Any]:
    """The latest review's signatures for `review status --format json`."""
    return {"keys_from": check.trust.source if check.trust else None,
            "trusted_on_first_use": bool(check.trust and check.trust.first_use),
            "note": check.note,
            "approvals": [{"party": a.party, "name": a.name, "date": a.day.isoformat(),
                           "signed": a.signed, "key": a.fingerprint, "verified": a.ok,
                           "code": a.code, "problem": a.problem} for a in check.approvals]}


def latest_check(spec: AgreementSpec, reviews: list[Review], root: Path, current_digest: str,
                 today: date | None) -> ReviewCheck | None:
    """The latest review's approvals, checked (None when there is no review)."""
    if not reviews:
        return None
    latest = max(range(len(reviews)), key=lambda i: (reviews[i].date, i))
    return verify_reviews(spec, reviews, root, current_digest, today)[latest]


__all__ = [
    "SIGNATURE_CODES",
    "ApprovalCheck",
    "ContentIndex",
    "ReviewCheck",
    "Trust",
    "check_approval",
    "check_json",
    "latest_check",
    "problems_of",
    "registered_keys",
    "verify_reviews",
]
