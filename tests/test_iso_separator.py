"""Between the date and the time of datetime text: `T`, `t` or a space, and nothing else.

CPython's `datetime.fromisoformat` (3.11) takes any one character there, so `2026-11-19-10:00`
and `2026-11-19+10:00` (XML Schema dates at UTC-10:00 and UTC+10:00) would read as 10:00 wall
time, and `2026-11-19110:00` or `2026-11-19#10:00` as well. Every reader of datetime text
refuses them with an `invalid-value` error: the coercer's generated fast path and its slow
path, the verdicts-only path of `Agreement.evaluate` (which hands such text to the full path),
and the SQL the DuckDB engine runs (`sql/isotime.py`), record for record with Python.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slaengine
from slaengine.agreement.models.sections import FieldSpec
from slaengine.evaluate.coerce import Coercer, RecordError, show
from slaengine.evaluate.early import instant_text
from slaengine.evaluate.evaluator import Engine, _Habit
from slaengine.evaluate.isotext import bad_separator, date_end
from slaengine.evaluate.leads import read_leads
from slaengine.sql.duckdb.runner import DuckRun

ROOT = Path(__file__).resolve().parent.parent
AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
UTC = dt.UTC
HINT = ("is not a date and time: write T or a space between the date and the time "
        "(e.g. 2026-11-02T10:00:00Z)")

# Text CPython reads as a date and a time, with something else than T, t or a space between.
BAD = [
    "2026-11-19-10:00", "2026-11-19+10:00", "2026-11-19110:00", "2026-11-19#10:00",
    "2026-11-19_10:00", "2026-11-19/10:00", "2026-11-19:10:00", "2026-11-19x10:00:00Z",
    "2026-11-19Z10:00", "2026-11-19-10:00:00+01:00", "2026-11-19é10:00", "2026-11-19\xa010:00",
    "2026-11-19\u300010:00", "2026-11-19\t10:00", "2026-11-19\n10:00",
    "2026-11-19-10:00:00.123456789Z",
    # basic dates and ISO week dates: the separator is found where CPython finds it
    "20261119-1000", "20261119x10:00", "2026-W47-4x10:00", "2026-W47-4-10:00",
    "2026-W47-10:00", "2026-W47x10", "2026W474-10:00", "2026W47x10", "2026W47-10:00Z",
    # lower case, read upper-cased by the slow path
    "2026-w47-4x10:00", "2026w474-10",
]
# (text, the instant it is); November in Amsterdam is UTC+01:00.
GOOD = [
    ("2026-11-19T10:00", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    ("2026-11-19t10:00", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    ("2026-11-19 10:00", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    ("2026-11-19T10:00:00Z", dt.datetime(2026, 11, 19, 10, tzinfo=UTC)),
    ("2026-11-19t10:00:00z", dt.datetime(2026, 11, 19, 10, tzinfo=UTC)),
    ("2026-11-19 10:00:00-10:00", dt.datetime(2026, 11, 19, 20, tzinfo=UTC)),
    ("2026-11-19T10:00:00.1234567+01:00", dt.datetime(2026, 11, 19, 9, 0, 0, 123456, UTC)),
    ("2026-11-19 10:00:00,5Z", dt.datetime(2026, 11, 19, 10, 0, 0, 500000, UTC)),
    ("2026-11-19T10", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    ("20261119T1000", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    ("20261119 100000Z", dt.datetime(2026, 11, 19, 10, tzinfo=UTC)),
    ("2026-W47-4T10:00", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    ("2026-W47-4 10:00+01:00", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    ("2026-W47T10:00", dt.datetime(2026, 11, 16, 9, tzinfo=UTC)),
    ("2026W474T10", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    ("2026W47t1000Z", dt.datetime(2026, 11, 16, 10, tzinfo=UTC)),
    ("2026-w47-4t10:00", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    (" 2026-11-19T10:00 ", dt.datetime(2026, 11, 19, 9, tzinfo=UTC)),
    # a date alone is midnight in the agreement's timezone
    ("2026-11-19", dt.datetime(2026, 11, 18, 23, tzinfo=UTC)),
    ("20261119", dt.datetime(2026, 11, 18, 23, tzinfo=UTC)),
    ("2026-W47-4", dt.datetime(2026, 11, 18, 23, tzinfo=UTC)),
    ("2026W474", dt.datetime(2026, 11, 18, 23, tzinfo=UTC)),
    ("2026W47", dt.datetime(2026, 11, 15, 23, tzinfo=UTC)),
]
# Refused before and after: ordinal dates (Python 3.11 does not read them) and others.
OTHER_ERRORS = ["2026-323T10:00", "2026-323", "2026-11-19T", "2026-11-1910:00",
                "2026-11-19T10:00 Z", "2026-11-19\x0010:00"]


def coercer(type_: str = "datetime") -> Coercer:
    return Coercer({"f": FieldSpec.model_validate({"type": type_})}, AMS)


def coerce(value: Any, type_: str = "datetime") -> tuple[Any, list[RecordError]]:
    out, errors = coercer(type_)({"f": value})
    return out.get("f"), errors


def refused(value: str) -> None:
    """The coercer's fast path (the text as it is) and slow path (padded, which the fast
    path does not read) both give an `invalid-value` error naming the text."""
    for given_ in (value, f" {value}\t"):
        result, errors = coerce(given_)
        assert result is None, (given_, result)
        assert [(e.code, e.field, e.value) for e in errors] == [
            ("invalid-value", "f", given_)]
        assert errors[0].message.startswith("`")
        assert "is not a date and time" in errors[0].message


# ---------------------------------------------------------------- the coercer


@pytest.mark.parametrize("value", BAD)
def test_other_separators_are_errors(value: str) -> None:
    dt.datetime.fromisoformat(value.strip().upper())  # what CPython reads without a word
    refused(value)
    assert coerce(value)[1][0].message == f"`{show(value.strip())}` {HINT}"


@pytest.mark.parametrize("value", BAD)
def test_other_separators_in_a_date_field_are_not_dates(value: str) -> None:
    result, errors = coerce(value, "date")
    assert result is None
    assert [e.message for e in errors] == [
        f"`{show(value.strip())}` is not a date (write YYYY-MM-DD)"]


@pytest.mark.parametrize(("value", "expected"), GOOD)
def test_t_or_a_space_between_date_and_time(value: str, expected: dt.datetime) -> None:
    for given_ in (value, f"\n{value} "):
        result, errors = coerce(given_)
        assert errors == []
        assert result == expected
        assert result.tzinfo is UTC


@pytest.mark.parametrize("value", OTHER_ERRORS)
def test_text_refused_before_stays_refused(value: str) -> None:
    refused(value)


def test_dates_are_still_read_as_dates() -> None:
    for value in ("2026-11-19", " 2026-11-19 ", "20261119", "2026-W47-4"):
        assert coerce(value, "date") == (dt.date(2026, 11, 19), [])
    for value, message in [
        ("2026-11-19T10:00", "`2026-11-19T10:00` is a datetime; write a date (YYYY-MM-DD)"),
        ("2026-11-19 10:00", "`2026-11-19 10:00` is a datetime; write a date (YYYY-MM-DD)"),
        ("19/11/2026", "`19/11/2026` is not a date (write YYYY-MM-DD)"),
        ("2026-11-19x", "`2026-11-19x` is not a date (write YYYY-MM-DD)"),
        ("2026-323", "`2026-323` is not a date (write YYYY-MM-DD)"),
    ]:
        result, errors = coerce(value, "date")
        assert result is None
        assert [e.message for e in errors] == [message]


@pytest.mark.parametrize(("value", "end"), [
    ("2026-11-19T10:00", 10), ("2026-11-19", 10), ("20261119T10", 8), ("20261119", 8),
    ("2026-W47-4T10", 10), ("2026-W47-4", 10), ("2026-W47T10", 8), ("2026-W47-10", 8),
    ("2026-W47", 8), ("2026W474T10", 8), ("2026W474", 8), ("2026W47T10", 7), ("2026W47", 7),
    ("2026W47100", 7), ("2026W471000", 8), ("2026W4741000", 7), ("2026w47x10", 7),
    ("2026-w47-4x10", 10),
])
def test_date_end_is_where_cpython_ends_the_date(value: str, end: int) -> None:
    assert date_end(value) == end
    read = dt.datetime.fromisoformat(value.upper())
    assert dt.date.fromisoformat(value[:end].upper()) == read.date()
    if end < len(value):
        assert dt.datetime.fromisoformat(f"{value[:end]}T{value[end + 1:]}".upper()) == read


# ---------------------------------------------------------------- the early path and evaluate


@functools.cache
def example_agreement() -> slaengine.Agreement:
    return slaengine.load_agreement(ROOT / "agreement")


@pytest.fixture(scope="module")
def agreement() -> slaengine.Agreement:
    return example_agreement()


def full_path(engine: Engine, lead: dict[str, Any]) -> dict[str, Any]:
    """As `tests/test_early.py` works it out: coerce every field, run the whole agreement."""
    values, errors = engine.coerce(lead)
    allowed = engine.allowed.check(values, lead) if engine.allowed else ()
    return engine.decide(values, tuple(errors), engine.instant(NOW), None, allowed).to_json()


def evaluated(agreement: slaengine.Agreement, value: Any
              ) -> tuple[dict[str, Any], dict[str, bool] | None]:
    """`sal` is `accepted_at exists and rejected_at does not`: the verdict turns on whether
    the text is read. The decision `evaluate` makes, which must be the full path's, and
    what the early (verdicts-only) function makes of the lead (None: the full path's job)."""
    engine = agreement.engine
    lead = {"lead_id": "L-1", "accepted_at": value}
    engine._habit = _Habit()  # so that `evaluate` does try the early path
    decision = engine.evaluate(dict(lead), NOW)
    result = decision.to_json()
    assert dict(decision.verdicts) == result["definitions"]
    assert result == full_path(engine, dict(lead))
    _, early = engine._early(NOW)
    assert early is not None
    return result, early(dict(lead))


def assert_refused_everywhere(agreement: slaengine.Agreement, value: str) -> None:
    refused(value)
    result, early = evaluated(agreement, value)
    assert result["definitions"]["sal"] is False
    assert [(e["code"], e["field"], e["value"]) for e in result["errors"]] == [
        ("invalid-value", "accepted_at", value)]
    assert early is None
    with pytest.raises(ValueError):
        instant_text(AMS)(value)


@pytest.mark.parametrize("value", BAD)
def test_evaluate_refuses_other_separators(agreement: slaengine.Agreement, value: str) -> None:
    assert_refused_everywhere(agreement, value)


@pytest.mark.parametrize(("value", "expected"), GOOD)
def test_evaluate_reads_t_or_a_space(agreement: slaengine.Agreement, value: str,
                                     expected: dt.datetime) -> None:
    result, early = evaluated(agreement, value)
    assert result["errors"] == []
    assert result["definitions"]["sal"] is True
    assert result["service_levels"] == full_path(agreement.engine, {
        "lead_id": "L-1", "accepted_at": expected})["service_levels"]
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:  # padding, a lower-case z or w: the coercer's slow path reads it
        return
    assert instant_text(AMS)(value) == expected  # the early path reads what the fast path does
    assert early is not None
    assert early["sal"] is True


_NOT_A_SEPARATOR = st.characters(exclude_characters="Tt ") | st.integers(
    0xD800, 0xDFFF).map(chr)
_TEMPLATES = st.sampled_from([
    "2026-11-19{}10:00", "2026-11-19{}10:00:00Z", "2026-11-19{}10:00:00.5+01:00",
    "20261119{}1000", "2026-W47-4{}10:00", "2026W474{}10", "2026W47{}10:00-05:00"])


@settings(max_examples=300, deadline=None)
@given(_NOT_A_SEPARATOR)
def test_no_other_character_between_date_and_time(c: str) -> None:
    """The coercer's fast and slow paths refuse `2026-11-19{c}10:00`, and so does the
    early path (it hands the text to the full path, which refuses it)."""
    value = f"2026-11-19{c}10:00"
    refused(value)
    assert bad_separator(value)
    with pytest.raises(ValueError):
        instant_text(AMS)(value)


@settings(max_examples=150, deadline=None)
@given(_NOT_A_SEPARATOR, _TEMPLATES)
def test_no_other_character_between_date_and_time_in_evaluate(c: str, template: str) -> None:
    engine = example_agreement()
    assert_refused_everywhere(engine, template.format(c))
    # and T, t or a space there reads as the time it says
    for sep in "Tt ":
        result, _ = evaluated(engine, template.format(sep))
        assert result["errors"] == []
        assert result["definitions"]["sal"] is True


# ---------------------------------------------------------------- the DuckDB engine


def _rows() -> list[dict[str, Any]]:
    texts = [*BAD, *(v for v, _ in GOOD), *OTHER_ERRORS]
    # every ASCII character and a sample of others between date and time
    texts += [f"2026-11-19{chr(c)}10:00" for c in range(1, 128)]
    texts += [f"2026-11-19{c}10:00:00+01:00" for c in "éß\xa0\u2028\u3000ｔＴ\U0001f600"]
    texts += [f"20261119{chr(c)}1000Z" for c in range(33, 127)]
    texts += [f"2026-W47-4{chr(c)}10" for c in range(33, 127)]
    texts += [f"2026W47{chr(c)}10:00" for c in range(33, 127)]
    return [{"lead_id": f"S-{i}", "accepted_at": text, "mql_at": text, "stage": "mql"}
            for i, text in enumerate(texts)]


def _records(engine: Engine, path: Path) -> tuple[list[bytes], list[bytes]]:
    python = [orjson.dumps(r, option=orjson.OPT_NON_STR_KEYS)
              for r in engine.records(read_leads(path), NOW)]
    duck = [orjson.dumps(r, option=orjson.OPT_NON_STR_KEYS)
            for r in DuckRun(engine, path, NOW).records()]
    return python, duck


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_duckdb_sql_reads_separators_as_python(agreement: slaengine.Agreement, tmp_path: Path,
                                               fmt: str) -> None:
    """The SQL coercer (`isotime.separator_position`) refuses what the Python coercer
    refuses, and reads the rest to the same instants: the records are byte for byte equal."""
    rows = _rows()
    path = tmp_path / f"separators.{fmt}"
    if fmt == "jsonl":
        path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    else:
        rows = [row for row in rows if not set(row["mql_at"]) & set("\r\n\x0b\x0c\x1c\x1d"
                                                                        "\x1e\x85\u2028")]
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    python, duck = _records(agreement.engine, path)
    assert len(python) == len(duck) == len(rows)
    for i, (want, got) in enumerate(zip(python, duck, strict=True)):
        assert got == want, f"row {i + 1}: {rows[i]['mql_at']!r}"
    # and not because both read everything: each bad spelling is an error in both
    by_text = {row["mql_at"]: orjson.loads(line) for row, line in zip(rows, duck, strict=True)}
    for value in BAD:
        if value in by_text:
            fields = {e["field"] for e in by_text[value]["errors"]}
            assert fields == {"accepted_at", "mql_at"}, value
    for value, _ in GOOD:
        if value in by_text:
            assert by_text[value]["errors"] == [], value
