"""Signing keys registered in the agreement: parsed as OpenSSH parses them, one party each."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from slaengine import validate_folder
from slaengine.agreement.models.keys import parse_public_key
from support import make_key

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_fingerprint_is_ssh_keygens(tmp_path: Path, kind: str) -> None:
    key = make_key(tmp_path, "k", kind)
    line = key.with_suffix(".pub").read_text()
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(key.with_suffix(".pub"))],
                            check=True, capture_output=True, text=True).stdout.split()[1]
    parsed = parse_public_key(line)
    assert parsed.fingerprint == listed
    assert parsed.comment == "k@test"


@pytest.mark.parametrize(("text", "problem"), [
    ("ssh-ed25519", "an OpenSSH public key is `TYPE BASE64 [COMMENT]`"),
    ("ssh-dss AAAAB3NzaC1kc3M= x", "unsupported key type `ssh-dss`"),
    ("ssh-ed25519 AAAA*AAA x", "the key's base64 part does not decode"),
    ("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIO8o3i7K1rWu2nQ8eR3fMqDqL0xQ3o7C8l1s0g8mY9Zb x",
     "the key says `ssh-rsa` but holds a `ssh-ed25519` key"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO8o", "the key is cut short"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAAUE= x", "an ed25519 key holds 32 bytes"),
])
def test_malformed_keys_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="^" + problem.replace("`", ".").replace("[", ".")
                       .replace("]", ".") + "$"):
        parse_public_key(text)


def with_keys(tmp_path: Path, marketing: list[str], sales: list[str]) -> Path:
    """The example agreement with these keys registered in place of its own."""
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    path = folder / "agreement.yaml"
    text = path.read_text()
    parties = yaml.safe_load(text)["parties"]
    for party, keys in (("marketing", marketing), ("sales", sales)):
        [registered] = parties[party]["lead"]["keys"]
        old = f'keys: ["{registered}"]'
        assert text.count(old) == 1
        text = text.replace(old, "keys: [" + ", ".join(f'"{k}"' for k in keys) + "]")
    path.write_text(text)
    return folder


def codes(folder: Path) -> list[str]:
    return [d.format() for d in validate_folder(folder).errors]


def test_registered_keys_validate(tmp_path: Path) -> None:
    dana = make_key(tmp_path, "dana").with_suffix(".pub").read_text().strip()
    raj = make_key(tmp_path, "raj", "ecdsa").with_suffix(".pub").read_text().strip()
    assert codes(with_keys(tmp_path, [dana], [raj])) == []


def test_a_key_of_two_parties_is_an_error(tmp_path: Path) -> None:
    dana = make_key(tmp_path, "dana").with_suffix(".pub").read_text().strip()
    fingerprint = parse_public_key(dana).fingerprint
    found = codes(with_keys(tmp_path, [dana], [dana.replace("dana@test", "someone else")]))
    assert len(found) == 1
    assert found[0].endswith(f"error: key {fingerprint} is registered for `marketing` and for "
                             "`sales` [duplicate-key]")
    assert found[0].startswith(str(tmp_path / "agreement" / "agreement.yaml") + ":")


def test_a_key_that_is_not_one_is_located(tmp_path: Path) -> None:
    found = codes(with_keys(tmp_path, ["ssh-ed25519 not-base64!"], []))
    assert len(found) == 1 and found[0].endswith(
        "error: `ssh-ed25519 not-base64!` is not an OpenSSH public key [invalid-value]"), found
    found = codes(with_keys(tmp_path / "b", ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO8o"],
                            []))
    assert len(found) == 1 and found[0].endswith(
        "error: the key of `marketing`'s lead is not an OpenSSH public key: the key is cut short "
        "[invalid-key]"), found
