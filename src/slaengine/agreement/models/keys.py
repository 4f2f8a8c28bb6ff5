"""OpenSSH public keys: the form a lead's signing key is registered in, and its fingerprint."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import StringConstraints

# The key types `ssh-keygen -Y sign` signs with (DSA is refused by OpenSSH since 9.8).
# Each with the number of wire-format strings its blob holds (the type name included).
KEY_PARTS = {
    "ssh-ed25519": 2,
    "ssh-rsa": 3,
    "ecdsa-sha2-nistp256": 3,
    "ecdsa-sha2-nistp384": 3,
    "ecdsa-sha2-nistp521": 3,
    "sk-ssh-ed25519@openssh.com": 3,
    "sk-ecdsa-sha2-nistp256@openssh.com": 4,
}
KEY_TYPES = tuple(KEY_PARTS)
PUBLIC_KEY_PATTERN = (r"^(" + "|".join(t.replace(".", r"\.") for t in KEY_TYPES)
                      + r") [A-Za-z0-9+/]+={0,2}( [^\n]*)?$")
PublicKeyText = Annotated[str, StringConstraints(pattern=PUBLIC_KEY_PATTERN)]


@dataclass(frozen=True)
class PublicKey:
    """A parsed key line; two lines with the same type and blob are the same key."""

    type: str
    blob: bytes
    comment: str = field(default="", compare=False)

    @property
    def fingerprint(self) -> str:
        """`SHA256:...`, exactly as `ssh-keygen -l` prints it."""
        digest = base64.b64encode(hashlib.sha256(self.blob).digest()).decode()
        return "SHA256:" + digest.rstrip("=")

    @property
    def line(self) -> str:
        """`type base64` without the comment: the form allowed-signers files take."""
        return f"{self.type} {base64.b64encode(self.blob).decode()}"


def read_string(data: bytes, at: int) -> tuple[bytes, int]:
    """One SSH wire-format `string` (uint32 length, then the bytes) at `at`; raises ValueError."""
    if at + 4 > len(data):
        raise ValueError("the key is cut short")
    size = int.from_bytes(data[at:at + 4], "big")
    end = at + 4 + size
    if end > len(data):
        raise ValueError("the key is cut short")
    return data[at + 4:end], end


def key_from_blob(blob: bytes, comment: str = "") -> PublicKey:
    """A key from its wire-format blob, whose first string names its type; raises ValueError."""
    kind, _ = read_string(blob, 0)
    name = kind.decode("ascii", errors="replace")
    if name not in KEY_TYPES:
        raise ValueError(f"unsupported key type `{name}`")
    at, parts = 0, []
    for _ in range(KEY_PARTS[name]):
        part, at = read_string(blob, at)
        parts.append(part)
    if at != len(blob):
        raise ValueError("the key has bytes after its end")
    if name == "ssh-ed25519" and len(parts[1]) != 32:
        raise ValueError("an ed25519 key holds 32 bytes")
    return PublicKey(name, blob, comment)


def parse_public_key(text: str) -> PublicKey:
    """`type base64 [comment]` as in `id_ed25519.pub`; raises ValueError saying what is wrong."""
    parts = text.strip().split(None, 2)
    if len(parts) < 2:
        raise ValueError("an OpenSSH public key is `TYPE BASE64 [COMMENT]`")
    kind, data = parts[0], parts[1]
    if kind not in KEY_TYPES:
        raise ValueError(f"unsupported key type `{kind}`")
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key's base64 part does not decode") from None
    key = key_from_blob(blob, parts[2] if len(parts) > 2 else "")
    if key.type != kind:
        raise ValueError(f"the key says `{kind}` but holds a `{key.type}` key")
    return key


def key_id(text: str) -> str:
    """A key line's fingerprint, or the line itself when it does not parse (to compare keys)."""
    try:
        return parse_public_key(text).fingerprint
    except ValueError:
        return text


__all__ = ["KEY_PARTS", "KEY_TYPES", "PUBLIC_KEY_PATTERN", "PublicKey", "PublicKeyText",
           "key_from_blob", "key_id", "parse_public_key", "read_string"]
