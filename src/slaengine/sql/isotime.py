"""Python's `date.fromisoformat` and `datetime.fromisoformat` (3.11) as DuckDB SQL.

The lead coercer reads dates and times with those two functions, so the embedded DuckDB
engine must accept exactly the same text: extended and basic calendar dates, ISO week dates,
`T` or a space between date and time (CPython takes any character there; the coercer refuses
the others, see `evaluate.isotext.bad_separator`), times of 1 to 3 components with or without
colons and a fraction after any of them, `Z` or an offset written the same way. The date
part's length is found as CPython's `_find_isoformat_datetime_separator` finds it.
Each function returns the parts; the caller checks the ranges and builds the value.
"""

from __future__ import annotations

from typing import Final

import sqlglot.expressions as exp

from .dialects import anon, cast, lit

Expr = exp.Expr
_DIGIT: Final = "[0-9]"


def text(value: str) -> Expr:
    return exp.Literal.string(value)


def full_match(value: Expr, pattern: str) -> Expr:
    return anon("REGEXP_FULL_MATCH", value, text(pattern))


def _sub(value: Expr, start: int, length: int) -> Expr:
    return anon("SUBSTRING", value, lit(start), lit(length))


def _char_is(value: Expr, position: int, char: str) -> Expr:
    return exp.EQ(this=_sub(value, position, 1), expression=text(char))


def _is_digit(value: Expr, position: int) -> Expr:
    return full_match(_sub(value, position, 1), _DIGIT)


def case(*pairs: tuple[Expr, Expr], default: Expr | None = None) -> Expr:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in pairs], default=default)


def separator_position(value: Expr) -> Expr:
    """Where the date part ends (0-based, as CPython counts bytes of an ASCII date), or -1,
    also when a time follows it after a character other than `T` or a space (`value` is upper
    case): CPython takes any character there, ISO 8601 does not (see
    `evaluate.isotext.bad_separator`)."""
    size = anon("STRLEN", value)

    def end(position: int) -> Expr:
        follows = _sub(value, position + 1, 1)
        return case((exp.or_(exp.LTE(this=size, expression=lit(position)),
                             exp.In(this=follows, expressions=[text("T"), text(" ")])),
                     lit(position)), default=lit(-1))

    digits_from_8 = anon("LENGTH", anon("REGEXP_EXTRACT", anon("SUBSTRING", value, lit(8)),
                                        text(f"^{_DIGIT}*")))
    week_basic = exp.Add(this=lit(7), expression=digits_from_8)
    basic_week_position = case(
        (exp.EQ(this=digits_from_8, expression=lit(0)), end(7)),
        (exp.EQ(this=digits_from_8, expression=lit(1)), end(8)),
        (exp.EQ(this=exp.Mod(this=exp.Paren(this=week_basic), expression=lit(2)),
                expression=lit(0)), end(7)),
        default=end(8))
    extended_week = case(
        (exp.LT(this=size, expression=lit(8)), lit(-1)),
        (exp.and_(exp.GT(this=size, expression=lit(8)), _char_is(value, 9, "-")), case(
            (exp.EQ(this=size, expression=lit(9)), lit(-1)),
            (exp.and_(exp.GT(this=size, expression=lit(10)), _is_digit(value, 11)), end(8)),
            default=end(10))),
        default=end(8))
    return case(
        (exp.EQ(this=size, expression=lit(7)), lit(7)),
        (_char_is(value, 5, "-"), case((_char_is(value, 6, "W"), extended_week),
                                       default=end(10))),
        (_char_is(value, 5, "W"), basic_week_position),
        default=end(8))


# Date parts: calendar (y, m, d) or week (y, w, d), written as CPython's parse_isoformat_date
# reads them (it does not check that it used the whole part).
DATE_PATTERN: Final = (r"^([0-9]{4})(?:(-)(?:W([0-9]{2})(?:-([0-9]))?|([0-9]{2})-([0-9]{2}))"
                       r"|(?:W([0-9]{2})([0-9])?|([0-9]{2})([0-9]{2})))")
DATE_GROUPS: Final = ["year", "sep", "xweek", "xwday", "xmonth", "xday", "bweek", "bwday",
                      "bmonth", "bday"]


def date_parts(value: Expr) -> Expr:
    """A struct of the groups of `DATE_PATTERN` (empty strings for what is absent)."""
    return anon("REGEXP_EXTRACT", value, text(DATE_PATTERN),
                exp.Array(expressions=[text(g) for g in DATE_GROUPS]))


def date_numbers(parts: Expr, size: Expr) -> dict[str, Expr]:
    """The numbers of a parsed date part of `size` bytes: year, month, day (calendar) or
    week, weekday (ISO week); `week` says which; `refused` when CPython refuses the part."""
    def g(name: str) -> Expr:
        return anon("STRUCT_EXTRACT", parts, text(name))

    extended = exp.EQ(this=g("sep"), expression=text("-"))
    week = case((extended, g("xweek")), default=g("bweek"))
    weekday = case((extended, g("xwday")), default=g("bwday"))
    month = case((extended, g("xmonth")), default=g("bmonth"))
    day = case((extended, g("xday")), default=g("bday"))
    is_week = exp.NEQ(this=week, expression=text(""))
    # A week date's day is needed when the part goes on after the week number.
    needs_day = exp.GT(this=size, expression=case((extended, lit(8)), default=lit(7)))
    refused = case((is_week, exp.and_(needs_day, exp.EQ(this=weekday, expression=text("")))),
                   default=exp.EQ(this=month, expression=text("")))
    return {"year": _int(g("year")), "month": _int(month), "day": _int(day),
            "week": _int(week),
            "weekday": case((exp.EQ(this=weekday, expression=text("")), lit(1)),
                            default=_int(weekday)),
            "is_week": is_week, "refused": refused}


