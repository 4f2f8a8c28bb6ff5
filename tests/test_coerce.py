"""Coercing lead values to the declared field types, and column mappings."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slaengine import UsageError
from slaengine.agreement.models.sections import FieldSpec
from slaengine.evaluate.coerce import Coercer, RecordError, show

AMS = ZoneInfo("Europe/Amsterdam")
TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "list")


def spec(type_: str, **extra: Any) -> FieldSpec:
    return FieldSpec.model_validate({"type": type_, **extra})


def coercer(**fields: str | FieldSpec) -> Coercer:
    return Coercer({name: spec(f) if isinstance(f, str) else f for name, f in fields.items()}, AMS)


def one(type_: str, value: Any) -> tuple[Any, list[RecordError]]:
    """The coerced value of one field (or `MISSING`) and the errors."""
    out, errors = coercer(f=type_)({"f": value})
    result = out.get("f")
    return (MISSING if result is None else result), errors


def same(result: tuple[dict[str, Any], list[RecordError]]) -> tuple[dict[str, Any],
                                                                    list[RecordError]]:
    """A coercion result compared by what it means: values present, and the errors."""
    return present(result[0]), result[1]


def present(out: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value (a null may stay in the output as None: still missing)."""
    return {k: v for k, v in out.items() if v is not None}


MISSING = object()


def ok(type_: str, value: Any) -> Any:
    result, errors = one(type_, value)
    assert errors == [], errors
    return result


def bad(type_: str, value: Any) -> RecordError:
    result, errors = one(type_, value)
    assert result is MISSING
    assert len(errors) == 1, errors
    return errors[0]


# ---------------------------------------------------------------- one type at a time


@pytest.mark.parametrize("type_", TYPES)
@pytest.mark.parametrize("value", [None, "", " ", "\t \n", "\u00a0"])
def test_blank_values_are_missing_without_error(type_: str, value: Any) -> None:
    assert one(type_, value) == (MISSING, [])


@pytest.mark.parametrize(("value", "expected"), [
    ("Acme", "Acme"), ("  Acme BV ", "Acme BV"), ("a\tb", "a\tb"), (12345, "12345"),
    (1234.0, "1234"), (12.5, "12.5"), (Decimal("0.10"), "0.10"), (date(2026, 1, 2), "2026-01-02"),
])
def test_string(value: Any, expected: str) -> None:
    assert ok("string", value) == expected


def test_string_keeps_values_outside_the_enum() -> None:
    c = coercer(industry=spec("string", enum=["software"]))
    assert c({"industry": "Software "}) == ({"industry": "Software"}, [])


@pytest.mark.parametrize(("value", "message"), [
    (True, "`true` is a boolean, not text"), ([1], "`[1]` is not a text value"),
    ({"a": 1}, '`{"a":1}` is not a text value'), (math.nan, "`nan` is not a text value"),
])
def test_string_errors(value: Any, message: str) -> None:
    assert bad("string", value).message == message


