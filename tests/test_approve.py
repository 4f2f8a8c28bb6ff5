"""`review approve` writes: the approval added to the review file with its comments kept,
atomically, never through a symbolic link; and an ssh-agent key signs without a key file."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml

from slaengine.change.approve import Refused, with_approval, write_approval
from slaengine.change.signing import approval_message, sign, signature_key, verify
from support import make_key

APPROVAL = {"party": "sales", "name": "Raj: Patel", "date": "2026-12-02",
            "signature": "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"}


@pytest.mark.parametrize("text", [
    "date: 2026-12-01\n# sign below\napprovals: []  # none yet\n# a comment that stays\n"
    "next_review: 2027-06-01\n",
    "date: 2026-12-01\napprovals:\n  - {party: marketing, name: Dana, date: 2026-12-01}\n\n"
    "# a comment that stays\nnext_review: 2027-06-01\n",
    "date: 2026-12-01\napprovals:\n- party: marketing\n  name: Dana\n  date: 2026-12-01\n"
    "  signature: |\n    x\n# a comment that stays\nnext_review: 2027-06-01\n",
    "date: 2026-12-01\napprovals: [{party: marketing, name: Dana, date: 2026-12-01}]\n"
    "# a comment that stays\nnext_review: 2027-06-01\n",
    "date: 2026-12-01\n# a comment that stays\nnext_review: 2027-06-01",
])
def test_the_approval_is_appended_and_the_rest_kept(text: str) -> None:
    before = yaml.safe_load(text)
    after = yaml.safe_load(with_approval(text, APPROVAL))
    added = dict(after["approvals"][-1])
    added["date"] = added["date"].isoformat()
    assert added == APPROVAL
    assert after["approvals"][:-1] == before.get("approvals", [])
    assert {k: v for k, v in after.items() if k != "approvals"} == {
        k: v for k, v in before.items() if k != "approvals"}
    assert "# a comment that stays" in with_approval(text, APPROVAL)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("date: 2026-12-01\napprovals: []\n")
    link = tmp_path / "review.yaml"
    link.symlink_to(real)
    with pytest.raises(Refused, match="is a symbolic link"):
        write_approval(link, APPROVAL)
    assert real.read_text() == "date: 2026-12-01\napprovals: []\n"
    write_approval(real, APPROVAL)
    assert yaml.safe_load(real.read_text())["approvals"][0]["party"] == "sales"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.yaml", "review.yaml"]


def test_an_agent_key_signs_with_only_the_public_key(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    key = make_key(tmp_path, "dana")
    agent = subprocess.run(["ssh-agent", "-s", "-a", str(tmp_path / "agent.sock")],
                           capture_output=True, text=True, check=True).stdout
    pid = int(agent.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        env = {**os.environ, "SSH_AUTH_SOCK": str(tmp_path / "agent.sock")}
        subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True, capture_output=True)
        key.unlink()  # only the agent holds the private key now
        message = approval_message("A", "1.0.0", "sha256:" + "0" * 64, "marketing",
                                   date(2026, 12, 1))
        monkeypatch.setenv("SSH_AUTH_SOCK", env["SSH_AUTH_SOCK"])
        signature = sign(message, key.with_suffix(".pub"))
        signer, namespace = signature_key(signature)
        assert namespace == "slaengine-approval"
        assert verify(message, signature, signer)
        assert not verify(message.replace(b"1.0.0", b"1.0.1"), signature, signer)
    finally:
        os.kill(pid, signal.SIGTERM)


def test_the_message_is_the_designs() -> None:
    assert approval_message("Acme", "2.1.0", "sha256:ab", "sales", date(2026, 5, 19)) == (
        b"slaengine approval\nagreement: Acme\nversion: 2.1.0\ndigest: sha256:ab\n"
        b"party: sales\ndate: 2026-05-19\n")
