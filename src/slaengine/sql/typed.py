"""Coercion of JSON values and typed Parquet columns, as the Python coercer takes them.

JSON gives text, whole numbers, doubles, booleans, arrays and objects; Parquet gives typed
columns. Text goes through the text rules (`coercer.SqlCoercer.from_text`); the rest follows
`coerce.py` type by type: a whole-number double is an integer, 0 and 1 are booleans, a
number where text is expected becomes its text, anything else is an error.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from ..agreement.diagnostics import UsageError
from ..evaluate.coerce import MAX_SAFE_INTEGER
from .coercion import json_is, json_text
from .dialects import anon, cast, lit
from .isotime import case, text

Expr = exp.Expr
Converted = tuple[Expr, Expr, "Expr | None", "Expr | None"]


def try_cast(value: Expr, to: str) -> Expr:
    """NULL where the value does not fit: a value that is not valid is NULL in the end, and a
    CAST that fails would stop the whole query (JSON's 1e308 read as a whole number)."""
    return exp.TryCast(this=value, to=exp.DataType.build(to))


def _whole(value: Expr) -> Expr:
    return exp.EQ(this=value, expression=anon("TRUNC", value))


def _number_text(value: Expr) -> tuple[Expr, Expr]:
    """A double as Python's `to_string` writes it (`str(int(v))` when whole, else `repr`),
    and whether SQL cannot (a whole number past 2**63)."""
    integral = _whole(value)
    big = exp.GTE(this=anon("ABS", value), expression=lit(2**63))
    written = case((integral, cast(try_cast(value, "HUGEINT"), "VARCHAR")),
                   default=cast(value.copy(), "VARCHAR"))
    return written, exp.and_(integral, big)


def _is(kind: Expr, *names: str) -> Expr:
    return exp.In(this=kind, expressions=[text(n) for n in names])


def from_json(field_type: str, raw: Expr, kind: Expr, from_text: Converted) -> Converted:
    """`kind` is the value's JSON type (read once per value)."""
    value_t, ok_t, floaty_t, bad_t = from_text
    is_text = _is(kind, "VARCHAR")
    whole = _is(kind, "UBIGINT", "BIGINT")
    double = _is(kind, "DOUBLE")
    as_double = exp.TryCast(this=raw, to=exp.DataType.build("DOUBLE"))
    as_int = exp.TryCast(this=raw, to=exp.DataType.build("HUGEINT"))
    if field_type == "string":
        written, bad = _number_text(as_double)
        value = case((is_text, value_t), (whole, cast(as_int, "VARCHAR")), (double, written))
        ok = case((is_text, ok_t), default=exp.or_(whole, double))
        return value, ok, None, exp.and_(double, bad)
    if field_type in ("integer", "number"):
        in_range = exp.Between(this=as_int, low=lit(-MAX_SAFE_INTEGER), high=lit(MAX_SAFE_INTEGER))
        if field_type == "integer":
            whole_double = exp.and_(_whole(as_double), exp.LTE(
                this=anon("ABS", as_double), expression=lit(MAX_SAFE_INTEGER)))
            value = case((is_text, value_t), (whole, try_cast(as_int, "BIGINT")),
                         (double, try_cast(as_double, "BIGINT")))
            ok = case((is_text, ok_t), (whole, in_range), (double, whole_double),
                      default=exp.false())
            return value, ok, None, None
        value = case((is_text, value_t), (whole, cast(as_int, "DOUBLE")), (double, as_double))
        ok = case((is_text, ok_t), (whole, in_range), (double, exp.true()), default=exp.false())
        floaty = case((is_text, floaty_t if floaty_t is not None else exp.false()),
                      default=double)
        return value, ok, floaty, None
    if field_type == "boolean":
        boolean = _is(kind, "BOOLEAN")
        value = case((is_text, value_t), (boolean, cast(raw, "BOOLEAN")),
                     (whole, exp.EQ(this=as_int, expression=lit(1))))
        ok = case((is_text, ok_t), (boolean, exp.true()),
                  (whole, exp.In(this=as_int, expressions=[lit(0), lit(1)])), default=exp.false())
        return value, ok, None, None
    if field_type == "list":
        item = exp.to_identifier("item")
        items = anon("LIST_TRANSFORM", cast(raw, "JSON[]"), exp.Lambda(
            this=case((json_is(exp.column(item), "VARCHAR"), json_text(exp.column(item)))),
            expressions=[item]))
        scalar = exp.Array(expressions=[cast(exp.null(), "VARCHAR")])
        value = case((is_text, value_t), (_is(kind, "ARRAY"), items),
                     (_is(kind, "OBJECT"), exp.null()), default=scalar)
        ok = case((is_text, ok_t), default=exp.Not(this=_is(kind, "OBJECT")))
        return value, ok, None, None
    # date and datetime take only text
    return value_t, case((is_text, ok_t), default=exp.false()), None, bad_t


def from_typed(name: str, field_type: str, kind: str, raw: Expr) -> Converted:
    refuse = UsageError(f"field `{name}` ({field_type}) is read from a Parquet column of "
                        f"type {kind}, which the duckdb engine does not coerce; "
                        "use --engine python")
    finite = anon("ISFINITE", cast(raw, "DOUBLE"))
    never: Converted = (exp.null(), exp.false(), None, None)
    if field_type == "string":
        if kind == "int":
            return cast(raw, "VARCHAR"), exp.true(), None, None
        if kind == "float":
            written, bad = _number_text(raw)
            return written, finite, None, exp.and_(finite, bad)
        if kind == "date":
            return anon("STRFTIME", raw, text("%Y-%m-%d")), exp.true(), None, None
        if kind in ("bool", "list"):
            return never
        raise refuse
    if field_type in ("integer", "number"):
        floaty = exp.false() if field_type == "number" else None
        if kind == "int":
            ok: Expr = exp.Between(this=raw, low=lit(-MAX_SAFE_INTEGER),
                                   high=lit(MAX_SAFE_INTEGER))
            target = "BIGINT" if field_type == "integer" else "DOUBLE"
            return try_cast(raw, target), ok, floaty, None
        if kind == "float":
            if field_type == "number":
                return cast(raw, "DOUBLE"), finite, exp.true(), None
            ok = exp.and_(finite, _whole(raw), exp.LTE(this=anon("ABS", raw),
                                                       expression=lit(MAX_SAFE_INTEGER)))
            return case((ok, cast(raw, "BIGINT"))), ok, None, None
        if kind == "bool":
            return exp.null(), exp.false(), floaty, None
        raise refuse
    if field_type == "boolean":
        if kind == "bool":
            return raw, exp.true(), None, None
        if kind == "int":
            return exp.EQ(this=raw, expression=lit(1)), exp.In(
                this=raw, expressions=[lit(0), lit(1)]), None, None
        if kind == "float":
            return never
        raise refuse
    if field_type == "date":
        if kind == "date":
            return raw, exp.true(), None, None
        if kind == "timestamp":
            midnight = exp.EQ(this=cast(raw, "TIME"), expression=cast(text("00:00:00"), "TIME"))
            return cast(raw, "DATE"), midnight, None, None
        if kind in ("int", "float", "bool"):
            return never
        raise refuse
    if field_type == "datetime":
        if kind == "timestamptz":
            return anon("EPOCH_US", raw), exp.true(), None, None
        if kind in ("int", "float", "bool"):
            return never
        raise refuse
    if kind == "list":
        return raw, exp.true(), None, None
    if kind in ("int", "float", "bool"):
        return exp.Array(expressions=[cast(exp.null(), "VARCHAR")]), exp.true(), None, None
    raise refuse