@pytest.mark.parametrize(("value", "expected"), [
    (1200, 1200), (-3, -3), (1200.0, 1200), ("1200", 1200), ("1,200", 1200), ("1 200", 1200),
    ("1\u00a0200", 1200), ("+5", 5), ("-3", -3), ("1200.0", 1200), ("1200.", 1200),
    (" 007 ", 7), ("1,234,567", 1234567), ("1e3", 1000), ("2.50e2", 250), (Decimal("12.0"), 12),
    ("9,007,199,254,740,991", 2**53 - 1), (-(2**53 - 1), -(2**53 - 1)),
])
def test_integer(value: Any, expected: int) -> None:
    result = ok("integer", value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(("value", "message"), [
    ("12.5", "`12.5` is not a whole number"), ("abc", "`abc` is not a whole number"),
    (12.5, "`12.5` is not a whole number"), (True, "`true` is a boolean, not a whole number"),
    ("12,5", "`12,5` is not a whole number"), ("1,20,0", "`1,20,0` is not a whole number"),
    ("1_000", "`1_000` is not a whole number"), ("٣", "`٣` is not a whole number"),
    ("nan", "`nan` is not a whole number"), (math.inf, "`inf` is out of range for a whole number"),
    ("1e5000", "`1e5000` is out of range for a whole number"), ("50-100", "`50-100` is not a whole number"),
    ("9" * 5000, "`" + "9" * 57 + "...` is out of range for a whole number"),
    ([3], "`[3]` is not a whole number"), (".", "`.` is not a whole number"), ("-", "`-` is not a whole number"),
    ("123456789012345678901234567890", "`123456789012345678901234567890` is out of range "
                                       "(whole numbers go up to ±9,007,199,254,740,991)"),
    (2**53, "`9007199254740992` is out of range (whole numbers go up to ±9,007,199,254,740,991)"),
])
def test_integer_errors(value: Any, message: str) -> None:
    assert bad("integer", value).message == message


@pytest.mark.parametrize(("value", "expected"), [
    (3, 3), (2.5, 2.5), ("1,200.50", 1200.5), ("1200.5", 1200.5), ("-3", -3), ("1e3", 1000.0),
    (".5", 0.5), ("  42 ", 42), (Decimal("1.25"), 1.25), ("1 200,", MISSING),
])
def test_number(value: Any, expected: Any) -> None:
    if expected is MISSING:
        assert bad("number", value).message == "`1 200,` is not a number"
        return
    result = ok("number", value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("value", "message"), [
    (math.nan, "`nan` is not a finite number"), (math.inf, "`inf` is not a finite number"),
    ("inf", "`inf` is not a number"), ("NaN", "`NaN` is not a number"),
    ("1e999", "`1e999` is not a finite number"), (False, "`false` is a boolean, not a number"),
    ("12,5", "`12,5` is not a number"), ("€12", "`€12` is not a number"),
])
def test_number_errors(value: Any, message: str) -> None:
    assert bad("number", value).message == message


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), (False, False), (1, True), (0, False), ("true", True), ("FALSE", False),
    ("Yes", True), ("no", False), ("y", True), ("N", False), ("1", True), ("0", False),
    ("t", True), ("F", False), (" yes ", True),
])
def test_boolean(value: Any, expected: bool) -> None:
    assert ok("boolean", value) is expected


@pytest.mark.parametrize("value", ["maybe", "on", "2", 2, 1.0, "ja", [True]])
def test_boolean_errors(value: Any) -> None:
    assert bad("boolean", value).message == f"`{show(value)}` is not a boolean (write true or false)"


def test_date() -> None:
    assert ok("date", "2026-11-02") == date(2026, 11, 2)
    assert ok("date", " 2026-11-02 ") == date(2026, 11, 2)
    assert ok("date", date(2026, 11, 2)) == date(2026, 11, 2)
    assert ok("date", datetime(2026, 11, 2)) == date(2026, 11, 2)  # a Parquet timestamp column


