"""`slaengine review new|approve|status`: the review records both leads sign."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from ..agreement.checks.reviews import semver_key
from ..agreement.diagnostics import UsageError
from ..agreement.digest import short_digest
from ..agreement.models import Review
from ..change.approvals import (
    ReviewCheck,
    ReviewError,
    check_json,
    errors_json,
    history_errors,
    latest_index,
    problems_of,
    verify_reviews,
)
from ..change.approve import Refused, approve, set_version
from ..change.revisions import (
    Baseline,
    Status,
    approved_baseline,
    draft_review,
    open_side,
    review_status,
)
from ..change.revisions import spec_of as structure_of
from ..files import atomic_write
from .commands import _today
from .evaluate import agreement_option, open_agreement

today_option = click.option("--today", metavar="DATE", help="Today's date (default: today).")


@click.group("review")
def review_group() -> None:
    """Reviews both leads sign: scaffold one, sign it, or show which version is in force."""


@review_group.command("new")
@agreement_option
@click.option("--kind", type=click.Choice(["scheduled", "amendment"]),
              help="Default: amendment when the content changed since it was approved.")
@today_option
@click.option("--base", "base_ref", metavar="REF",
              help="Compare with this git ref or folder instead of the approved content.")
@click.option("--version", "version", metavar="X.Y.Z",
              help="The new version (default: the suggested one); written into the agreement.")
@click.option("--summary", metavar="TEXT",
              help="Why the content changes, in a few sentences (default: a TODO to fill in).")
def new_command(agreement_dir: Path, kind: str | None, today: str | None,
                base_ref: str | None, version: str | None, summary: str | None) -> None:
    """Write reviews/<today>.yaml: the version (set in the agreement too), digest, changes."""
    if version is not None and semver_key(version) is None:
        raise click.BadParameter(f"`{version}` is not a version; write MAJOR.MINOR.PATCH",
                                 param_hint="--version")
    agreement = open_agreement(agreement_dir)
    day = _today(today)
    target = agreement.root / "reviews" / f"{day.isoformat()}.yaml"
    if target.exists():
        raise UsageError(f"{target} already exists; edit it, or give another --today")
    if base_ref is not None:
        with open_side(base_ref, agreement_dir) as side:
            spec = structure_of(side.folder)
        if spec is None:
            click.echo(f"slaengine: {base_ref} is not a valid agreement", err=True)
            sys.exit(1)
        baseline = Baseline(spec, f"--base {base_ref}")
    else:
        baseline = approved_baseline(agreement)
    draft = draft_review(agreement, day, kind, baseline)
    wanted = version or draft.version
    if wanted != agreement.version:
        try:
            written = set_version(agreement, wanted)
        except Refused as refused:
            click.echo(f"slaengine: {refused}", err=True)
            sys.exit(1)
        click.echo(f"set version {wanted} in {written} (was {agreement.version})", err=True)
        agreement = open_agreement(agreement_dir)
    draft = draft_review(agreement, day, kind, baseline, wanted, summary)
    draft.path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(draft.path, draft.text)  # never through a symbolic link
    click.echo(str(draft.path))
    if baseline.spec is None:
        click.echo(f"note: {baseline.note}; the changes are not known, so a minor change is "
                   "suggested", err=True)
    else:
        click.echo(f"compared with {baseline.source}: {len(draft.changes)} change"
                   f"{'' if len(draft.changes) == 1 else 's'}, suggested version "
                   f"{draft.version} ({draft.bump})", err=True)
    if version is not None and version != draft.version:
        click.echo(f"note: version {version} given, {draft.version} suggested", err=True)


@review_group.command("approve")
@agreement_option
@click.option("--party", required=True, metavar="PARTY", help="The party you approve for.")
@click.option("--key", "key_file", required=True, metavar="FILE",
              type=click.Path(path_type=Path, dir_okay=False),
              help="Your private key, or its .pub file when ssh-agent holds the private key.")
@today_option
def approve_command(agreement_dir: Path, party: str, key_file: Path, today: str | None) -> None:
    """Sign the latest review for PARTY with an SSH key registered for its lead."""
    agreement = open_agreement(agreement_dir)
    try:
        signed = approve(agreement, party, key_file, _today(today))
    except Refused as refused:
        click.echo(f"slaengine: not approved: {refused}", err=True)
        sys.exit(1)
    click.echo(f"{signed.path}: {signed.name} ({signed.party}) approved version "
               f"{signed.review.version} on {signed.day} with key {signed.fingerprint}")
    if signed.trust.first_use:
        click.echo("note: no earlier review is signed, so the keys in this content are "
                   "trusted on first use", err=True)


def _approvals(review: Review) -> str:
    return " and ".join(f"{a.name} ({a.party}) on {a.day}" for a in review.approvals) or "nobody"


def signatures_text(check: ReviewCheck | None) -> list[str]:
    if check is None:
        return []
    lines = [f"Signatures on the review of {check.review.date}"
             + (f", checked against the keys of {check.trust.source}:" if check.trust else ":")]
    if check.note:
        lines.append(f"  cannot be verified: {check.note}")
    for a in check.approvals:
        key = f", key {a.fingerprint}" if a.fingerprint else ""
        lines.append(f"  {a.party}: {a.name}, {a.day}{key}: "
                     + ("verified" if a.ok else f"does not count: {a.problem}"))
    if not check.approvals:
        lines.append("  none yet")
    return lines


def status_text(status: Status, required: bool, check: ReviewCheck | None = None,
                errors: list[ReviewError] | None = None) -> str:
    agreement, review = status.agreement, status.in_force
    lines = [f"{agreement.name}, version {agreement.version} "
             f"(digest {short_digest(agreement.digest)})"]
    if review is None:
        lines.append("In force: nothing; no review approved by every party is on record")
    else:
        lines.append(f"In force: version {review.version} ({review.kind} of {review.date}), "
                     f"approved by {_approvals(review)}")
        if review.version != agreement.version:
            lines.append(f"  note: the agreement itself says version {agreement.version}")
        if status.matches:
            lines.append("Content: matches the approved digest")
        else:
            lines.append("Content: changed since it was approved (approved "
                         f"{short_digest(review.digest or '') or 'no digest'}, now "
                         f"{short_digest(agreement.digest)})")
            if status.changes is not None:
                lines.append(f"  compared with {status.baseline.source}:")
                lines += [f"  - {c.text}" for c in status.changes]
            else:
                lines.append(f"  the changes cannot be listed: {status.baseline.note}")
    latest = status.latest
    if latest is not None and latest is not review:
        missing = status.missing(latest)
        lines.append(f"Latest review: {latest.date} (version {latest.version}, {latest.kind}), "
                     + (f"awaiting approval from {' and '.join(missing)}" if missing
                        else f"approved by {_approvals(latest)}"))
    if status.due is not None:
        days = (status.due - status.today).days
        lines.append(f"Next review: due {status.due}, " + (
            f"overdue by {-days} day{'s' if days != -1 else ''}" if days < 0
            else "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"))
    lines += signatures_text(check)
    if errors and not required:  # with --require-approval, listed below
        lines.append("History of approvals: fails")
        lines += [f"  - {e.text()}" for e in errors]
    if required:
        if status.problems:
            lines.append("Approval: missing")
            lines += [f"  - {p}" for p in status.problems]
        else:
            lines.append(f"Approval: ok, the review of {latest.date if latest else '?'} is "
                         "signed by every party and matches the current content")
            if check is not None and check.trust is not None and check.trust.first_use:
                lines.append("  note: keys trusted on first use (no earlier review is signed)")
    return "\n".join(lines)


@review_group.command("status")
@agreement_option
@click.option("--require-approval", is_flag=True,
              help="Exit 1 unless the latest review is approved by every party and its "
                   "digest is the current content's.")
@today_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def status_command(agreement_dir: Path, require_approval: bool, today: str | None,
                   fmt: str) -> None:
    """The version in force, who approved it, whether the content still matches, when due."""
    agreement = open_agreement(agreement_dir)
    day = _today(today)
    status = review_status(agreement, day)
    reviews = agreement.reviews
    checks = verify_reviews(agreement.spec, reviews, agreement.root, agreement.digest, day)
    check = checks[latest_index(reviews)] if reviews else None
    errors = history_errors(checks)
    if check is not None:
        status.problems += problems_of(check)
    status.problems += [e.text() for e in errors]
    if fmt == "json":
        doc = status.to_json()
        doc["signatures"] = check_json(check) if check is not None else None
        doc["history_errors"] = errors_json(errors)
        doc["approval"]["ok"] = not status.problems
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(status_text(status, require_approval, check, errors))
    sys.exit(1 if require_approval and status.problems else 0)
