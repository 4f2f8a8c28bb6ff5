"""Where the agreement stands on a given day: approvals, the next review, and what needs attention.

The judgement is the validator's own (`checks/reviews.py`): the same checks run here, as of
the site's date, and their findings become the banners on the home page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..agreement.checks.base import CheckContext
from ..agreement.checks.reviews import (
    check_approvals,
    check_digest_and_cadence,
    latest_approved,
    next_review_due,
)
from ..agreement.diagnostics import Diagnostic
from ..agreement.models import Review
from .context import Site

# Finding code → (admonition kind, title). Only these reach the home page.
BANNERS: dict[str, tuple[str, str]] = {
    "review-overdue": ("danger", "Review overdue"),
    "digest-mismatch": ("warning", "Changed since approval"),
    "never-approved": ("warning", "Not approved"),
    "review-pending-approval": ("info", "Awaiting approval"),
    "review-without-digest": ("info", "Approved text not recorded"),
}


@dataclass(frozen=True)
class Banner:
    kind: str
    title: str
    text: str
    code: str


@dataclass(frozen=True)
class Status:
    latest: Review | None  # the most recent review, approved or not
    approved: Review | None  # the most recent review both parties approved
    next_review: date | None
    banners: list[Banner]


def review_status(site: Site) -> Status:
    agreement = site.agreement
    ctx = CheckContext(spec=agreement.spec, reviews=agreement.reviews, tests=agreement.tests,
                       loaded=agreement.loaded, digest=agreement.digest, today=site.today)
    findings: list[Diagnostic] = [*check_approvals(ctx), *check_digest_and_cadence(ctx)]
    banners = [_banner(d) for d in findings if d.code in BANNERS]
    banners.sort(key=lambda b: list(BANNERS).index(b.code))
    parties = list(agreement.spec.parties)
    found = latest_approved(agreement.reviews, parties)
    approved = found[1] if found else None
    latest = (max(enumerate(agreement.reviews), key=lambda pair: (pair[1].date, pair[0]))[1]
              if agreement.reviews else None)
    due = (next_review_due(approved, agreement.spec.review.every_months)
           if approved is not None else None)
    return Status(latest, approved, due, banners)


def _banner(finding: Diagnostic) -> Banner:
    kind, title = BANNERS[finding.code]
    text = finding.message[:1].upper() + finding.message[1:] + "."
    if finding.hint:
        text += " " + finding.hint[:1].upper() + finding.hint[1:] + "."
    return Banner(kind, title, text, finding.code)


__all__ = ["BANNERS", "Banner", "Status", "review_status"]