@pytest.mark.parametrize(("value", "message"), [
    ("2026-11-02T10:00", "`2026-11-02T10:00` is a datetime; write a date (YYYY-MM-DD)"),
    ("2026-11-02 00:00:00", "`2026-11-02 00:00:00` is a datetime; write a date (YYYY-MM-DD)"),
    (datetime(2026, 11, 2, 10), "`2026-11-02T10:00:00` is a datetime; write a date (YYYY-MM-DD)"),
    ("02/11/2026", "`02/11/2026` is not a date (write YYYY-MM-DD)"),
    ("2026-02-30", "`2026-02-30` is not a date (write YYYY-MM-DD)"),
    (20261102, "`20261102` is not a date (write YYYY-MM-DD)"),
])
def test_date_errors(value: Any, message: str) -> None:
    assert bad("date", value).message == message


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-02T10:00:00Z", datetime(2026, 11, 2, 10, tzinfo=UTC)),
    ("2026-11-02T10:00:00+01:00", datetime(2026, 11, 2, 9, tzinfo=UTC)),
    ("2026-11-02T10:00:00-05:30", datetime(2026, 11, 2, 15, 30, tzinfo=UTC)),
    ("2026-11-02 10:00:00", datetime(2026, 11, 2, 9, tzinfo=UTC)),  # CET, +01:00
    ("2026-07-02T10:00", datetime(2026, 7, 2, 8, tzinfo=UTC)),  # CEST, +02:00
    ("2026-11-02T10:00:00.123Z", datetime(2026, 11, 2, 10, 0, 0, 123000, tzinfo=UTC)),
    ("2026-11-02T10:00:00.1234567Z", datetime(2026, 11, 2, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2026-11-02t10:00:00z", datetime(2026, 11, 2, 10, tzinfo=UTC)),
    (" 2026-11-02T10:00:00Z ", datetime(2026, 11, 2, 10, tzinfo=UTC)),
    ("2026-11-02", datetime(2026, 11, 1, 23, tzinfo=UTC)),  # midnight in Amsterdam
    (date(2026, 11, 2), datetime(2026, 11, 1, 23, tzinfo=UTC)),
    (datetime(2026, 11, 2, 10), datetime(2026, 11, 2, 9, tzinfo=UTC)),
    (datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("America/New_York")),
     datetime(2026, 11, 2, 15, tzinfo=UTC)),
    # DST: an ambiguous wall time takes the first (summer) offset, one in the gap the offset
    # before the change, as `replace(tzinfo=...)` does (fold=0).
    ("2026-10-25 02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ("2026-03-29 02:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
])
def test_datetime(value: Any, expected: datetime) -> None:
    result = ok("datetime", value)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(("value", "message"), [
    ("11/03/2026 09:15", "`11/03/2026 09:15` is not a date and time (write e.g. "
                         "2026-11-02T10:00:00Z)"),
    ("yesterday", "`yesterday` is not a date and time (write e.g. 2026-11-02T10:00:00Z)"),
    ("2026-13-01T10:00:00Z", "`2026-13-01T10:00:00Z` is not a date and time (write e.g. "
                             "2026-11-02T10:00:00Z)"),
    (1730541600, "`1730541600` is a number, not a date and time (write e.g. "
                 "2026-11-02T10:00:00Z)"),
    (True, "`true` is a number, not a date and time (write e.g. 2026-11-02T10:00:00Z)"),
    (["2026-11-02"], '`["2026-11-02"]` is not a datetime (write e.g. 2026-11-02T10:00:00Z)'),
    ("0001-01-01T00:00:00", "`0001-01-01T00:00:00` is out of range for a datetime"),
    ("9999-12-31T23:59:59-05:00", "`9999-12-31T23:59:59-05:00` is out of range for a datetime"),
    # CPython's fromisoformat accepts these: a stray character before the zone, a NUL
    ("2026-11-02T10:00:00 Z", "`2026-11-02T10:00:00 Z` is not a date and time (write e.g. "
                              "2026-11-02T10:00:00Z)"),
    ("2026-11-02T10:00x+01:00", "`2026-11-02T10:00x+01:00` is not a date and time (write "
                                "e.g. 2026-11-02T10:00:00Z)"),
    ("2026-11-02T10:00:00Z\x00junk", "`2026-11-02T10:00:00Z\x00junk` is not a date and "
                                     "time (write e.g. 2026-11-02T10:00:00Z)"),
])
def test_datetime_errors(value: Any, message: str) -> None:
    assert bad("datetime", value).message == message


@pytest.mark.parametrize(("value", "expected"), [
    (["a", 1, None], ["a", 1, None]), (("a", "b"), ["a", "b"]), ("a; b;;c ", ["a", "b", "c"]),
    ("a, b,c", ["a", "b", "c"]), ("a,b; c", ["a,b", "c"]), ("solo", ["solo"]), (";", []),
    (5, [5]), ([], []),
])
def test_list(value: Any, expected: list[Any]) -> None:
    assert ok("list", value) == expected


def test_list_error() -> None:
    assert bad("list", {"a": 1}).message == ('`{"a":1}` is not a list (give the items as a '
                                                'list, or as text separated by `;`)')


def test_json_fast_path_copies_lists() -> None:
    """The record keeps its own list: a caller reusing its list changes nothing in it."""
    tags = ["a", "b"]
    out, _ = coercer(s="string", l="list")({"s": "Acme", "l": tags})
    assert out["l"] == tags and out["l"] is not tags
    tags.clear()
    assert out["l"] == ["a", "b"]


# ---------------------------------------------------------------- records


def test_record_errors_name_field_column_and_value() -> None:
    c = Coercer({"employees": spec("integer", source="NumberOfEmployees"),
                 "clicks": spec("integer")}, AMS)
    out, errors = c({"NumberOfEmployees": "lots", "clicks": "x", "Other": "ignored"})
    assert present(out) == {}
    assert errors == [
        RecordError("invalid-value", "`lots` is not a whole number", "employees", "NumberOfEmployees",
                    "lots"),
        RecordError("invalid-value", "`x` is not a whole number", "clicks", "clicks", "x"),
    ]
    assert errors[0].to_json() == {"code": "invalid-value", "message": "`lots` is not a whole number",
                                   "field": "employees", "column": "NumberOfEmployees",
                                   "value": "lots"}


