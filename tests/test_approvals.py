"""Signed approvals, verified by `review status --require-approval` and `validate`, with real
ssh-keygen keys in a git repository: the honest path, and each forgery failing by name."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from slaengine.agreement.models.keys import parse_public_key
from slaengine.change.approve import write_approval
from slaengine.change.signing import approval_message, sign
from support import drop_signed_reviews, git, make_key, register_keys, run_in

ROOT = Path(__file__).resolve().parents[1]
D1 = date(2026, 12, 1)    # the first signed review (keys trusted on first use)
D2 = date(2026, 12, 10)   # the change under test
TODAY = date(2026, 12, 12)


class Repo:
    """The example agreement in git, with keys for both leads and one outsider."""

    def __init__(self, root: Path, keys: Path, monkeypatch: pytest.MonkeyPatch):
        self.root, self.keys, self.monkeypatch = root, keys, monkeypatch
        self.agreement = root / "agreement"

    def key(self, name: str) -> Path:
        return self.keys / name

    def pub(self, name: str) -> str:
        return (self.keys / f"{name}.pub").read_text().strip()

    def run(self, *args: str) -> tuple[int, str, str]:
        code, result = run_in(list(args), self.root, self.monkeypatch)
        usage = str(result.exception) if code == 2 and result.exception else ""
        return code, result.stdout, result.stderr + usage

    def new(self, day: date, *extra: str) -> Path:
        code, out, err = self.run("review", "new", "--today", day.isoformat(), *extra)
        assert code == 0, out + err
        return self.agreement / "reviews" / f"{day}.yaml"

    def approve(self, party: str, key: str, day: date) -> tuple[int, str, str]:
        return self.run("review", "approve", "--party", party, "--key", str(self.key(key)),
                        "--today", day.isoformat())

    def commit(self, message: str) -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-qm", message)

    def status(self) -> tuple[int, str]:
        code, out, _err = self.run("review", "status", "--require-approval", "--today",
                                  TODAY.isoformat())
        return code, out

    def status_json(self) -> dict[str, object]:
        _code, out, _ = self.run("review", "status", "--require-approval", "--today",
                                TODAY.isoformat(), "--format", "json")
        doc: dict[str, object] = json.loads(out)
        return doc

    def codes(self) -> dict[str, str | None]:
        signatures = self.status_json()["signatures"]
        assert isinstance(signatures, dict)
        return {a["party"]: a["code"] for a in signatures["approvals"]}

    def edit(self, path: Path, old: str, new: str) -> None:
        text = path.read_text()
        assert text.count(old) == 1, (old, text)
        path.write_text(text.replace(old, new))

    def forge(self, review: Path, party: str, name: str, key: str, day: date,
              version: str | None = None, digest: str | None = None) -> None:
        """What a forger with a key can do by hand: sign a message and write it in."""
        data = yaml.safe_load(review.read_text())
        agreement = yaml.safe_load((self.agreement / "agreement.yaml").read_text())
        message = approval_message(agreement["agreement"], version or data["version"],
                                   digest or data["digest"], party, day)
        write_approval(review, {"party": party, "name": name, "date": day.isoformat(),
                                "signature": sign(message, self.key(key))})


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    for name in ("dana", "raj", "mallory"):
        make_key(folder, name)
    return folder


@pytest.fixture
def repo(tmp_path: Path, keys: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    """Keys registered, the first review signed by both leads (keys trusted on first use)."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "agreement", root / "agreement")
    shutil.copytree(ROOT / "schema", root / "schema")
    drop_signed_reviews(root / "agreement")
    repo = Repo(root, keys, monkeypatch)
    register_keys(repo.agreement, {"Dana Whitfield": repo.key("dana"),
                                   "Raj Patel": repo.key("raj")})
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    repo.commit("The example agreement, keys registered")
    review = repo.new(D1)
    assert repo.approve("marketing", "dana", D1)[0] == 0
    assert repo.approve("sales", "raj", D1)[0] == 0
    assert yaml.safe_load(review.read_text())["approvals"][0]["signature"].startswith(
        "-----BEGIN SSH SIGNATURE-----\n")
    repo.commit("First signed review")
    yield repo


