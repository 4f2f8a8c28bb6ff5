"""`review approve`: sign the latest review for one party and write the approval into its file.

Every refusal comes before anything is written; the file is replaced atomically (a temporary
file renamed over it), never through a symbolic link, and read back to prove the approval
landed as written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..agreement.diagnostics import UsageError
from ..agreement.digest import short_digest, to_yaml
from ..agreement.loader import read_yaml_file
from ..agreement.models import Review
from ..agreement.models.keys import PublicKey, parse_public_key
from ..api import Agreement
from .approvals import Trust, latest_check
from .signing import approval_message, sign, signature_key


class Refused(Exception):
    """The approval cannot be given as things stand (exit 1, nothing written)."""


@dataclass(frozen=True)
class Signed:
    """What `review approve` wrote."""

    path: Path
    review: Review
    party: str
    name: str
    day: date
    fingerprint: str
    trust: Trust


def review_file(agreement: Agreement, review: Review) -> Path:
    """The file the review was read from."""
    raw = agreement.loaded.data.get("reviews", [])
    found = [i for i, data in enumerate(raw) if isinstance(data, dict)
             and str(data.get("date")) == review.date.isoformat()
             and str(data.get("version")) == review.version]
    if len(found) != 1:
        raise Refused(f"{len(found) or 'no'} review files are dated {review.date} with version "
                      f"{review.version}; keep one review per date")
    location = agreement.loaded.locate(("reviews", found[0]))
    if location is None:
        raise Refused(f"the file of the review of {review.date} cannot be found")
    return Path(location.file)


def approve(agreement: Agreement, party: str, key_file: Path, today: date) -> Signed:
    """Sign the latest review for `party` with `key_file`; raises Refused or UsageError."""
    spec = agreement.spec
    if party not in spec.parties:
        raise UsageError(f"unknown party `{party}`; the parties are "
                         + ", ".join(f"`{p}`" for p in spec.parties))
    if not agreement.reviews:
        raise Refused("there is no review to approve; run `slaengine review new` first")
    review = agreement.reviews[-1]
    if review.digest != agreement.digest:
        raise Refused(f"the content changed after the review of {review.date} recorded its "
                      f"digest ({short_digest(review.digest or '') or 'none'}, now "
                      f"{short_digest(agreement.digest)}); only the content a review names can "
                      "be approved: run `slaengine review new` for the new content")
    if review.version != spec.version:
        raise Refused(f"the review of {review.date} says version {review.version} but the "
                      f"agreement says {spec.version}; make them the same")
    if review.date > today:
        raise Refused(f"the review is dated {review.date}, after today ({today})")
    if any(a.party == party for a in review.approvals):
        raise Refused(f"{party} already approved the review of {review.date}; to sign again, "
                      "remove that approval first")
    path = review_file(agreement, review)
    lead = spec.parties[party].lead.name
    checked = latest_check(spec, agreement.reviews, agreement.root, agreement.digest, today)
    trust = checked.trust if checked is not None else None
    if trust is None:
        raise Refused(checked.note if checked and checked.note else
                      "the keys to check this review against cannot be found")
    public = _public_key(key_file)
    if public is not None:  # checked before anything asks for a passphrase or a touch
        _registered(public, party, trust)
    message = approval_message(spec.agreement, review.version, agreement.digest, party, today)
    signature = sign(message, key_file)
    key, _ = signature_key(signature)
    _registered(key, party, trust)
    write_approval(path, {"party": party, "name": lead, "date": today.isoformat(),
                          "signature": signature})
    return Signed(path, review, party, lead, today, key.fingerprint, trust)


def _public_key(path: Path) -> PublicKey | None:
    """The key in `path` when it is a public key (a private key is known by its signature)."""
    try:
        return parse_public_key(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):  # UnicodeDecodeError is a ValueError
        return None


def _registered(key: PublicKey, party: str, trust: Trust) -> None:
    if key not in trust.keys.get(party, []):
        owner = next((p for p, keys in trust.keys.items() if key in keys), None)
        raise Refused(f"key {key.fingerprint} is " + (
            f"registered for {owner}, not for {party}" if owner else
            f"not registered for {party} in {trust.source}") + "; sign with a key "
            f"registered under `parties.{party}.lead.keys`")


# ---------------------------------------------------------------- writing the review file


def _item(approval: dict[str, str], indent: str) -> str:
    lines = [f"{indent}- party: {approval['party']}",
             f"{indent}  {to_yaml({'name': approval['name']}).strip()}",
             f"{indent}  date: {approval['date']}",
             f"{indent}  signature: |"]
    lines += [f"{indent}    {line}" for line in approval["signature"].strip().splitlines()]
    return "\n".join(lines) + "\n"


def _last_end(node: yaml.Node) -> int:
    """Where the text of a block node's last value ends (comments after it excluded)."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _last_end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _last_end(node.value[-1])
    return int(node.end_mark.index)