def test_columns_mapping_then_source_then_field_name() -> None:
    fields = {"a": spec("string", source="A col"), "b": spec("string", source="B col"),
              "c": spec("string")}
    c = Coercer(fields, AMS, {"a": "Mapped A"})
    assert c.columns == {"a": "Mapped A", "b": "B col", "c": "c"}
    assert present(c({"Mapped A": "1", "A col": "x", "B col": "2", "c": "3"})[0]) == {
        "a": "1", "b": "2", "c": "3"}
    # The field name is the fallback when the column is absent or null, never otherwise.
    assert present(c({"a": "1", "b": "2", "B col": None})[0]) == {"a": "1", "b": "2"}
    assert present(c({"Mapped A": "", "a": "1"})[0]) == {}
    assert present(c({"Mapped A": None, "a": "x", "B col": 5, "b": True})[0]) == {
        "a": "x", "b": "5"}


def test_error_names_the_column_the_value_came_from() -> None:
    c = Coercer({"n": spec("integer", source="N")}, AMS)
    assert c({"n": "x"})[1][0].column == "n"
    assert c({"N": "x", "n": "1"})[1][0].column == "N"


def test_only_declared_fields_with_values_come_out() -> None:
    c = coercer(a="string", b="integer")
    out, errors = c({"a": "x", "b": None, "zzz": 1, "": 2})
    assert (present(out), errors) == ({"a": "x"}, [])
    assert set(out) <= {"a", "b"}
    assert c({}) == ({}, [])


def test_key_field() -> None:
    assert coercer(a="string").key_field is None
    assert Coercer({"a": spec("string"), "id": spec("string", key=True)}, AMS).key_field == "id"


def test_mapping_that_names_an_unknown_field_is_refused() -> None:
    with pytest.raises(UsageError, match=r"names `emial`, which is not a field of the agreement; "
                                         r"did you mean `email`\?"):
        Coercer({"email": spec("string")}, AMS, {"emial": "Email"})


def test_other_mappings_and_non_mappings() -> None:
    c = coercer(a="integer")
    assert c(MappingProxyType({"a": "1"})) == ({"a": 1}, [])
    for raw in ([1, 2], "text", None, 5):
        out, errors = c(raw)  # type: ignore[arg-type]
        assert out == {}
        assert [e.code for e in errors] == ["unreadable-record"]
        assert errors[0].message.endswith("is not a record (an object of field values)")


def test_layouts_change_record_to_record() -> None:
    c = coercer(a="integer", b="string", t="datetime")
    records: list[dict[str, Any]] = [
        {"a": 1, "b": "x"}, {"b": "x", "a": 1}, {"a": "2"}, {"a": 1, "b": "x", "extra": 1},
        {"t": "2026-11-02"}, {}, {"a": 1, "b": "x"}, {"a": None, "b": " "},
    ]
    for raw in records * 2:
        assert same(c(raw)) == same(c._generic(raw))
    assert c({"b": "x", "a": 1}) == ({"a": 1, "b": "x"}, [])


def test_too_many_layouts_fall_back_to_the_generic_path() -> None:
    c = coercer(a="integer")
    for i in range(100):
        assert c({"a": i, f"k{i}": i}) == ({"a": i}, [])
    assert "64 layouts" in repr(c)


def test_layout_with_many_or_odd_keys() -> None:
    c = coercer(a="integer")
    wide = {f"col{i}": "" for i in range(1500)} | {"a": "3"}
    assert c(wide) == ({"a": 3}, [])
    assert c({1: "x", "a": 2}) == ({"a": 2}, [])  # type: ignore[dict-item]
    assert c({"a'\"\\\n": 1, "a": 2}) == ({"a": 2}, [])


