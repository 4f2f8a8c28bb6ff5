"""Lead values to the types the agreement's `fields:` declare: the hot path of every evaluation.

`Coercer` compiles plain Python for the declared fields, so a value that already has its type
(what JSON gives for text, integers, booleans and lists) costs a class check. Other values take
a slow path that reads text (`1,200`, `yes`, `2026-11-02 10:00`) and reports what it cannot
read as a `RecordError`; it never raises on a bad value.

Datetimes come out aware, in UTC, so comparisons are between instants. One written without an
offset is wall time in the agreement's timezone, read as `value.replace(tzinfo=timezone)` does:
an ambiguous wall time (autumn DST change) takes the first, summer-time offset, and one in the
spring gap the offset before the change (PEP 495, `fold=0`). A bare date is midnight there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from functools import partial
from operator import itemgetter
from typing import Any, Final

import orjson

from ..agreement.diagnostics import UsageError, did_you_mean
from ..agreement.models.sections import FieldSpec
from .isotext import bad_separator, stray_before_zone

__all__ = ["Coercer", "RecordError", "error_text", "jsonable", "show"]

_EPOCH_UTC: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE: Final = datetime(1970, 1, 1)
_BOOLS: Final = {"true": True, "false": False, "yes": True, "no": False, "y": True, "n": False,
                 "1": True, "0": False, "t": True, "f": False}
# Thousands separators only in groups of three, so that `12,5` is an error rather than 125.
_NUMBER: Final = re.compile(r"(?P<sign>[+-]?)"
                            r"(?P<int>\d{1,3}(?P<sep>[, \u00a0\u202f])\d{3}(?:(?P=sep)\d{3})*|\d*)"
                            r"(?P<frac>\.\d*)?(?P<exp>[eE][+-]?\d+)?", re.ASCII)
_LONG_FRACTION: Final = re.compile(r"(\.\d{6})\d+")
_MAX_PLANS: Final = 64  # key layouts compiled; records with other layouts take the generic path
_MAX_KEYS: Final = 1000
_ISO_HINT: Final = "(write e.g. 2026-11-02T10:00:00Z)"
_DIGITS: Final = "0123456789"


Converted = Callable[..., tuple[dict[str, Any], list["RecordError"]]]


@dataclass(frozen=True, slots=True)
class RecordError:
    """Why one value (or a whole record) could not be read; the value is then missing."""

    code: str  # stable kebab-case: invalid-value, unreadable-record
    message: str  # one line, the user's value in backticks
    field: str | None = None
    column: str | None = None
    value: Any = None  # the value as read

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field,
                "column": self.column, "value": _jsonable(self.value)}


def error_text(error: Mapping[str, Any]) -> str:
    """`column employee_count: `n/a` is not a whole number`: where, then what (the JSON form)."""
    where = error.get("column") or error.get("field")
    return f"column {where}: {error['message']}" if where else str(error["message"])


def jsonable(value: Any) -> Any:
    """A lead value as JSON holds it: dates as ISO text, numbers JSON cannot hold as text."""
    return _jsonable(value)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else show(value, 1000)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value.isoformat() if isinstance(value, date) else str(value)


def show(value: Any, limit: int = 60) -> str:
    """A value as it goes between backticks in a one-line message."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, bytes | bytearray):  # a binary column: its text, never `b'...'`
        try:
            text = bytes(value).decode()
        except UnicodeDecodeError:
            text = f"{len(value)} bytes of binary data"
    elif isinstance(value, Decimal | date | time):  # plain text, not a quoted JSON string
        text = str(value)
    else:
        try:
            text = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except (TypeError, ValueError):
            try:
                text = repr(value)
            except ValueError:  # an int with more digits than Python prints
                text = f"<{type(value).__name__}>"
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Invalid(Exception):
    """Raised by a converter with the one-line message for the user."""


_MISSING: Final = object()  # a converter's answer for a blank value: no output, no error


