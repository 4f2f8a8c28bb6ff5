"""Reviews: semver versions, both parties' approvals, the approved digest, the review cadence."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date

from ..diagnostics import Diagnostic, error, warning
from ..digest import short_digest
from ..models import Review
from ..models.keys import parse_public_key
from .base import CheckContext

# The grammar published at semver.org, verbatim.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")


def semver_key(version: str) -> tuple[int, int, int] | None:
    match = SEMVER.match(version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (Aug 31 + 6 months = Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_approved(review: Review, parties: list[str]) -> bool:
    return set(parties) <= review.approved_by()


def latest_approved(reviews: list[Review], parties: list[str]) -> tuple[int, Review] | None:
    approved = [(i, r) for i, r in enumerate(reviews) if is_approved(r, parties)]
    return max(approved, key=lambda pair: (pair[1].date, pair[0])) if approved else None


def next_review_due(review: Review, every_months: int) -> date:
    return review.next_review or add_months(review.date, every_months)


def check_keys(ctx: CheckContext) -> Iterator[Diagnostic]:
    """Each registered signing key parses, and belongs to one party only."""
    owners: dict[bytes, str] = {}
    for name, party in ctx.spec.parties.items():
        for i, text in enumerate(party.lead.keys):
            path = ("parties", name, "lead", "keys", i)
            try:
                key = parse_public_key(text)
            except ValueError as problem:
                yield error("invalid-key", f"the key of `{name}`'s lead is not an OpenSSH "
                            f"public key: {problem}", ctx.at(path),
                            "copy the one line of the `.pub` file (`ssh-keygen -y -f KEY` "
                            "prints it)")
                continue
            other = owners.get(key.blob)
            if other is not None:
                yield error("duplicate-key",
                            f"key {key.fingerprint} is registered for `{other}`"
                            + (" twice" if other == name else f" and for `{name}`"),
                            ctx.at(path), "each lead signs with keys of their own")
            owners.setdefault(key.blob, name)


def check_versions(ctx: CheckContext) -> Iterator[Diagnostic]:
    if semver_key(ctx.spec.version) is None:
        yield error("version-not-semver", f"version `{ctx.spec.version}` is not semantic "
                                          "versioning", ctx.at(("version",)),
                    "write MAJOR.MINOR.PATCH, e.g. `2.1.0`")
    dated = sorted(range(len(ctx.reviews)), key=lambda i: (ctx.reviews[i].date, i))
    previous: tuple[int, int, int] | None = None
    for i in dated:
        review = ctx.reviews[i]
        key = semver_key(review.version)
        if key is None:
            yield error("version-not-semver",
                        f"review version `{review.version}` is not semantic versioning",
                        ctx.at(("reviews", i, "version")),
                        "write MAJOR.MINOR.PATCH, e.g. `2.1.0`")
            continue
        if previous is not None and key < previous:
            yield warning("version-not-increasing",
                          f"review of {review.date} has version {review.version}, lower than "
                          "the review before it", ctx.at(("reviews", i, "version")))
        previous = key


def check_approvals(ctx: CheckContext) -> Iterator[Diagnostic]:
    parties = list(ctx.spec.parties)
    if not ctx.reviews:
        return
    latest = max(range(len(ctx.reviews)), key=lambda i: (ctx.reviews[i].date, i))
    for i, review in enumerate(ctx.reviews):
        base = ("reviews", i)
        seen: set[str] = set()
        for j, approval in enumerate(review.approvals):
            yield from ctx.party_ref(approval.party, (*base, "approvals", j, "party"))
            if approval.party in seen:
                yield warning("duplicate-approval", f"`{approval.party}` approves twice",
                              ctx.at((*base, "approvals", j)))
            seen.add(approval.party)
        for j, action in enumerate(review.actions):
            yield from ctx.party_ref(action.owner, (*base, "actions", j, "owner"))
        if i == latest:
            yield from _latest_approvals(ctx, i, review)
        missing = [p for p in parties if p not in review.approved_by()]
        if not missing:
            continue
        names = " and ".join(f"`{p}`" for p in missing)
        where = ctx.at((*base, "approvals"))
        if i == latest and (review.summary or "").lstrip().upper().startswith("TODO"):
            yield warning("review-summary-todo", f"the review of {review.date} awaits approval "
                          "with the summary still a placeholder", ctx.at((*base, "summary")),
                          "say in a few sentences why the content changes: it is what both "
                          "leads sign")
        if i == latest:
            yield warning("review-pending-approval",
                          f"the review of {review.date} still needs approval from {names}",
                          where, "each party's lead runs `slaengine review approve --party "
                          "PARTY --key KEY`")
        else:
            yield error("review-missing-approval",
                        f"the review of {review.date} was never approved by {names}", where,
                        "a review counts only when both leads have signed it")


def _latest_approvals(ctx: CheckContext, i: int, review: Review) -> Iterator[Diagnostic]:
    """What can be told of the latest review's approvals without ssh-keygen or git. Unsigned
    approvals and names that are not the lead's are named once the agreement registers
    signing keys (before, it has not adopted signing; `review status --require-approval`
    fails on them either way)."""
    signing = any(p.lead.keys for p in ctx.spec.parties.values())
    for j, approval in enumerate(review.approvals):
        where = ctx.at(("reviews", i, "approvals", j))
        party = ctx.spec.parties.get(approval.party)
        if party is None:
            continue
        if signing and (approval.signature is None or approval.date is None):
            yield warning("approval-unsigned", f"the approval of `{approval.party}` is not "
                          "signed, so it does not count", where,
                          f"{party.lead.name} runs `slaengine review approve --party "
                          f"{approval.party} --key KEY` in its place")
        if signing and approval.name != party.lead.name:
            yield warning("approval-wrong-name", f"`{approval.party}` is approved by "
                          f"{approval.name}, but its lead is {party.lead.name}",
                          ctx.at(("reviews", i, "approvals", j, "name")),
                          "only the party's lead approves for it")
        if ctx.today is not None and approval.day > ctx.today:
            yield warning("approval-date-in-future", f"the approval of `{approval.party}` is "
                          f"dated {approval.day}, after today ({ctx.today})", where)
        if approval.day < review.date:
            yield warning("approval-date-before-review", f"the approval of `{approval.party}` "
                          f"is dated {approval.day}, before the review of {review.date}", where)


def check_digest_and_cadence(ctx: CheckContext) -> Iterator[Diagnostic]:
    parties = list(ctx.spec.parties)
    found = latest_approved(ctx.reviews, parties)
    if found is None:
        yield warning("never-approved", "no review approved by every party is on record",
                      ctx.at(("agreement",)),
                      "run `slaengine review new`, then both leads add their approvals")
        return
    index, review = found
    base = ("reviews", index)
    if review.digest is None:
        yield warning("review-without-digest",
                      f"the approved review of {review.date} records no digest, so the approved "
                      "text cannot be verified", ctx.at(base),
                      f"add `digest: {ctx.digest}` if that is the content that was approved")
    elif review.digest != ctx.digest:
        yield warning("digest-mismatch",
                      f"the agreement has changed since version {review.version} was approved on "
                      f"{review.date} (approved {short_digest(review.digest)}, now "
                      f"{short_digest(ctx.digest)})", ctx.at((*base, "digest")),
                      "record the change with `slaengine review new` for both leads to approve")
    if ctx.today is None:
        return
    due = next_review_due(review, ctx.spec.review.every_months)
    if ctx.today > due:
        late = (ctx.today - due).days
        where = ctx.at((*base, "next_review")) if review.next_review else ctx.at((*base, "date"))
        yield warning("review-overdue",
                      f"the review was due on {due} ({late} day{'s' if late != 1 else ''} ago)",
                      where, "hold the review and record it with `slaengine review new`")