def date_value(n: dict[str, Expr]) -> Expr:
    """The DATE of `date_numbers` (given as columns), NULL when it does not exist."""
    week = iso_week_date(n["year"], n["week"], n["weekday"])
    calendar = calendar_date(n["year"], n["month"], n["day"])
    return case((n["refused"], exp.null()), (n["is_week"], week), default=calendar)


def _int(value: Expr) -> Expr:
    return exp.TryCast(this=value, to=exp.DataType.build("BIGINT"))


def calendar_date(year: Expr, month: Expr, day: Expr) -> Expr:
    """The date, or NULL when it does not exist (year 1..9999 as Python's `date`)."""
    iso = anon("PRINTF", text("%04d-%02d-%02d"), year, month, day)
    valid_year = exp.Between(this=year, low=lit(1), high=lit(9999))
    return case((valid_year, exp.TryCast(this=iso, to=exp.DataType.build("DATE"))))


def iso_week_date(year: Expr, week: Expr, weekday: Expr) -> Expr:
    """Python's `date.fromisocalendar`: week 53 only in years that have one."""
    jan4 = calendar_date(year, lit(1), lit(4))
    monday = exp.Sub(this=jan4, expression=cast(exp.Sub(
        this=anon("ISODOW", jan4), expression=lit(1)), "INTEGER"))
    days = exp.Add(this=exp.Mul(this=exp.Paren(this=exp.Sub(this=week, expression=lit(1))),
                                expression=lit(7)),
                   expression=exp.Paren(this=exp.Sub(this=weekday, expression=lit(1))))
    jan1 = calendar_date(year, lit(1), lit(1))
    leap = exp.EQ(this=anon("DAYOFYEAR", calendar_date(year, lit(12), lit(31))),
                  expression=lit(366))
    thursday = exp.EQ(this=anon("ISODOW", jan1), expression=lit(4))
    wednesday_leap = exp.and_(exp.EQ(this=anon("ISODOW", jan1), expression=lit(3)), leap)
    has_53 = exp.or_(thursday, wednesday_leap)
    valid = exp.and_(exp.Between(this=year, low=lit(1), high=lit(9999)),
                     exp.Between(this=week, low=lit(1), high=lit(53)),
                     exp.Between(this=weekday, low=lit(1), high=lit(7)),
                     exp.or_(exp.LT(this=week, expression=lit(53)), exp.Paren(this=has_53)))
    result = cast(exp.Add(this=monday, expression=cast(days, "INTEGER")), "DATE")
    in_range = exp.Between(this=anon("YEAR", result), low=lit(1), high=lit(9999))
    return case((exp.and_(valid, in_range), result))


# A time (or a UTC offset after its sign): HH[:MM[:SS]] or HHMMSS, a fraction after any of
# them; CPython's parse_hh_mm_ss_ff.
_EXTENDED: Final = (r"([0-9]{2})(?::([0-9]{2})(?::([0-9]{2}))?)?(?:[.,]([0-9]+))?")
_BASIC: Final = r"([0-9]{2})(?:([0-9]{2})([0-9]{2})?)?(?:[.,]([0-9]+))?"
TIME_PATTERN: Final = f"^(?:{_EXTENDED}|{_BASIC})$"
TIME_GROUPS: Final = ["xh", "xm", "xs", "xf", "bh", "bm", "bs", "bf"]


def time_parts(value: Expr) -> Expr:
    return anon("REGEXP_EXTRACT", value, text(TIME_PATTERN),
                exp.Array(expressions=[text(g) for g in TIME_GROUPS]))


def micros_of(parts: Expr) -> tuple[Expr, Expr]:
    """(microseconds since midnight, valid) of a parsed time; hours 0-23, minutes and
    seconds 0-59, the fraction's first six digits."""
    def g(name: str) -> Expr:
        return anon("STRUCT_EXTRACT", parts, text(name))

    def pick(x: str, b: str) -> Expr:
        return case((exp.NEQ(this=g("xh"), expression=text("")), g(x)), default=g(b))

    def number(value: Expr) -> Expr:
        return exp.Coalesce(this=_int(value), expressions=[lit(0)])

    hour, minute, second = number(pick("xh", "bh")), number(pick("xm", "bm")), number(
        pick("xs", "bs"))
    fraction = pick("xf", "bf")
    micro = number(anon("RPAD", anon("LEFT", fraction, lit(6)), lit(6), text("0")))
    valid = exp.and_(exp.Between(this=hour, low=lit(0), high=lit(23)),
                     exp.Between(this=minute, low=lit(0), high=lit(59)),
                     exp.Between(this=second, low=lit(0), high=lit(59)))
    total = exp.Add(this=exp.Add(this=exp.Add(
        this=exp.Mul(this=hour, expression=lit(3_600_000_000)),
        expression=exp.Mul(this=minute, expression=lit(60_000_000))),
        expression=exp.Mul(this=second, expression=lit(1_000_000))), expression=micro)
    return total, valid