def change_mql(repo: Repo, new: str = "{score: engagement, gte: 50}") -> None:
    repo.edit(repo.agreement / "definitions.yaml", "{score: engagement, gte: 40}", new)


# ---------------------------------------------------------------- the honest path


def test_first_signed_review_trusts_its_own_keys(repo: Repo) -> None:
    code, out = repo.status()
    assert code == 0, out
    assert "Approval: ok, the review of 2026-12-01 is signed by every party" in out
    assert "keys trusted on first use" in out
    fingerprint = parse_public_key(repo.pub("dana")).fingerprint
    assert f"  marketing: Dana Whitfield, 2026-12-01, key {fingerprint}: verified" in out


def test_honest_change_new_both_approve_status_passes(repo: Repo) -> None:
    change_mql(repo)
    repo.commit("Raise the MQL bar")
    review = repo.new(D2, "--summary", "Raised the MQL bar: 40 → 50.")
    data = yaml.safe_load(review.read_text())
    assert data["summary"] == "Raised the MQL bar: 40 → 50."
    assert data["version"] == "3.0.0"  # a definition narrowed: bumped before the digest
    assert yaml.safe_load((repo.agreement / "agreement.yaml").read_text())["version"] == "3.0.0"
    code, out = repo.status()
    assert code == 1 and "still needs approval from marketing (Dana Whitfield) and sales" in out
    assert repo.approve("marketing", "dana", D2)[0] == 0
    assert repo.approve("sales", "raj", D2 + timedelta(days=1))[0] == 0
    repo.commit("Both leads sign")
    code, out = repo.status()
    assert code == 0, out
    assert ("checked against the keys of the content approved by the review of 2026-12-01"
            in out)
    assert "trusted on first use" not in out
    assert repo.codes() == {"marketing": None, "sales": None}
    code, out, _err = repo.run("validate", "--today", TODAY.isoformat())
    assert code == 0 and "approval-" not in out, out


# ---------------------------------------------------------------- refusals of `approve`


def test_approve_refuses(repo: Repo) -> None:
    change_mql(repo)
    review = repo.new(D2)
    code, _, err = repo.approve("sales", "dana", D2)
    assert code == 1 and "is registered for marketing, not for sales" in err
    code, _, err = repo.approve("marketing", "mallory", D2)
    assert code == 1 and "is not registered for marketing in the content approved by" in err
    assert yaml.safe_load(review.read_text())["approvals"] == []
    assert repo.approve("marketing", "dana", D2)[0] == 0
    code, _, err = repo.approve("marketing", "dana", D2)
    assert code == 1 and "marketing already approved the review of 2026-12-10" in err
    repo.edit(repo.agreement / "definitions.yaml", "{score: engagement, gte: 50}",
              "{score: engagement, gte: 55}")
    code, _, err = repo.approve("sales", "raj", D2)
    assert code == 1 and "the content changed after the review of 2026-12-10" in err
    code, _, err = repo.approve("legal", "raj", D2)
    assert code == 2


# ---------------------------------------------------------------- the forgeries


def test_typed_approvals_are_unsigned(repo: Repo) -> None:
    change_mql(repo)
    review = repo.new(D2)
    repo.edit(review, "approvals: []\n", "approvals:\n"
              "  - {party: marketing, name: Dana Whitfield, date: 2026-12-10}\n"
              "  - {party: sales, name: Raj Patel, on: 2026-12-11}\n")
    code, out = repo.status()
    assert code == 1
    assert ("the approval of marketing (Dana Whitfield, 2026-12-10) does not count: unsigned"
            in out)
    assert repo.codes() == {"marketing": "approval-unsigned", "sales": "approval-unsigned"}
    code, out, _ = repo.run("validate", "--today", TODAY.isoformat())
    assert "is not signed, so it does not count [approval-unsigned]" in out


