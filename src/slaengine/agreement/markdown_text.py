"""Markdown escaping shared by every Markdown writer: text shown as text, never as markup.

`escape` turns any value into Markdown that shows exactly that value on one line: HTML's own
characters become entities, every character Python-Markdown or GitHub takes as markup is
backslash-escaped, and line breaks become spaces, so a value can sit in a table cell, a list
item or a heading and never becomes HTML, an image, a link, a heading, emphasis or a new table
cell. `Md` marks Markdown slaengine wrote itself (trusted), which writers print as it is.

Two kinds of text meet Markdown: text from the agreement (reviewed, may carry `code` spans)
and text from a lead file (anyone's: ids, campaign and source names, stage values, messages
quoting a value). Lead text always goes through `lead_text` (or `lead_code`).
"""

from __future__ import annotations

import re

# Every character Python-Markdown (with the tables extension) or GitHub takes as markup, and
# `~`, which would open a fence or a strikethrough. HTML's own characters become entities.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "~": "&#126;"}
_BACKSLASHED = frozenset("\\`*_{}[]()#+-.!|")
_TABLE = str.maketrans({**_ENTITIES, **{c: "\\" + c for c in _BACKSLASHED}})
_WHITESPACE = re.compile(r"\s+")
# Lead text sits inside a line slaengine wrote (a cell, a heading, after a list marker), so only
# what is markup anywhere in a line is escaped, plus what is markup at the start of one (a
# list marker: `-`, `+`, `1.`); `.` and `-` elsewhere stay as they are, so ids stay readable.
_LEAD = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "~": "&#126;",
                       **{c: "\\" + c for c in "\\`*{}[]()#!|"}})
# `_` inside a word (`paid_social`) is no emphasis in Python-Markdown or CommonMark: escaped
# only where a word does not hold it on both sides.
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
# A value that can sit in a code span as it is: no backtick, pipe, backslash or edge space.
_PLAIN_CODE = re.compile(r"[^`|\\\s](?: *[^`|\\\s])*")
# Control characters show as nothing and Python-Markdown keeps its own placeholders in
# \x02/\x03: in lead text each becomes the replacement character, visibly.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# GitHub links bare `https://…` and `www.…` (its autolink extension): the `:` or the `.` as an
# entity shows the same text but is no longer the character the autolinker looks for.
_AUTOLINK = re.compile(r"(:)(?=//)|(?<![^\W_])(www)(\.)", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^(?:([-+])|(\d+)\.)")


class Md(str):
    """Markdown slaengine wrote itself: printed unescaped."""

    __slots__ = ()


def escape(value: object) -> Md:
    """Any text as Markdown that shows exactly that text, on one line.

    Runs of whitespace (newlines included) become one space, so a value can sit in a table
    cell or a list item and can never start a code block, a heading or a fence.
    """
    if isinstance(value, Md):
        return value
    return Md(_WHITESPACE.sub(" ", str(value)).translate(_TABLE))


def lead_text(value: object) -> Md:
    """A value read from a lead file (an id, a campaign, a stage, a message quoting one) as
    Markdown that shows it as plain text: no HTML, image, link, heading, emphasis or cell.

    The same escaping as `escape` (entities for HTML, backslashes for Markdown, one line) with
    `.`, `-` and `+` escaped only where they would start a list, bare `https://` and `www.`
    kept from GitHub's autolinker, and control characters shown as `\ufffd`.
    """
    if isinstance(value, Md):
        return value
    text = _WHITESPACE.sub(" ", _CONTROLS.sub("\ufffd", str(value))).strip()
    text = _UNDERSCORE.sub(r"\\_", text.translate(_LEAD))
    text = _AUTOLINK.sub(lambda m: "&#58;" if m.group(1) else m.group(2) + "&#46;", text)
    return Md(_LIST_MARKER.sub(lambda m: "\\" + m.group(1) if m.group(1)
                               else m.group(2) + "\\.", text, count=1))


def lead_code(value: object) -> Md:
    """A lead value shown as code: a code span when nothing in it can end the span or the
    table cell, else `<code>` around the escaped text (a code span cannot hold a backtick)."""
    text = _CONTROLS.sub("\ufffd", str(value))
    if _PLAIN_CODE.fullmatch(text):
        return Md(f"`{text}`")
    return Md(f"<code>{lead_text(value)}</code>")


_CODE_SPAN = re.compile(r"`([^`]*)`")


def lead_message(text: str) -> Md:
    """A message that quotes lead values in `code` spans (recorded stage `mql` is ...): every
    part escaped as lead text, the quoted parts shown as code. A backtick inside a value only
    moves where code starts; no part is ever printed unescaped."""
    parts: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        parts += [_spaced(text[last:match.start()]), lead_code(match.group(1))]
        last = match.end()
    parts.append(_spaced(text[last:]))
    return Md("".join(parts).strip())


def _spaced(part: str) -> str:
    """Lead text of a part of a message, keeping one space where the part had space at an end."""
    before = " " if part[:1].isspace() else ""
    after = " " if part[-1:].isspace() and part.strip() else ""
    return before + lead_text(part) + after


__all__ = ["Md", "escape", "lead_code", "lead_message", "lead_text"]
