"""Character sets as code-point ranges, and Python's own `\\d`, `\\w` and `\\s`."""

from __future__ import annotations

import re
import re._constants as C  # type: ignore[import-not-found]
import sys
from array import array
from collections.abc import Iterable
from functools import cache
from typing import Final

MAX_CODE: Final = 0x10FFFF
_SURROGATES: Final = (0xD800, 0xDFFF)

Ranges = tuple[tuple[int, int], ...]


def _normalise(ranges: Iterable[tuple[int, int]]) -> Ranges:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _complement(ranges: Ranges) -> Ranges:
    out, start = [], 0
    for lo, hi in ranges:
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_CODE:
        out.append((start, MAX_CODE))
    return _without_surrogates(out)


def _without_surrogates(ranges: Iterable[tuple[int, int]]) -> Ranges:
    low, high = _SURROGATES
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if hi < low or lo > high:
            out.append((lo, hi))
            continue
        if lo < low:
            out.append((lo, low - 1))
        if hi > high:
            out.append((high + 1, hi))
    return _normalise(out)


@cache
def _all_text() -> str:
    """Every code point but the surrogates, in order (decoded from UTF-32: a loop of
    `chr` over the 1.1M code points took a quarter of a second at every start)."""
    codes = array("I", range(_SURROGATES[0]))
    codes.extend(range(_SURROGATES[1] + 1, MAX_CODE + 1))
    return codes.tobytes().decode("utf-32-le" if sys.byteorder == "little" else "utf-32-be")


def _index_to_code(i: int) -> int:
    return i if i < _SURROGATES[0] else i + (_SURROGATES[1] - _SURROGATES[0] + 1)


@cache
def category_ranges(category: str, ascii_only: bool) -> Ranges:
    """The code points Python's `re` puts in `\\d`, `\\w` or `\\s` (as `re` itself says)."""
    pattern = {"digit": r"\d+", "word": r"\w+", "space": r"\s+"}[category]
    if ascii_only:
        text, flags = "".join(chr(c) for c in range(128)), re.ASCII
        return _normalise((m.start(), m.end() - 1) for m in re.finditer(pattern, text, flags))
    text = _all_text()
    return _normalise((_index_to_code(m.start()), _index_to_code(m.end() - 1))
                      for m in re.finditer(pattern, text))


_CATEGORIES: Final = {
    C.CATEGORY_DIGIT: ("digit", False), C.CATEGORY_NOT_DIGIT: ("digit", True),
    C.CATEGORY_WORD: ("word", False), C.CATEGORY_NOT_WORD: ("word", True),
    C.CATEGORY_SPACE: ("space", False), C.CATEGORY_NOT_SPACE: ("space", True),
}