def with_approval(text: str, approval: dict[str, str]) -> str:
    """The review file's text with one more approval, its comments and layout kept."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise Refused("the review file is not a mapping")
    value = next((v for k, v in root.value if k.value == "approvals"), None)
    if value is None:
        return text + ("" if text.endswith("\n") else "\n") + "approvals:\n" + _item(approval,
                                                                                   "  ")
    if not isinstance(value, yaml.SequenceNode):
        raise Refused("`approvals` in the review file is not a list")
    start, end = value.start_mark.index, value.end_mark.index
    if value.flow_style:
        items = [text[i.start_mark.index:i.end_mark.index] for i in value.value]
        if any("\n" in item for item in items):
            raise Refused("write `approvals` as a block list (one `- ` line per approval)")
        line_end = text.find("\n", end)
        rest = text[line_end + 1:] if line_end >= 0 else ""
        block = "".join(f"  - {item}\n" for item in items) + _item(approval, "  ")
        return text[:start].rstrip(" ") + "\n" + block + rest
    indent = " " * value.start_mark.column
    at = _last_end(value)
    if text[at - 1] != "\n":
        newline = text.find("\n", at)
        at = len(text) if newline < 0 else newline + 1
    prefix = text[:at] if text[:at].endswith("\n") else text[:at] + "\n"
    return prefix + _item(approval, indent) + text[at:]


def replace_file(path: Path, text: str, written_right: Callable[[Any], bool]) -> None:
    """Replace `path` with `text` atomically, once `written_right(data read back)` holds;
    refuses symbolic links."""
    if path.is_symlink() or path.parent.is_symlink():
        raise Refused(f"{path} is a symbolic link; slaengine writes regular files only")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        if not written_right(read_yaml_file(Path(tmp)).data):
            raise Refused(f"could not edit {path} without changing more than meant; nothing "
                          "was written")
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_approval(path: Path, approval: dict[str, str]) -> None:
    """Add `approval` to the review file at `path`, atomically."""
    before = read_yaml_file(path).data
    old = before.get("approvals") if isinstance(before, dict) else None

    def right(data: Any) -> bool:
        if not isinstance(data, dict) or not isinstance(data.get("approvals"), list):
            return False
        rest = {k: v for k, v in data.items() if k != "approvals"}
        return (rest == {k: v for k, v in before.items() if k != "approvals"}
                and [_plain(a) for a in data["approvals"]]
                == [_plain(a) for a in (old or [])] + [approval])

    replace_file(path, with_approval(path.read_text(encoding="utf-8"), approval), right)


def set_version(agreement: Agreement, version: str) -> Path:
    """Write `version` into the agreement file that holds it, in place of the current one."""
    location = agreement.loaded.locate(("version",))
    if location is None:
        raise Refused("the agreement's `version` cannot be found in its files")
    path = Path(location.file)
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    node = next((v for k, v in root.value if k.value == "version"), None) if isinstance(
        root, yaml.MappingNode) else None
    if not isinstance(node, yaml.ScalarNode):
        raise Refused(f"{path}: `version` is not a plain value")
    before = read_yaml_file(path).data
    updated = text[:node.start_mark.index] + version + text[node.end_mark.index:]

    def right(data: Any) -> bool:
        return isinstance(data, dict) and isinstance(before, dict) and str(
            data.get("version")) == version and {k: v for k, v in data.items()
                                                 if k != "version"} == {
            k: v for k, v in before.items() if k != "version"}

    replace_file(path, updated, right)
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): v.isoformat() if isinstance(v, date) else v for k, v in value.items()}
    return value


__all__ = ["Refused", "Signed", "approve", "replace_file", "review_file", "set_version",
           "with_approval", "write_approval"]
