"""Lead values coerced in DuckDB SQL exactly as `coerce.Coercer` coerces them in Python.

Input: a relation with the export's raw columns (text from CSV, JSON values from JSON Lines,
typed columns from Parquet) and `_row`. Output: one typed column per field, named as the
field, plus for each field whether its value could not be read (`errors`), the raw value to
report and the column it came from. The accepted spellings are `coerce.py`'s: `1,200`,
`1e3` and `+5` for numbers (whole numbers within ±2**53-1), yes/no/true/false/y/n/t/f/1/0
for booleans, ISO 8601 dates and times as Python 3.11 reads them (naive ones in the
agreement's timezone, the first of two equal wall times on a DST change), blank text as
missing. Messages are not made here: the caller asks the Python coercer for the message of
each value SQL refused, so the text is the same.
"""

from __future__ import annotations

from typing import Final

import sqlglot.expressions as exp

from ..evaluate.coerce import MAX_SAFE_INTEGER
from .dialects import anon, cast, lit
from .isotime import case, full_match, text

Expr = exp.Expr
# What Python's str.strip() removes.
WHITESPACE: Final = "".join(chr(c) for c in (
    0x9, 0xA, 0xB, 0xC, 0xD, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000,
    0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000))
_D: Final = "[0-9]"
# coerce._NUMBER, with its back-reference (one thousands separator throughout) spelled out.
_GROUPED: Final = "|".join(f"{_D}{{1,3}}(?:{sep}{_D}{{3}})+" for sep in
                           (",", " ", "\\x{a0}", "\\x{202f}"))
NUMBER_PATTERN: Final = (f"^([+-]?)({_GROUPED}|{_D}*)(\\.{_D}*)?(?:[eE]([+-]?{_D}+))?$")
BOOLEANS: Final = {"true": True, "false": False, "yes": True, "no": False, "y": True,
                   "n": False, "1": True, "0": False, "t": True, "f": False}
MIN_US: Final = -62135596800 * 1_000_000  # 0001-01-01T00:00:00Z
MAX_US: Final = 253402300799999999  # 9999-12-31T23:59:59.999999Z
DAY_US: Final = 86_400_000_000
RAW_KINDS: Final = ("text", "json", "int", "float", "bool", "date", "timestamp",
                    "timestamptz", "list")


def _null(value: Expr) -> Expr:
    return exp.Is(this=value, expression=exp.null())


def _present(value: Expr) -> Expr:
    return exp.Not(this=_null(value))


def strip(value: Expr) -> Expr:
    return anon("TRIM", value, text(WHITESPACE))


def json_is(value: Expr, *kinds: str) -> Expr:
    return exp.In(this=anon("JSON_TYPE", value), expressions=[text(k) for k in kinds])


def json_text(value: Expr) -> Expr:
    return anon("JSON_EXTRACT_STRING", value, text("$"))


def number_parts(t: Expr) -> Expr:
    return anon("REGEXP_EXTRACT", t, text(NUMBER_PATTERN),
                exp.Array(expressions=[text(g) for g in ("sign", "int", "frac", "exp")]))


def _part(parts: Expr, name: str) -> Expr:
    return anon("STRUCT_EXTRACT", parts, text(name))