def test_definition_edited_and_digest_rewritten(repo: Repo) -> None:
    """Edit a definition and rewrite the digest of the already signed review."""
    review = repo.agreement / "reviews" / f"{D1}.yaml"
    old = yaml.safe_load(review.read_text())["digest"]
    change_mql(repo, "{score: engagement, gte: 30}")  # the MQL bar lowered
    _, out, _ = repo.run("review", "status", "--format", "json")
    new = json.loads(out)["digest"]
    repo.edit(review, old, new)  # the two-line diff
    code, out = repo.status()
    assert code == 1
    assert repo.codes() == {"marketing": "approval-bad-signature",
                            "sales": "approval-bad-signature"}
    assert "bad signature: it does not verify over this review's version" in out


def test_content_edited_after_signing_with_digest_rewritten(repo: Repo) -> None:
    change_mql(repo)
    review = repo.new(D2)
    assert repo.approve("marketing", "dana", D2)[0] == 0
    assert repo.approve("sales", "raj", D2)[0] == 0
    signed = yaml.safe_load(review.read_text())["digest"]
    repo.edit(repo.agreement / "definitions.yaml", "{score: engagement, gte: 50}",
              "{score: engagement, gte: 20}")
    _, out, _ = repo.run("review", "status", "--format", "json")
    repo.edit(review, signed, json.loads(out)["digest"])
    code, _ = repo.status()
    assert code == 1
    assert repo.codes() == {"marketing": "approval-bad-signature",
                            "sales": "approval-bad-signature"}


def test_wrong_approver_name(repo: Repo) -> None:
    review = repo.agreement / "reviews" / f"{D1}.yaml"
    repo.edit(review, "name: Raj Patel", "name: Sam Intern")
    code, out = repo.status()
    assert code == 1
    assert "signed as Sam Intern, but sales's lead is Raj Patel" in out
    assert repo.codes()["sales"] == "approval-wrong-name"


@pytest.mark.parametrize(("day", "code"), [("1900-01-01", "approval-date-before-review"),
                                           ("2099-01-01", "approval-date-in-future")])
def test_approval_dates_1900_and_2099(repo: Repo, day: str, code: str) -> None:
    review = repo.agreement / "reviews" / f"{D1}.yaml"
    text = review.read_text()
    review.write_text(text.replace("date: 2026-12-01\n    signature", f"date: {day}\n"
                                   "    signature", 1))
    assert repo.status()[0] == 1
    assert repo.codes()["marketing"] == code
    # Signed with that date, it still fails by the date.
    review.write_text(text)
    change_mql(repo)
    fresh = repo.new(D2)
    repo.forge(fresh, "marketing", "Dana Whitfield", "dana", date.fromisoformat(day))
    assert repo.status()[0] == 1
    assert repo.codes()["marketing"] == code


def test_signed_with_the_other_partys_key(repo: Repo) -> None:
    change_mql(repo)
    review = repo.new(D2)
    assert repo.approve("marketing", "dana", D2)[0] == 0
    repo.forge(review, "sales", "Raj Patel", "dana", D2)
    code, out = repo.status()
    assert code == 1 and "which is registered for marketing, not for sales" in out
    assert repo.codes() == {"marketing": None, "sales": "approval-other-party-key"}


