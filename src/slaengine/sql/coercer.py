"""The steps that turn an export's raw columns into the typed `leads` relation (DuckDB).

Datetime fields come out as epoch microseconds (BIGINT): the decisions query is compiled
with `datetime_micros`, so no value is turned into a timestamp and back.

For each field: the raw value (from its column, else a column named as the field, as the
Python coercer reads it), then the value per the field's type and the raw value's kind, whether
it was an error, and which column it came from. Common spellings take a fast path read by
DuckDB's own parsers (`FAST`); the rest goes through the full grammar of `coerce.py`
(`coercion.py`, `isotime.py`), written inline in a CASE so that it costs nothing for rows
that do not need it, with each intermediate value bound once (`let`).
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import sqlglot.expressions as exp

from ..agreement.diagnostics import UsageError
from ..agreement.models import AgreementSpec
from .coercion import (
    DAY_US,
    FAST,
    WHITESPACE,
    boolean_text,
    in_datetime_range,
    json_text,
    list_text,
    number_parts,
    number_text,
    strip,
)
from .dialects import anon, cast, lit
from .isotime import (
    case,
    date_numbers,
    date_parts,
    date_value,
    full_match,
    micros_of,
    separator_position,
    text,
    time_parts,
)
from .query import Query
from .typed import from_json, from_typed
from .zones import ZONE_VARIABLE, LocalTime

Expr = exp.Expr
STEPS: Final = ("source", "kind", "text", "fast", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8",
                "s9", "s10", "parse", "check", "final", "report")
# Text with no whitespace Python's strip() would remove at either end. Spelled out from
# WHITESPACE: RE2's `\\s` leaves out the vertical tab, which strip() removes.
_WS: Final = "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE)
TIDY: Final = f"(?s)[^{_WS}](?:.*[^{_WS}])?"


@dataclass
class Coerced:
    """One field's output columns."""

    value: str | None  # None: the field's value is not needed, only whether it is valid
    error: str
    raw: str
    first: str  # whether the value came from the field's column (else from its name)
    floaty: str | None
    bad: str | None  # the row must be evaluated in Python: SQL cannot reproduce the value
    fallible: bool = True  # False: the error column is constant FALSE (any value is valid)


def _present(value: Expr) -> Expr:
    return exp.Not(this=exp.Is(this=value, expression=exp.null()))


def _printable_ends(value: Expr) -> Expr:
    """Whether text starts and ends with printable ASCII, so strip() leaves it as it is.

    Most values pass this test, which costs a fraction of the TIDY pattern's match; the
    rest still go through that match. Its characters are code points, not graphemes.
    """
    def printable(char: Expr) -> Expr:
        return exp.Between(this=anon("ORD", char), low=lit(33), high=lit(126))

    return exp.and_(printable(value), printable(anon("ARRAY_EXTRACT", value.copy(), lit(-1))))


def _false_if_null(value: Expr) -> Expr:
    return exp.Coalesce(this=value, expressions=[exp.false()])


