"""Simple regular expressions in words: `\\.edu$` → ends with `.edu`.

`matches` conditions are Python regular expressions. The common ones (a literal, or a few
alternatives, anchored at the start, the end, both, or at word boundaries, optionally with
`(?i)`) are worded; any other pattern is shown as written with a one-line gloss.
"""

from __future__ import annotations

import re

# One literal: plain characters and escaped metacharacters, nothing with a special meaning.
_LITERAL = r"(?:[^\\.^$*+?()\[\]{}|]|\\[\\.^$*+?()\[\]{}|/\-# ])+"
_SHAPE = re.compile(
    r"(?P<flags>\(\?i\))?"
    r"(?P<start>\^|\\b)?"
    rf"(?:(?P<one>{_LITERAL})|\((?:\?:)?(?P<alts>{_LITERAL}(?:\|{_LITERAL})+)\))"
    r"(?P<end>\$|\\b|\\Z)?")
GLOSS = "a regular expression, searched for anywhere in the value unless anchored by ^ or $"


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _listed(items: list[str], quote: bool) -> str:
    shown = [f"`{i}`" if quote else i for i in items]
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " or " + shown[-1]


def regex_words(pattern: str) -> str | None:
    """The predicate a simple pattern states (`ends with `.edu``), or None when it is not
    simple enough to word without losing meaning."""
    match = _SHAPE.fullmatch(pattern)
    if not match:
        return None
    items = [_unescape(match["one"])] if match["one"] else [
        _unescape(a) for a in re.split(r"(?<!\\)\|", match["alts"])]
    start, end = match["start"], match["end"]
    if (start == "\\b") != (end == "\\b"):
        return None  # a boundary at one end only reads ambiguously in words
    if start == "\\b":
        words = f"contains the word {_listed(items, quote=False)}"
    elif start == "^" and end in ("$", "\\Z"):
        words = f"is exactly {_listed(items, quote=True)}"
    elif start == "^":
        words = f"starts with {_listed(items, quote=True)}"
    elif end in ("$", "\\Z"):
        words = f"ends with {_listed(items, quote=True)}"
    else:
        words = f"contains {_listed(items, quote=True)}"
    if match["flags"]:
        words += ", in any letter case"
    return words


def pattern_text(pattern: str) -> str:
    """`ends with `.edu``, or `matches the pattern `…` (a regular expression, …)`."""
    return regex_words(pattern) or f"matches the pattern `{pattern}` ({GLOSS})"