def _number(value: Any, integer: bool) -> Any:
    """An int, a float, a Decimal (integer text with a fraction or exponent) or _MISSING."""
    what = "a whole number" if integer else "a number"
    if isinstance(value, bool):
        raise _Invalid(f"`{show(value)}` is a boolean, not {what}")
    if isinstance(value, int | float | Decimal):
        return value if not isinstance(value, int) else int(value)
    if not isinstance(value, str):
        raise _Invalid(f"`{show(value)}` is not {what}")
    text = value.strip()
    m = _NUMBER.fullmatch(text)
    if not text:
        return _MISSING
    if m is None or not (m["int"] or len(m["frac"] or "") > 1):
        raise _Invalid(f"`{show(text)}` is not {what}")
    digits = m["int"].replace(m["sep"], "") if m["sep"] else m["int"]
    plain = m["sign"] + digits + (m["frac"] or "") + (m["exp"] or "")
    try:
        if not (m["frac"] or m["exp"]):
            return int(plain)
        return Decimal(plain) if integer else float(plain)
    except (ValueError, InvalidOperation):  # more digits than int() reads
        raise _Invalid(f"`{show(text)}` is out of range for {what}") from None


# Whole numbers beyond ±(2**53 - 1) are not exact in JSON readers, doubles or every warehouse;
# a lead value out there is a data error, and it would overflow score arithmetic.
MAX_SAFE_INTEGER: Final = 2**53 - 1


def _in_range(number: int, value: Any) -> int:
    if -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
        return number
    shown = show(value.strip() if isinstance(value, str) else value)
    raise _Invalid(f"`{shown}` is out of range (whole numbers go up to ±{MAX_SAFE_INTEGER:,})")


def to_integer(value: Any) -> Any:
    """An int from an int, an integral float, or text like `1,200`, `+5` or `1200.0`."""
    number = _number(value, True)
    if number is _MISSING:
        return number
    if isinstance(number, int):
        return _in_range(number, value)
    shown = show(value.strip() if isinstance(value, str) else value)
    if not (number.is_finite() and number.adjusted() <= 4300 if isinstance(number, Decimal)
            else math.isfinite(number)):
        raise _Invalid(f"`{shown}` is out of range for a whole number")
    if number != int(number):
        raise _Invalid(f"`{shown}` is not a whole number")
    return _in_range(int(number), value)


def to_number(value: Any) -> Any:
    """An int or a finite float, from numbers or text like `1,200.50`, `-3` or `1e3`."""
    number = _number(value, False)
    if number is _MISSING:
        return number
    if isinstance(number, int):
        return _in_range(number, value)
    if not math.isfinite(number):
        raise _Invalid(f"`{show(value.strip() if isinstance(value, str) else value)}` is not "
                       "a finite number")
    return float(number)


def to_boolean(value: Any) -> Any:
    """A bool, from a bool, the integers 0 and 1, or true/false, yes/no, y/n, 1/0, t/f text."""
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        found = _BOOLS.get(text, _MISSING if not text else None)
        if found is not None:
            return found
    raise _Invalid(f"`{show(value)}` is not a boolean (write true or false)")


def to_string(value: Any) -> Any:
    """Stripped text; a number becomes its text (a zip code written as a JSON number)."""
    if isinstance(value, str):
        # `str.strip`, not `str(value)`: a `str` subclass such as a `(str, Enum)` member
        # would otherwise read as its name (`Country.NL`) instead of the text it holds.
        return str.strip(value) or _MISSING
    if isinstance(value, bool):
        raise _Invalid(f"`{show(value)}` is a boolean, not text")
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        raise _Invalid(f"`{show(value)}` is binary data, not text (store the column as text)")
    raise _Invalid(f"`{show(value)}` is not a text value")


_PLAIN_MEMBERS: Final = frozenset({str, int, float, bool, type(None)})


def plain_members(items: list[Any]) -> bool:
    """Whether every item of a list is text, a number, a boolean or null: the values a
    condition can compare (an object such as pandas' NA refuses to be compared)."""
    plain = _PLAIN_MEMBERS
    return all(item.__class__ in plain for item in items)