class SqlCoercer:
    def __init__(self, spec: AgreementSpec, q: Query, raw_kinds: Mapping[str, str],
                 columns: Mapping[str, str], needed: Sequence[str],
                 fast_only: Container[str] = ()):
        self.spec, self.q, self.raw_kinds, self.columns = spec, q, dict(raw_kinds), columns
        self.needed = set(needed)
        # Fields whose text the file only ever spells the fast way (or leaves blank): the
        # full grammar is left out (its columns fold to constants); should a value prove
        # otherwise after all, its row goes to the Python engine.
        self.fast_only = fast_only
        self.tz = spec.timezone
        self.local = LocalTime(spec.timezone)
        self.kinds: dict[str, str] = {}
        self.c: dict[str, dict[str, str]] = {f: {} for f in spec.fields}
        self.steps: dict[str, list[tuple[str, Expr]]] = {
            s: [] for s in STEPS}
        self.fallible: set[str] = set()

    def put(self, step: str, field: str, role: str, value: Expr) -> None:
        self.c[field][role] = self.q.name(f"c__{role}__{field}")
        self.steps[step].append((self.c[field][role], value))

    def col(self, field: str, role: str) -> Expr:
        return self.q.col(self.c[field][role])

    def source(self, name: str) -> tuple[Expr, Expr, str]:
        column = self.columns[name]
        found = [c for c in dict.fromkeys((column, name)) if c in self.raw_kinds]
        if not found:
            return exp.null(), exp.true(), "none"
        kinds = {self.raw_kinds[c] for c in found}
        if len(kinds) > 1:
            raise UsageError(f"field `{name}` is read from columns of different types "
                             f"({', '.join(found)}); use --engine python")
        values = [self.present(c) for c in found]
        value = values[0] if len(values) == 1 else exp.Coalesce(this=values[0],
                                                                  expressions=values[1:])
        return value, (_present(values[0]) if len(found) > 1 else exp.true()), kinds.pop()

    def present(self, column: str) -> Expr:
        # A JSON null is already SQL NULL: `json_transform` gives NULL for it.
        return self.q.col(column)

    def build(self) -> dict[str, Coerced]:
        for name, spec in self.spec.fields.items():
            if spec.type == "string" and name not in self.needed and self.kinds_of(name) in (
                    "text", "none"):
                continue  # any text is a valid string: nothing to check, nothing to report
            raw, first, kind = self.source(name)
            self.kinds[name] = kind
            self.put("source", name, "raw", raw)
            self.put("source", name, "first", first)
            if kind in ("text", "json"):
                if kind == "json":  # the JSON type, read once
                    self.put("kind", name, "jt", anon("JSON_TYPE", self.col(name, "raw")))
                    self.put("text", name, "t", case((exp.EQ(
                        this=self.col(name, "jt"), expression=text("VARCHAR")),
                        json_text(self.col(name, "raw")))))
                    value = self.col(name, "t")
                else:
                    value = self.col(name, "raw")
                if spec.type in FAST:
                    # The fast path's text has no whitespace to strip.
                    self.put("fast", name, "fast", _false_if_null(full_match(value,
                                                                             FAST[spec.type])))
                    self.put("s1", name, "s", case((self.col(name, "fast"), value),
                                                   default=strip(value)))
                else:
                    self.put("s1", name, "s", case((_printable_ends(value), value),
                                                   (full_match(value, TIDY), value),
                                                   default=strip(value)))
        for name in self.kinds:
            self.finish(name)
        for step in STEPS:
            self.q.add(self.steps[step])
        return {n: Coerced(self.c[n].get("value"), self.c[n]["error"], self.c[n]["report"],
                           self.c[n]["first"], self.c[n].get("floaty"), self.c[n].get("bad"),
                           n in self.fallible)
                for n in self.kinds}

    def kinds_of(self, name: str) -> str:
        return self.source(name)[2]

    # ---- value, error, report

    def finish(self, name: str) -> None:
        value, ok, floaty, bad = self.convert(name)
        # Text read as text, and typed values of the field's own type, are always valid:
        # a constant error column costs nothing and lets callers skip the field.
        never = (self.kinds[name] == "none" or ok == exp.true() or (
            self.kinds[name] == "text" and self.spec.fields[name].type == "string"))
        self.put("check", name, "ok", _false_if_null(ok))
        ok = self.col(name, "ok")
        raw = self.col(name, "raw")
        s = self.c[name].get("s")
        blank = exp.EQ(this=self.q.col(s), expression=text("")) if s else exp.false()
        error: Expr = exp.false()
        if not never:
            self.fallible.add(name)
            error = exp.and_(_present(raw), exp.Not(this=exp.Paren(this=_false_if_null(ok))),
                             exp.Not(this=_false_if_null(blank)))
        if name in self.needed:
            self.put("final", name, "value", case((ok, value)))
        self.put("final", name, "error", error)
        if floaty is not None and name in self.needed:
            self.put("final", name, "floaty", _false_if_null(floaty))
        if "unexpected" in self.c[name]:
            unexpected = self.col(name, "unexpected")
            bad = unexpected if bad is None else exp.or_(bad, unexpected)
        if bad is not None:
            self.put("final", name, "bad", _false_if_null(bad))
        report = cast(raw, "VARCHAR") if self.kinds[name] == "json" else raw
        self.put("report", name, "report", case((self.col(name, "error"), report)))

    def convert(self, name: str) -> tuple[Expr, Expr, Expr | None, Expr | None]:
        """(value, valid, float-ness, needs Python) of a field's raw value."""
        kind, field_type = self.kinds[name], self.spec.fields[name].type
        raw = self.col(name, "raw")
        if kind == "none":
            return exp.null(), exp.false(), exp.false() if field_type == "number" else None, None
        if kind in ("text", "json"):
            from_text = self.from_text(name, field_type)
            if kind == "text":
                return from_text
            return from_json(field_type, raw, self.col(name, "jt"), from_text)
        if field_type == "datetime" and kind in ("timestamp", "date"):
            self.put("s8", name, "wall", anon("EPOCH_US", cast(raw, "TIMESTAMP")))
            us = self.local_steps(name, exp.null(), self.col(name, "wall"))
            return us, _false_if_null(in_datetime_range(us)), None, None
        return from_typed(name, field_type, kind, raw)

    def gate(self, step: str, name: str, role: str, condition: Expr, value: Expr) -> Expr:
        """A column computed only where `condition` holds (NULL elsewhere, at no cost)."""
        self.put(step, name, role, case((condition, value)))
        return self.col(name, role)

    def from_text(self, name: str, field_type: str) -> tuple[Expr, Expr, Expr | None,
                                                             Expr | None]:
        s = self.col(name, "s")
        if field_type == "string":
            return exp.Nullif(this=s, expression=text("")), _present(s), None, None
        if field_type == "boolean":
            value, ok = boolean_text(s)
            return value, ok, None, None
        if field_type == "list":
            return list_text(s), exp.NEQ(this=s, expression=text("")), None, None
        fast = self.col(name, "fast")
        self.put("s2", name, "slow", exp.and_(exp.Not(this=fast), _false_if_null(
            exp.NEQ(this=s, expression=text("")))))
        slow: Expr = self.col(name, "slow")
        if name in self.fast_only:
            self.c[name]["unexpected"] = self.c[name]["slow"]
            slow = exp.false()
        if field_type in ("integer", "number"):
            parts = self.gate("s3", name, "p", slow, number_parts(s))
            value, ok, floaty = number_text(s, parts, field_type == "integer")
            quick: Expr = exp.TryCast(this=s, to=exp.DataType.build("BIGINT"))
            if field_type == "number":
                quick = cast(quick, "DOUBLE")
            for role, fast_value, slow_value in (("n_value", quick, value),
                                                 ("n_ok", exp.true(), ok),
                                                 ("n_float", exp.false(), floaty)):
                self.put("s4", name, role, case((fast, fast_value), (slow, slow_value)))
            return (self.col(name, "n_value"), self.col(name, "n_ok"),
                    self.col(name, "n_float") if field_type == "number" else None, None)
        if field_type == "date":
            size = anon("STRLEN", s)
            parts = self.gate("s3", name, "d", slow, date_parts(s))
            numbers = {k: self.gate("s4", name, f"n_{k}", slow, v)
                       for k, v in date_numbers(parts, size).items()}
            quick = case((exp.GTE(this=s, expression=text("0001")),
                          exp.TryCast(this=s, to=exp.DataType.build("DATE"))))
            sized = exp.In(this=size, expressions=[lit(7), lit(8), lit(10)])
            day = self.gate("s5", name, "day", exp.or_(fast, slow), case(
                (fast, quick), (sized, date_value(numbers))))
            return day, _present(day), None, None
        us = self.datetime_text(name, s, fast, slow)
        ok = exp.and_(_present(us), _false_if_null(in_datetime_range(us)))
        return us, ok, None, None

    def datetime_text(self, name: str, s: Expr, fast: Expr, slow: Expr) -> Expr:
        """Epoch microseconds of date-time text: DuckDB parses the common spellings; the
        rest follows `datetime.fromisoformat(text.upper())` (see `isotime.py`)."""
        aware_text = exp.or_(*(exp.Like(this=s, expression=text(p))
                               for p in ("%Z", "%+__:__", "%-__:__")))
        aware = self.gate("s3", name, "f_aware", fast, aware_text)
        inst_f = self.gate("s4", name, "f_inst", exp.and_(fast, aware), anon(
            "EPOCH_US", exp.TryCast(this=s, to=exp.DataType.build("TIMESTAMPTZ"))))
        wall_f = self.gate("s4", name, "f_wall", exp.and_(fast, exp.Not(this=aware)), anon(
            "EPOCH_US", exp.TryCast(this=s, to=exp.DataType.build("TIMESTAMP"))))
        u = self.gate("s3", name, "u", slow, anon("UPPER", s))
        pos = self.gate("s4", name, "pos", slow, separator_position(u))
        rest = anon("SUBSTRING", u, exp.Add(this=pos, expression=lit(2)))
        dp = self.gate("s5", name, "dp", slow, date_parts(anon("LEFT", u, pos)))
        pieces = self.gate("s5", name, "tz", slow, anon(
            "REGEXP_EXTRACT", rest, text("^([^Z+-]*)(?:([Z+-])(.*))?$"),
            exp.Array(expressions=[text("time"), text("sign"), text("zone")])))
        tp = self.gate("s6", name, "tp", slow, time_parts(_get(pieces, "time")))
        zp = self.gate("s6", name, "zp", slow, time_parts(_get(pieces, "zone")))
        numbers = {k: self.gate("s6", name, f"n_{k}", slow, v)
                   for k, v in date_numbers(dp, pos).items()}
        clock, clock_ok = micros_of(tp)
        offset, offset_ok = micros_of(zp)
        sign, zone = _get(pieces, "sign"), _get(pieces, "zone")
        has_time = exp.GT(this=anon("STRLEN", u), expression=pos)
        zone_ok = case(
            (exp.EQ(this=sign, expression=text("")), exp.true()),
            (exp.EQ(this=sign, expression=text("Z")), exp.EQ(this=zone, expression=text(""))),
            default=exp.and_(_matched(zp), offset_ok,
                             exp.LT(this=offset, expression=lit(DAY_US))))
        signed = case((exp.EQ(this=sign, expression=text("-")),
                       exp.Neg(this=exp.Paren(this=offset))),
                      (exp.EQ(this=sign, expression=text("+")), offset), default=lit(0))
        day = self.gate("s7", name, "day", slow, date_value(numbers))
        clock_us = self.gate("s7", name, "clock", slow, case((has_time, clock), default=lit(0)))
        valid = self.gate("s7", name, "valid", slow, exp.and_(
            exp.GTE(this=pos, expression=lit(0)),
            case((has_time, exp.and_(_matched(tp), clock_ok, zone_ok)), default=exp.true())))
        zone_us = self.gate("s7", name, "zone", slow, case(
            (exp.and_(has_time, exp.NEQ(this=sign, expression=text(""))), signed)))
        good = exp.and_(slow, _false_if_null(valid), _present(day))
        wall_s = exp.Add(this=anon("EPOCH_US", cast(day, "TIMESTAMP")), expression=clock_us)
        self.put("s8", name, "inst", exp.Coalesce(this=inst_f, expressions=[case(
            (exp.and_(good, _present(zone_us)), exp.Sub(this=wall_s, expression=zone_us)))]))
        self.put("s8", name, "wall", exp.Coalesce(this=wall_f, expressions=[case(
            (exp.and_(good, _null(zone_us)), wall_s.copy()))]))
        return self.local_steps(name, self.col(name, "inst"), self.col(name, "wall"))

    def local_steps(self, name: str, inst: Expr, wall: Expr) -> Expr:
        """`inst`, else the wall time read in the agreement's timezone (see `zones.py`)."""
        local = self.local
        entry = self.gate("s9", name, "zone_entry", _present(wall), local.entry(wall))
        later = self.gate("s9", name, "later", _present(wall), local.icu(wall))
        earlier = self.gate("s10", name, "earlier", _present(later), local.earlier_offset(later))
        self.put("parse", name, "us", exp.Coalesce(this=inst, expressions=[case(
            (_present(entry), local.inside(wall, entry)),
            (_present(later), local.outside(wall, later, earlier)))]))
        return self.col(name, "us")


_DATE_KEYS: Final = ("year", "month", "day", "week", "weekday", "is_week", "refused")


def _fields(**values: Expr) -> list[Expr]:
    return [exp.PropertyEQ(this=exp.to_identifier(k), expression=v) for k, v in values.items()]


def _get(struct: Expr, name: str) -> Expr:
    return anon("STRUCT_EXTRACT", struct, text(name))


def _null(value: Expr) -> Expr:
    return exp.Is(this=value, expression=exp.null())


def _matched(parts: Expr) -> Expr:
    """Whether a time pattern matched (the hour is there in one of its spellings)."""
    hour = exp.Concat(expressions=[anon("STRUCT_EXTRACT", parts, text("xh")),
                                   anon("STRUCT_EXTRACT", parts, text("bh"))])
    return exp.NEQ(this=hour, expression=text(""))


__all__ = ["ZONE_VARIABLE", "Coerced", "SqlCoercer"]
