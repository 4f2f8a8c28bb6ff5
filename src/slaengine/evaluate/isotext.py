"""Slips of CPython's ISO 8601 reader that ISO 8601 refuses, found in text it read.

`datetime.fromisoformat` (3.11) takes any character between the date and the time, and one
stray character before the zone. The coercer and the verdicts-first path both read
date-times with it and then ask these, so both refuse the same text; the SQL coercer
(`sql/isotime.py`) refuses it too.
"""

from __future__ import annotations

from typing import Final

__all__ = ["bad_separator", "date_end", "stray_before_zone"]

_DIGITS: Final = "0123456789"


def stray_before_zone(text: str) -> bool:
    """Whether something other than a digit stands before the zone of aware ISO text.

    CPython's `datetime.fromisoformat` lets one such character through (`10:00:00xZ`,
    `10:00 +01:00`); ISO 8601 does not, nor does the SQL coercer. Called only for text the
    parser read as aware, so the zone is a final `Z` or the last sign.
    """
    if text[-1] in "Zz":
        return text[-2] not in _DIGITS
    return text[max(text.rfind("+"), text.rfind("-")) - 1] not in _DIGITS


def date_end(text: str) -> int:
    """Where the date part of ISO text ends, as CPython's `datetime.fromisoformat` finds it
    (`_find_isoformat_datetime_separator`): 10 for `YYYY-MM-DD` and `YYYY-Www-D`, 8 for
    `YYYYMMDD`, `YYYY-Www` and `YYYYWwwD`, 7 for `YYYYWww`. For text of 7 characters or more."""
    size = len(text)
    if size == 7:
        return 7
    if text[4] == "-":
        if text[5] not in "Ww":
            return 10
        if size > 8 and text[8] == "-":
            return 8 if size > 10 and text[10] in _DIGITS else 10
        return 8
    if text[4] not in "Ww":
        return 8
    end = 7
    while end < size and text[end] in _DIGITS:
        end += 1
    return end if end < 9 else 7 if end % 2 == 0 else 8


def bad_separator(text: str) -> bool:
    """Whether something other than `T`, `t` or a space stands between the date and the time
    of ISO text that `datetime.fromisoformat` read.

    CPython takes any one character there, so `2026-11-19-10:00` (a date at UTC-10:00 in
    XML Schema) would read as 10:00 wall time; ISO 8601 writes `T` (RFC 3339 also a space).
    Text the parser read is ASCII but for that character and for junk just before the zone
    (which `stray_before_zone` refuses), so other text is refused without looking further.
    """
    if not text.isascii():
        return True
    end = date_end(text)
    return end < len(text) and text[end] not in "Tt "