def to_list(value: Any) -> Any:
    """A list (a copy: the caller's own list may change later); text is split on `;` (on `,`
    when it has no `;`), items stripped, empty items dropped; a single text, number or
    boolean becomes a one-item list."""
    if isinstance(value, list | tuple):
        # A `str` subclass (an enum member) as the text it holds, as `to_string` reads it.
        items = [str.__str__(item) if isinstance(item, str) else item for item in value]
        if not plain_members(items):
            odd = next(item for item in items if item.__class__ not in _PLAIN_MEMBERS)
            raise _Invalid(f"`{show(odd)}` in this list is not text or a number "
                           "(give each item as text, a number or true/false)")
        return items
    if isinstance(value, str):
        text = value.strip()
        parts = (item.strip() for item in text.split(";" if ";" in text else ","))
        return [item for item in parts if item] if text else _MISSING
    if value.__class__ in (int, float, bool):
        return [value]
    raise _Invalid(f"`{show(value)}` is not a list (give the items as a list, or as text "
                   "separated by `;`)")


def to_date(value: Any) -> Any:
    """A date from `YYYY-MM-DD` text, a date, or a naive datetime at midnight (Parquet)."""
    if isinstance(value, datetime):
        if value.tzinfo is None and value.time() == time(0):
            return value.date()
        raise _Invalid(f"`{show(value.isoformat())}` is a datetime; write a date (YYYY-MM-DD)")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise _Invalid(f"`{show(value)}` is not a date (write YYYY-MM-DD)")
    text = value.strip()
    try:
        return date.fromisoformat(text) if text else _MISSING
    except ValueError:
        pass
    try:
        datetime.fromisoformat(text)
        if bad_separator(text):  # `2026-11-19-10:00` is no date and time either
            raise ValueError(text)
    except ValueError:
        raise _Invalid(f"`{show(text)}` is not a date (write YYYY-MM-DD)") from None
    raise _Invalid(f"`{show(text)}` is a datetime; write a date (YYYY-MM-DD)")


def to_utc(value: datetime, tz: tzinfo) -> datetime:
    """The instant in UTC; a naive value is wall time in `tz` (fold=0 on DST changes)."""
    if value.tzinfo is None:
        return _EPOCH_UTC + (value - tz.utcoffset(value) - _EPOCH_NAIVE)  # type: ignore[operator]
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def to_datetime(value: Any, tz: tzinfo) -> Any:
    """An aware UTC datetime from ISO 8601 text, a datetime, or a date (midnight in `tz`)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(0))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return _MISSING
        try:
            if "\0" in text:  # CPython's parser stops at a NUL and accepts what follows it
                raise ValueError(text)
            parsed = datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", text.upper()))
            if parsed.tzinfo is not None and stray_before_zone(text):
                raise ValueError(text)
        except ValueError:
            raise _Invalid(f"`{show(text)}` is not a date and time {_ISO_HINT}") from None
        if bad_separator(text):
            raise _Invalid(f"`{show(text)}` is not a date and time: write T or a space between "
                           "the date and the time (e.g. 2026-11-02T10:00:00Z)")
    elif isinstance(value, int | float | Decimal):
        raise _Invalid(f"`{show(value)}` is a number, not a date and time {_ISO_HINT}")
    else:
        raise _Invalid(f"`{show(value)}` is not a datetime {_ISO_HINT}")
    try:
        return to_utc(parsed, tz)
    except OverflowError:
        raise _Invalid(f"`{show(value)}` is out of range for a datetime") from None


_CONVERTERS: Final[dict[str, Callable[[Any], Any]]] = {
    "string": to_string, "integer": to_integer, "number": to_number, "boolean": to_boolean,
    "date": to_date, "list": to_list,
}

# The fast path of each type, pasted into the generated functions; `$V` is the value as read.
# A record is coerced into a copy of itself (`$KEEP` leaves a good value where it is, `$DROP`
# deletes a blank one) or into a new dict (`$KEEP` stores the value, `$DROP` does nothing).
_FAST: Final[dict[str, str]] = {
    "string": "if $V.__class__ is str:\n    s = $V.strip()\n    if not s:\n        $DROP\n"
              "    elif s is $V:\n        $KEEP\n    else:\n        out[$NAME] = s",
    "integer": "if $V.__class__ is int and -MAX_INT <= $V <= MAX_INT:\n    $KEEP",
    "number": "if ($V.__class__ is int and -MAX_INT <= $V <= MAX_INT\n"
              "        or $V.__class__ is float and $V - $V == 0.0):\n    $KEEP",
    "boolean": "if $V is True or $V is False:\n    $KEEP",
    "list": "if $V.__class__ is list and plain($V):\n    out[$NAME] = $V[:]",
    "date": "if $V.__class__ is str:\n    try:\n        out[$NAME] = date_fromiso($V)\n"
            "    except ValueError:\n        $SLOW",
    "datetime": """\