def number_text(t: Expr, parts: Expr, integer: bool) -> tuple[Expr, Expr, Expr]:
    """(value, valid, is a float) of stripped text `t`, parsed into `parts`."""
    sign, whole, frac, exponent = (_part(parts, n) for n in ("sign", "int", "frac", "exp"))
    matched = full_match(t, NUMBER_PATTERN[1:-1])
    digits = anon("REGEXP_REPLACE", whole, text("[^0-9]"), text(""), text("g"))
    fraction = anon("LTRIM", frac, text("."))
    has_digits = exp.or_(exp.NEQ(this=whole, expression=text("")),
                         exp.GT(this=anon("LENGTH", frac), expression=lit(1)))
    plain = exp.and_(exp.EQ(this=frac, expression=text("")),
                     exp.EQ(this=exponent, expression=text("")))
    negative = exp.EQ(this=sign, expression=text("-"))
    valid_text = exp.and_(matched, exp.Paren(this=has_digits))

    def signed(magnitude: Expr) -> Expr:
        return case((negative, exp.Neg(this=magnitude)), default=magnitude)

    def safe(magnitude_digits: Expr) -> tuple[Expr, Expr]:
        """A whole number from digits without leading zeros: (value, within ±2**53-1)."""
        small = exp.LTE(this=anon("LENGTH", magnitude_digits), expression=lit(16))
        value = exp.TryCast(this=case((exp.EQ(this=magnitude_digits, expression=text("")),
                                       text("0")), default=magnitude_digits),
                            to=exp.DataType.build("BIGINT"))
        within = exp.and_(small, exp.LTE(this=value, expression=lit(MAX_SAFE_INTEGER)))
        return signed(value), within

    int_value, int_ok = safe(anon("LTRIM", digits, text("0")))
    if not integer:
        normal = anon("CONCAT", sign, case((exp.EQ(this=digits, expression=text("")),
                                            text("0")), default=digits), text("."),
                      case((exp.EQ(this=fraction, expression=text("")), text("0")),
                           default=fraction), text("e"),
                      case((exp.EQ(this=exponent, expression=text("")), text("0")),
                           default=exponent))
        number = exp.TryCast(this=normal, to=exp.DataType.build("DOUBLE"))
        finite = anon("ISFINITE", number)
        value = case((plain, cast(int_value, "DOUBLE")), default=number)
        ok = exp.and_(valid_text, case((plain, int_ok), default=exp.Coalesce(
            this=finite, expressions=[exp.false()])))
        return value, ok, exp.Not(this=exp.Paren(this=plain))
    # An integer written with a fraction or an exponent must be whole: shift the digits.
    all_digits = anon("LTRIM", anon("CONCAT", digits, fraction), text("0"))
    power = exp.Coalesce(this=exp.TryCast(this=case(
        (exp.EQ(this=exponent, expression=text("")), text("0")), default=exponent),
        to=exp.DataType.build("BIGINT")), expressions=[lit(2**62)])
    # sqlglot writes trees as built: bracket what is subtracted or negated.
    scale = exp.Paren(this=exp.Sub(this=anon("LENGTH", fraction), expression=power))
    zero = exp.EQ(this=all_digits, expression=text(""))
    length = anon("LENGTH", all_digits)
    shifted = case(
        (exp.LTE(this=scale, expression=lit(0)),
         case((exp.LTE(this=exp.Sub(this=length, expression=scale), expression=lit(16)),
               anon("CONCAT", all_digits, anon("REPEAT", text("0"), exp.Neg(this=scale)))),
              default=text("99999999999999999"))),
        default=anon("LEFT", all_digits, exp.Sub(this=length, expression=scale)))
    whole_number = exp.or_(exp.LTE(this=scale, expression=lit(0)), exp.and_(
        exp.LT(this=scale, expression=length),
        full_match(anon("RIGHT", all_digits, scale), "0*")))
    frac_value, frac_ok = safe(shifted)
    # Python's Decimal refuses a zero whose exponent passes 4300 ("out of range").
    zero_ok = exp.LTE(this=exp.Neg(this=scale), expression=lit(4300))
    fancy_ok = case((zero, zero_ok), default=exp.and_(exp.Paren(this=whole_number), frac_ok))
    value = case((plain, int_value), (zero, lit(0)), default=frac_value)
    ok = exp.and_(valid_text, case((plain, int_ok), default=fancy_ok))
    return value, ok, exp.false()


def boolean_text(t: Expr) -> tuple[Expr, Expr]:
    lower = anon("LOWER", t)
    trues = [text(k) for k, v in BOOLEANS.items() if v]
    known = exp.In(this=lower, expressions=[text(k) for k in BOOLEANS])
    return case((known, exp.In(this=lower, expressions=trues))), known


def list_text(t: Expr) -> Expr:
    """`to_list`: split on `;` (else `,`), strip the items, drop empty ones."""
    sep = case((exp.GT(this=anon("STRPOS", t, text(";")), expression=lit(0)), text(";")),
               default=text(","))
    item = exp.to_identifier("item")
    stripped = anon("LIST_TRANSFORM", anon("STRING_SPLIT", t, sep),
                    exp.Lambda(this=strip(exp.column(item)), expressions=[item]))
    return anon("LIST_FILTER", stripped, exp.Lambda(
        this=exp.NEQ(this=exp.column(item), expression=text("")), expressions=[item]))


def in_datetime_range(us: Expr) -> Expr:
    return exp.Between(this=us, low=lit(MIN_US), high=lit(MAX_US))


# The spellings nearly every export uses, read with DuckDB's own parsers.
FAST: Final = {
    "integer": "[+-]?[0-9]{1,15}",
    "number": "[+-]?[0-9]{1,15}",
    "date": "[0-9]{4}-[0-9]{2}-[0-9]{2}",
    # Year 0001-9999, hours 00-23, minutes and seconds 00-59, offsets below 24 hours: what
    # Python accepts and DuckDB parses the same way (invalid days fail DuckDB's cast).
    "datetime": "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}"
                "[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?"
                "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?",
}


def instant(us: Expr) -> Expr:
    """TIMESTAMPTZ of epoch microseconds."""
    return exp.Add(this=anon("TO_TIMESTAMP", lit(0)), expression=anon("TO_MICROSECONDS", us))


def offset_at(us: Expr, timezone: str) -> Expr:
    """The UTC offset (microseconds) of `timezone` at an instant."""
    local = anon("TIMEZONE", text(timezone), instant(us))
    return exp.Sub(this=anon("EPOCH_US", local), expression=exp.Paren(this=us))


def icu_instant(wall: Expr, timezone: str) -> Expr:
    """ICU's reading of a wall time: right except for repeated wall times (see below)."""
    return anon("EPOCH_US", anon("TIMEZONE", text(timezone), anon("MAKE_TIMESTAMP", wall)))


def fold_zero(wall: Expr, later: Expr, earlier_offset: Expr, timezone: str) -> Expr:
    """Python's reading (PEP 495 fold=0): where ICU took the later of two instants with the
    same wall time (autumn), take the earlier one, which has the offset of the day before."""
    earlier = exp.Sub(this=wall, expression=exp.Paren(this=earlier_offset))
    repeated = exp.and_(exp.LT(this=earlier, expression=later),
                        exp.EQ(this=offset_at(exp.Paren(this=earlier.copy()), timezone),
                               expression=earlier_offset.copy()))
    return case((repeated, earlier.copy()), default=later)