def test_mapping_whose_lookup_fails_does_not_loop() -> None:
    class Broken(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise KeyError(key)

        def __iter__(self) -> Iterator[str]:
            return iter(["a"])

        def __len__(self) -> int:
            return 1

    assert coercer(a="integer")(Broken()) == ({}, [])


def test_input_records_are_never_changed() -> None:
    c = coercer(a="integer", b="string")
    assert c({"a": 1, "b": "x"}) == ({"a": 1, "b": "x"}, [])  # compiles this layout
    raw = defaultdict(str, {"a": "2", "c": "y"})  # same size, other keys: lookups would add them
    assert c(raw) == ({"a": 2}, [])
    assert raw == {"a": "2", "c": "y"}
    plain = {"a": " 3 ", "b": " x "}
    assert c(plain) == ({"a": 3, "b": "x"}, [])
    assert plain == {"a": " 3 ", "b": " x "}


def test_one_coercer_shared_by_threads() -> None:
    c = coercer(a="integer", b="string", t="datetime")
    records = [{"a": i, "b": f" {i} "} if i % 3 else {"t": "2026-11-02", "a": str(i)}
               for i in range(3000)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(c, records))
    assert results == [c._generic(r) for r in records]


def test_record_error_to_json_is_always_serialisable() -> None:
    odd = RecordError("invalid-value", "m", "f", "c",
                      [math.nan, {1: date(2026, 1, 2)}, 10**30, object(), (1, 2)])
    data = orjson.loads(orjson.dumps(odd.to_json()))
    assert data["value"][0] == "nan"
    assert data["value"][1] == {"1": "2026-01-02"}
    assert data["value"][2] == str(10**30)


def test_show() -> None:
    assert show("a`b\nc") == "a'b\\nc"
    assert show("x" * 100) == "x" * 57 + "..."
    assert show(None) == "null"
    assert show(10**5000) == "<int>"


# ---------------------------------------------------------------- properties

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
FIELDS = {f"{t}_{i}": spec(t) for t in TYPES for i in range(2)}
ALL = Coercer(FIELDS, AMS)
MAPPED = Coercer(FIELDS, AMS, {name: f"Col {name}" for name in list(FIELDS)[::2]})
keys = st.sampled_from([*FIELDS, *(f"Col {n}" for n in FIELDS), "other"])


@given(st.dictionaries(keys, JSON, max_size=20))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_never_raises_and_never_loses_a_value(raw: dict[str, Any]) -> None:
    before = repr(raw)
    for c in (ALL, MAPPED):
        out, errors = c(raw)
        assert repr(raw) == before
        assert same((out, errors)) == same(c._generic(raw))
        assert set(out) <= set(FIELDS)
        out = present(out)
        errored = {e.field for e in errors}
        for name in FIELDS:
            value = raw.get(c.columns[name])
            if value is None:
                value = raw.get(name)
            blank = value is None or (isinstance(value, str) and not value.strip())
            # Exactly one of: a value out, an error, or a blank (missing) input.
            assert (name in out) + (name in errored) + (blank and name not in out) == 1, name
        for e in errors:
            assert e.code == "invalid-value" and "\n" not in e.message
            orjson.dumps(e.to_json())


@given(st.integers(-(2**53 - 1), 2**53 - 1))
def test_any_int_survives_its_text(n: int) -> None:
    assert ok("integer", str(n)) == n
    assert ok("integer", f"{n:,}") == n
    assert ok("integer", f" {n:,}.000 ") == n
    assert ok("number", f"{n:,}") == n


@given(st.one_of(st.integers(min_value=2**53), st.integers(max_value=-(2**53))))
def test_ints_beyond_the_safe_range_are_errors_not_crashes(n: int) -> None:
    for kind in ("integer", "number"):
        assert "out of range" in bad(kind, n).message
        assert "out of range" in bad(kind, f"{n:,}").message


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_float_survives_its_text(x: float) -> None:
    assert ok("number", repr(x)) == x
    assert ok("number", x) == x


@given(st.datetimes(timezones=st.timezones() | st.just(timezone(timedelta(hours=-3)))))
def test_any_aware_datetime_is_the_same_instant(value: datetime) -> None:
    try:
        expected = value.astimezone(UTC)
    except OverflowError:
        return
    for text in (value.isoformat(), value.isoformat(sep=" "),
                 value.isoformat().replace("+00:00", "Z")):
        result = ok("datetime", text)
        assert result == expected
        assert result.tzinfo is UTC


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1)))
def test_naive_datetimes_are_wall_time_in_the_agreement_timezone(value: datetime) -> None:
    # Text carries no `fold`: an ambiguous or skipped wall time reads as fold=0 (PEP 495).
    expected = value.replace(fold=0, tzinfo=AMS).astimezone(UTC)
    assert ok("datetime", value.isoformat()) == expected


@given(st.dates())
def test_any_date_survives_its_text(value: date) -> None:
    assert ok("date", value.isoformat()) == value
