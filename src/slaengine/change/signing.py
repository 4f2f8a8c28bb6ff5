"""Approval signatures: the message a lead signs, and `ssh-keygen -Y sign|verify` over it.

The signature is an SSHSIG (what git uses for SSH-signed commits) in the namespace
`slaengine-approval`, so a signature made for anything else (a commit, a file) never counts
as an approval. ssh-keygen runs without a shell; the message goes through its stdin.
"""

from __future__ import annotations

import base64
import binascii
import subprocess
import tempfile
from datetime import date
from pathlib import Path

from ..agreement.diagnostics import UsageError
from ..agreement.models.keys import PublicKey, key_from_blob, read_string

NAMESPACE = "slaengine-approval"
ARMOR_BEGIN, ARMOR_END = "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----"
PRINCIPAL = "approver"  # the one principal of the allowed-signers file a check writes


def approval_message(agreement: str, version: str, digest: str, party: str, day: date) -> bytes:
    """The exact bytes a lead signs: UTF-8, one `key: value` per line, each ending in `\\n`."""
    lines = ["slaengine approval", f"agreement: {agreement}", f"version: {version}",
             f"digest: {digest}", f"party: {party}", f"date: {day.isoformat()}"]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _ssh_keygen(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["ssh-keygen", *args], input=stdin, capture_output=True,
                              check=False)
    except FileNotFoundError:
        raise UsageError("ssh-keygen is not installed; install OpenSSH "
                         "(Debian/Ubuntu: `apt-get install openssh-client`)") from None


def sign(message: bytes, key_file: Path) -> str:
    """The armored signature of `message` by the key in `key_file`: a private key, or a public
    key whose private half ssh-agent holds (SSH_AUTH_SOCK). Raises UsageError when it fails."""
    if not key_file.is_file():
        raise UsageError(f"{key_file}: no such key file")
    done = _ssh_keygen(["-Y", "sign", "-n", NAMESPACE, "-f", str(key_file)], message)
    text = done.stdout.decode("utf-8", errors="replace").strip()
    if done.returncode != 0 or not text.startswith(ARMOR_BEGIN):
        reason = " ".join(done.stderr.decode("utf-8", errors="replace").split())
        raise UsageError(f"ssh-keygen could not sign with {key_file}: {reason or 'no reason'}; "
                         "give the private key, or its .pub file while ssh-agent holds it")
    return text + "\n"


def signature_blob(signature: str) -> bytes:
    """The binary SSHSIG inside the armor; raises ValueError when it is not one."""
    lines = [line.strip() for line in signature.strip().splitlines()]
    if len(lines) < 3 or lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        raise ValueError("it is not an SSH signature (`-----BEGIN SSH SIGNATURE-----` ...)")
    try:
        blob = base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the signature's base64 does not decode") from None
    if not blob.startswith(b"SSHSIG"):
        raise ValueError("it is not an SSH signature")
    return blob


def signature_key(signature: str) -> tuple[PublicKey, str]:
    """The key that made `signature` and the namespace it was made in; raises ValueError."""
    blob = signature_blob(signature)
    at = 6 + 4  # magic, then the uint32 version
    if blob[6:10] != (1).to_bytes(4, "big"):
        raise ValueError("unknown SSH signature version")
    key_blob, at = read_string(blob, at)
    namespace, at = read_string(blob, at)
    return key_from_blob(key_blob), namespace.decode("utf-8", errors="replace")


def verify(message: bytes, signature: str, key: PublicKey) -> bool:
    """Whether `signature` is `key`'s signature of `message` in the approval namespace."""
    with tempfile.TemporaryDirectory(prefix="slaengine-sig-") as tmp:
        allowed, sig = Path(tmp) / "allowed_signers", Path(tmp) / "message.sig"
        allowed.write_text(f'{PRINCIPAL} namespaces="{NAMESPACE}" {key.line}\n',
                           encoding="utf-8")
        sig.write_text(signature, encoding="utf-8")
        done = _ssh_keygen(["-Y", "verify", "-f", str(allowed), "-I", PRINCIPAL, "-n", NAMESPACE,
                            "-s", str(sig)], message)
    return done.returncode == 0


__all__ = ["NAMESPACE", "approval_message", "sign", "signature_blob", "signature_key",
           "verify"]