def test_key_added_by_the_change_it_approves(repo: Repo) -> None:
    path = repo.agreement / "agreement.yaml"
    repo.edit(path, f'keys: ["{repo.pub("dana")}"]',
              f'keys: ["{repo.pub("dana")}", "{repo.pub("mallory")}"]')
    repo.commit("Register another key")
    review = repo.new(D2)
    code, _, err = repo.approve("marketing", "mallory", D2)
    assert code == 1 and "not registered for marketing" in err
    repo.forge(review, "marketing", "Dana Whitfield", "mallory", D2)
    assert repo.approve("sales", "raj", D2)[0] == 0
    repo.commit("Signed with the key this change adds")
    code, out = repo.status()
    assert code == 1
    assert "this change registers it, so it counts from the next review" in out
    assert repo.codes() == {"marketing": "approval-unregistered-key", "sales": None}
    code, out, _ = repo.run("validate", "--today", TODAY.isoformat())
    assert "[approval-unregistered-key]" in out


def test_unregistered_key(repo: Repo) -> None:
    change_mql(repo)
    review = repo.new(D2)
    repo.forge(review, "marketing", "Dana Whitfield", "mallory", D2)
    assert repo.codes()["marketing"] == "approval-unregistered-key"


def test_replayed_signature_from_an_earlier_version(repo: Repo) -> None:
    first = repo.agreement / "reviews" / f"{D1}.yaml"
    signed = first.read_text().split("approvals:\n", 1)[1].split("actions:", 1)[0]
    change_mql(repo)
    review = repo.new(D2)
    repo.edit(review, "approvals: []\n", "approvals:\n" + signed)
    code, out = repo.status()
    assert code == 1
    assert ("the signature is over another digest or version: the review of 2026-12-01 "
            "(version 2.3.0), not this one" in out)
    assert repo.codes() == {"marketing": "approval-other-content",
                            "sales": "approval-other-content"}


def test_garbage_signature(repo: Repo) -> None:
    review = repo.agreement / "reviews" / f"{D1}.yaml"
    text = review.read_text()
    review.write_text(text.replace("-----BEGIN SSH SIGNATURE-----", "-----BEGIN PGP-----", 1))
    assert repo.codes()["marketing"] == "approval-bad-signature"


def test_no_second_first_use_after_a_signed_review_that_does_not_verify(repo: Repo) -> None:
    """A broken signed review does not let a later review bring its own keys."""
    first = repo.agreement / "reviews" / f"{D1}.yaml"
    repo.edit(first, "name: Raj Patel", "name: Sam Intern")
    change_mql(repo)
    repo.commit("Break the first review, change the content")
    repo.new(D2)
    code, _, err = repo.approve("marketing", "dana", D2)
    assert code == 1
    assert "the review of 2026-12-01 is signed but does not verify, so no keys are trusted" in err
    code, out = repo.status()
    assert code == 1 and "no keys are trusted after it" in out


def test_review_new_takes_the_version_given(repo: Repo) -> None:
    change_mql(repo)
    review = repo.new(D2, "--version", "2.9.0")
    assert yaml.safe_load(review.read_text())["version"] == "2.9.0"
    assert "suggested: 3.0.0, a major change" in review.read_text()
    assert yaml.safe_load((repo.agreement / "agreement.yaml").read_text())["version"] == "2.9.0"
    assert repo.approve("marketing", "dana", D2)[0] == 0
    code, _, _ = repo.run("review", "new", "--today", "2026-12-11", "--version", "two")
    assert code == 2


def test_a_public_key_file_is_checked_before_signing(repo: Repo) -> None:
    change_mql(repo)
    repo.new(D2)
    code, _, err = repo.run("review", "approve", "--party", "marketing", "--key",
                            str(repo.key("mallory").with_suffix(".pub")), "--today",
                            D2.isoformat())
    assert code == 1 and "is not registered for marketing" in err
    # The .pub of a registered key, alone, with no agent holding it: ssh-keygen says why.
    alone = repo.root.parent / "alone.pub"
    alone.write_text(repo.pub("dana") + "\n")
    repo.monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    code, _, err = repo.run("review", "approve", "--party", "marketing", "--key", str(alone),
                            "--today", D2.isoformat())
    assert code == 2 and f"ssh-keygen could not sign with {alone}" in err