if $V.__class__ is str and "\\0" not in $V:
    try:
        d = fromiso($V)
        if ($V[4] != "-" or $V[10:11] not in "Tt ") and badsep($V):
            raise ValueError
        z = d.tzinfo
        if z is None:
            d = EPOCH_UTC + (d - utcoffset(d) - EPOCH_NAIVE)
        elif ($V[-1] != "Z" or $V[-2] not in DIGITS) and stray($V):
            raise ValueError
        elif z is not UTC:
            d = combine(d, d.time(), UTC) - z.utcoffset(None)
        out[$NAME] = d
    except (ValueError, TypeError, OverflowError):
        $SLOW
elif $V.__class__ is datetime and $V.tzinfo is UTC:
    $KEEP""",
}
# A null stays where it is: None already means missing to every reader, and deleting the
# ~20 nulls of a typical CRM record cost 0.8 µs a lead.
_FAST_TAIL: Final = "\nelif $V is None:\n    pass\nelse:\n    $SLOW"


class Coercer:
    """Built once per agreement; calling it is the hot path.

    `coercer(raw)` returns the record keyed by field name with the fields that have a value
    (a field given as null may stay, as None: None means missing everywhere), and the errors
    of the values that could not be read. A field is read from its column (the mapping's,
    else the field's `source`, else its name), falling back to its name. For each layout of
    keys it meets (up to 64; a CSV file or a JSON export usually has one) it compiles a
    function that fetches every value with one `itemgetter` call and checks the layout on
    the way; each record is first tried with the previous record's layout.
    """

    def __init__(self, fields: Mapping[str, FieldSpec], timezone: tzinfo,
                 mapping: Mapping[str, str] | None = None) -> None:
        mapping = dict(mapping or {})
        for name in sorted(set(mapping) - set(fields)):
            hint = did_you_mean(name, fields)
            raise UsageError(f"the column mapping names `{name}`, which is not a field of the "
                             f"agreement" + (f"; {hint}" if hint else ""))
        self.fields: dict[str, FieldSpec] = dict(fields)
        self.timezone: tzinfo = timezone
        self.columns: dict[str, str] = {
            name: mapping.get(name) or spec.source or name for name, spec in fields.items()}
        self.key_field: str | None = next((n for n, spec in fields.items() if spec.key), None)
        self._slow_paths = [(name, self.columns[name], _CONVERTERS.get(spec.type)
                             or partial(to_datetime, tz=timezone))
                            for name, spec in fields.items()]
        self._plans: dict[frozenset[str], Converted] = {}
        self._generic: Converted = self._compile(None)
        self._last: Converted = self._learn

    def __call__(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[RecordError]]:
        return self._last(raw)

    def __repr__(self) -> str:
        return f"<Coercer {len(self.fields)} fields, {len(self._plans)} layouts>"

    def _learn(self, raw: Any, retry: bool = True) -> tuple[dict[str, Any], list[RecordError]]:
        """Coerce a record whose layout differs from the previous record's."""
        if raw.__class__ is not dict:  # a plan looks keys up, which a defaultdict would add
            return self._generic(raw)
        layout = frozenset(raw)
        plan = self._plans.get(layout)
        if plan is None:
            if (len(self._plans) >= _MAX_PLANS or len(layout) > _MAX_KEYS
                    or not all(key.__class__ is str for key in layout)):
                return self._generic(raw)
            plan = self._plans[layout] = self._compile(tuple(raw))
        self._last = plan
        return plan(raw, False)

    def _compile(self, keys: tuple[str, ...] | None) -> Converted:
        """Generate the function for dicts with exactly these keys, or for any mapping (None).

        Values are fetched into `v0, v1, ...` by one `itemgetter` call, which also checks the
        layout. Lookups use the layout's own key objects (`K0, ...`): parsers reuse them record
        after record, so a lookup matches by identity instead of comparing text. When most keys
        are fields, the record is coerced in a copy of itself, else into a new dict.
        """
        var = {key: f"v{j}" for j, key in enumerate(keys or ())}
        ref = {key: f"K{j}" for j, key in enumerate(keys or ())}
        reads = {name: [k for k in dict.fromkeys((col, name)) if keys is None or k in var]
                 for name, col in self.columns.items()}
        in_place = {name for name, found in reads.items() if found == [name] and name in var}
        copy = keys is not None and len(var.keys() - in_place) <= max(4, len(var) // 4)
        lines = ["def coerce(raw, retry=True):"]
        if keys is None:
            lines += ["    if not isinstance(raw, Mapping):", "        return not_a_mapping(raw)"]
        else:
            unpack = ", ".join(var.values()) + ("," if len(var) > 1 else "")
            lines += [f"    if raw.__class__ is not dict or len(raw) != {len(keys)}:",
                      "        return learn(raw) if retry else generic(raw)",
                      *[f"    try:\n        {unpack} = fetch(raw)\n    except KeyError:\n"
                        "        return learn(raw) if retry else generic(raw)"] * bool(var)]
        lines += ["    out = raw.copy()" if copy else "    out = {}", "    errs = []"]
        lines += [f"    del out[{ref[key]}]" for key in var if copy and key not in in_place]
        for i, (name, spec) in enumerate(self.fields.items()):
            found = [var.get(k) or f"(raw[{k!r}] if {k!r} in raw else None)" for k in reads[name]]
            if not found:
                continue
            value = found[0] if len(found) == 1 and keys is not None else "v"
            if value == "v":
                lines += [f"    v = {found[0]}", *(f"    if v is None:\n        v = {read}"
                                                   for read in found[1:])]
            here = copy and name in in_place
            code = (_FAST[spec.type] + _FAST_TAIL).replace(
                "$KEEP", "pass" if here else "out[$NAME] = $V").replace(
                "$DROP", "del out[$NAME]" if here else "pass").replace(
                "$SLOW", f"slow({i}, $V, raw, out, errs)").replace(
                "$V", value).replace("$NAME", ref[name] if here else repr(name))
            lines += ["    " + line for line in code.splitlines()]
        lines.append("    return out, errs")
        namespace: dict[str, Any] = {
            "slow": self._slow, "learn": self._learn, "generic": getattr(self, "_generic", None),
            "not_a_mapping": _not_a_mapping, "Mapping": Mapping, "UTC": UTC,
            "MAX_INT": MAX_SAFE_INTEGER,
            "fromiso": datetime.fromisoformat, "date_fromiso": date.fromisoformat,
            "badsep": bad_separator,
            "stray": stray_before_zone, "DIGITS": _DIGITS, "datetime": datetime,
            "plain": plain_members,
            "combine": datetime.combine, "utcoffset": self.timezone.utcoffset,
            "EPOCH_UTC": _EPOCH_UTC, "EPOCH_NAIVE": _EPOCH_NAIVE,
            "fetch": itemgetter(*keys) if keys else None,
            **{ref[key]: key for key in var}}
        exec(compile("\n".join(lines), f"<slaengine coercer {id(self):x}>", "exec"), namespace)
        function: Converted = namespace["coerce"]
        return function

    def _slow(self, i: int, value: Any, raw: Mapping[str, Any], out: dict[str, Any],
              errors: list[RecordError]) -> None:
        name, column, convert = self._slow_paths[i]
        try:
            result = convert(value)
        except _Invalid as exc:
            message = str(exc)
        except Exception as exc:  # a value no converter foresaw: still an error, not a crash
            message = f"`{show(value)}` cannot be read ({type(exc).__name__})"
        else:
            if result is not _MISSING:
                out[name] = result
                return
            message = ""
        out.pop(name, None)
        if message:
            column = column if column == name or raw.get(column) is not None else name
            errors.append(RecordError("invalid-value", message, name, column, value))


def _not_a_mapping(raw: Any) -> tuple[dict[str, Any], list[RecordError]]:
    message = f"`{show(raw)}` is not a record (an object of field values)"
    return {}, [RecordError("unreadable-record", message, value=raw)]
