"""The SQL compiler: every dialect's SQL parses back, refusals name the construct, the
missing-value rule, regexes and numbers compare exactly as Python compares them."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import sqlglot
import sqlglot.expressions as exp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import slaengine
from slaengine.agreement.models import AgreementSpec
from slaengine.cli import main
from slaengine.evaluate.calendars import BusinessCalendar
from slaengine.evaluate.evaluator import Engine
from slaengine.sql import (
    DIALECTS,
    Unsupported,
    calendar_statements,
    compile_decisions,
    dialect,
)
from slaengine.sql.calendar import build
from slaengine.sql.numbers import DOUBLE, INTEGER, among, compare
from slaengine.sql.regex import translate
from slaengine.sql.tables import longest_allowances, years_for
from strategies import agreements
from test_duckdb import relation

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
DIGEST = "sha256:" + "0" * 64


@pytest.fixture(scope="module")
def agreement() -> slaengine.Agreement:
    return slaengine.load_agreement(ROOT / "agreement")


def spec_from(agreement: slaengine.Agreement, **changes: Any) -> AgreementSpec:
    data = agreement.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data.update(changes)
    return AgreementSpec.model_validate(data)


def without_regex(agreement: slaengine.Agreement) -> AgreementSpec:
    """The example agreement less its one Unicode-aware regex (`\\b`), which Snowflake
    cannot express."""
    scores = agreement.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)["scores"]
    rules = scores["engagement"]["rules"]
    scores["engagement"]["rules"] = [r for r in rules if "matches" not in str(r)]
    return spec_from(agreement, scores=scores)


# ---------------------------------------------------------------- every dialect parses back


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_dialect_parses_back_without_warnings(
        agreement: slaengine.Agreement, name: str, caplog: pytest.LogCaptureFixture) -> None:
    spec = agreement.spec if name != "snowflake" else without_regex(agreement)
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        compiled = compile_decisions(spec, NOW, version="1", digest=DIGEST, dialect_name=name,
                                     years=(2026, 2027))
        text = compiled.sql()
        tree = sqlglot.parse_one(text, dialect=name)
        statements = list(calendar_statements(spec, dialect(name), (2026, 2026), "slaengine_",
                                              compiled.needs_midnights))
        for statement in statements:
            sqlglot.parse_one(dialect(name).render(statement, pretty=False), dialect=name)
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]
    assert isinstance(tree, exp.Select)
    names = [e.alias_or_name for e in tree.expressions]
    assert names[:2] == [dialect(name).fold("_row"), dialect(name).fold("id")]
    assert dialect(name).fold("sl_mql_first_touch_due_at") in names
    assert any(isinstance(s, exp.Create) for s in statements)


@pytest.mark.parametrize("what", ["decisions", "kpis"])
@pytest.mark.parametrize("name", ["duckdb", "postgres", "spark"])  # the others refuse a regex
def test_postgres_materialises_every_step(name: str, what: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """PostgreSQL would inline the chain of steps into one exponentially long expression;
    the printed query marks each step `AS MATERIALIZED` there, and only there."""
    args = ["--agreement", str(ROOT / "agreement"), "--now", "2026-11-20T10:00:00Z"]
    with pytest.raises(SystemExit) as exit_info:
        main(["sql", "--dialect", name, "--what", what, *args])
    assert exit_info.value.code in (0, None)
    tree = sqlglot.parse_one(capsys.readouterr().out.rstrip().rstrip(";"), dialect=name)
    ctes = list(tree.find_all(exp.CTE))
    assert len(ctes) > 10
    assert [c.alias for c in ctes if c.args.get("materialized")] == (
        [c.alias for c in ctes] if name == "postgres" else [])


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_random_agreements_parse_back(name: str) -> None:
    @settings(max_examples=15, deadline=None, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(agreements())
    def check(data: dict[str, Any]) -> None:
        spec = AgreementSpec.model_validate(data, strict=True)
        try:
            text = compile_decisions(spec, NOW, version="1", digest=DIGEST, dialect_name=name,
                                     years=(2026, 2026)).sql()
        except Unsupported as exc:
            assert exc.dialect == name
            return
        sqlglot.parse_one(text, dialect=name)

    check()


# ---------------------------------------------------------------- refusals by name


@pytest.mark.parametrize(("pattern", "name", "construct"), [
    (r"(?i)\b(intern|student)\b", "snowflake", r"\b"),
    (r"^\d+$", "snowflake", r"\d"),
    (r"a(?=b)", "duckdb", "lookahead"),
    (r"a(?=b)", "bigquery", "lookahead"),
    (r"(a)\1", "spark", "back reference"),
    (r"a(?i:b)", "postgres", "(?i:...)"),
    (r"a*?", "snowflake", "*?"),
    (r"a$b", "duckdb", "$ followed by more pattern"),
])
def test_what_a_dialect_cannot_express_is_refused_by_name(
        pattern: str, name: str, construct: str) -> None:
    with pytest.raises(Unsupported) as raised:
        dialect(name).regex_search(exp.column("x"), pattern)
    assert construct in raised.value.construct
    assert str(raised.value).startswith(f"{name}: cannot compile ")


def test_the_cli_refuses_and_exits_2(agreement: slaengine.Agreement,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sql", "--dialect", "snowflake", "--agreement", str(ROOT / "agreement"),
              "--now", "2026-11-20T10:00:00Z"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "snowflake: cannot compile `\\b` in the pattern" in error


def test_list_items_are_compared_as_text(agreement: slaengine.Agreement) -> None:
    fields = {"id": {"type": "string", "key": True}, "tags": {"type": "list"}}
    spec = spec_from(agreement, fields=fields, definitions={
        "tagged": {"when": {"field": "tags", "contains": 5}}}, scores={}, stages=[],
        service_levels={}, kpis={}, recycle={}, lead_guarantee=None, dispositions={},
        calendars={})
    with pytest.raises(Unsupported, match="contains: 5"):
        compile_decisions(spec, NOW, version="1", digest=DIGEST)


def test_field_names_one_dialect_cannot_tell_apart(agreement: slaengine.Agreement) -> None:
    fields = {"id": {"type": "string", "key": True}, "Region": {"type": "string"},
              "region": {"type": "string"}}
    spec = spec_from(agreement, fields=fields, definitions={}, scores={}, stages=[],
                     service_levels={}, kpis={}, recycle={}, lead_guarantee=None,
                     dispositions={}, calendars={})
    with pytest.raises(Unsupported, match="differ only in case"):
        compile_decisions(spec, NOW, version="1", digest=DIGEST, dialect_name="spark")


# ---------------------------------------------------------------- the missing-value rule


def _probe_spec(agreement: slaengine.Agreement) -> AgreementSpec:
    fields = {"id": {"type": "string", "key": True}, "n": {"type": "integer"},
              "s": {"type": "string"}, "t": {"type": "datetime"}, "l": {"type": "list"}}
    tests = {
        "gt": {"field": "n", "gt": 5}, "in": {"field": "n", "in": [1, 2]},
        "between": {"field": "n", "between": [1, 9]}, "ne": {"field": "s", "ne": "x"},
        "matches": {"field": "s", "matches": "^$"}, "contains": {"field": "s", "contains": ""},
        "within": {"field": "t", "within": "30d"}, "tag": {"field": "l", "contains": "x"},
        "missing": {"field": "n", "exists": False},
    }
    definitions = {}
    for name, test in tests.items():
        definitions[name] = {"when": test}
        definitions[f"not_{name}"] = {"when": {"not": test}}
        definitions[f"any_{name}"] = {"when": {"any": [test, {"not": {"not": test}}]}}
    return spec_from(agreement, fields=fields, definitions=definitions, scores={}, stages=[],
                     service_levels={}, kpis={}, recycle={}, lead_guarantee=None,
                     dispositions={}, calendars={})


def test_not_over_a_test_on_a_missing_value_is_true(agreement: slaengine.Agreement) -> None:
    spec = _probe_spec(agreement)
    engine = Engine(spec, DIGEST)
    leads: list[dict[str, Any]] = [{"id": "empty"}, {"id": "nulls", "n": None, "s": None, "t": None, "l": None},
             {"id": "values", "n": 7, "s": "", "t": "2026-11-19T09:00:00Z", "l": ["x"]}]
    con = duckdb.connect()
    relation(con, engine, leads)
    compiled = compile_decisions(spec, NOW, version="1", digest=DIGEST)
    rows = con.execute(compiled.sql(pretty=False)).fetchall()
    names = [c.name for c in compiled.columns]
    for lead, row in zip(leads, rows, strict=True):
        got = dict(zip(names, row, strict=True))
        verdicts = engine.evaluate(lead, NOW).verdicts
        for name, verdict in verdicts.items():
            assert got[f"def_{name}"] is verdict, (lead["id"], name)
            assert got[f"def_{name}"] is not None
    missing = dict(zip(names, rows[1], strict=True))
    assert missing["def_not_gt"] is True and missing["def_gt"] is False
    assert missing["def_missing"] is True and missing["def_not_missing"] is False
    # The rule lives in one place: every test is wrapped, so `not` never meets NULL.
    assert "COALESCE" in compiled.sql(pretty=False)


# ---------------------------------------------------------------- regexes and numbers


PATTERNS = [r"\.edu$", r"^[A-Z]{2}$", r"(?i)gmail|outlook", r"^\d+$", "", ".*",
            r"(?i)\b(intern|student|trainee)\b", r"\bab", r"ab\b", r"\Bb", r"[^\w\s]+",
            r"(?i)straße", r"^a.c$", r"x{2,3}?y", r"(?s)a.b", r"[\d-]{3}$", r"^(?:ab|cd)+$",
            r"(?i)dijital", r"(?i)^[h-j]$", r"(?i)^[^i]$", r"(?i)İ"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.text(max_size=12), st.sampled_from(
    ["intern", "Intern!", "éintern", "x.edu", "x.edu\n", "NL", "ÄB", "123", "١٢٣", "a\nb",
     "STRASSE", "straße", "ab", "a_b", "xxy", "12-"])), min_size=1, max_size=20))
@example(["Éintern", "intern_x", " intern", "Stagiaire (Intern)"])
@example(["dİjİtal.com.tr", "DIJITAL", "dıjıtal", "İ", "ı", "I", "i", "h"])  # Turkish i
def test_regexes_search_as_python_does_on_duckdb(values: list[str]) -> None:
    values = [v.replace("\x00", "") for v in values]
    con = duckdb.connect()
    d = dialect("duckdb")
    column = exp.column("v")
    tests = [exp.alias_(exp.Coalesce(this=d.regex_search(column, p),
                                     expressions=[exp.false()]), f"p{i}")
             for i, p in enumerate(PATTERNS)]
    table = exp.Values(expressions=[exp.Tuple(expressions=[exp.Literal.string(v)])
                                    for v in values],
                       alias=exp.TableAlias(this=exp.to_identifier("t"),
                                            columns=[exp.to_identifier("v")]))
    rows = con.execute(exp.select(column, *tests).from_(table).sql("duckdb")).fetchall()
    for row in rows:
        for pattern, got in zip(PATTERNS, row[1:], strict=True):
            assert got == (re.search(pattern, row[0]) is not None), (pattern, row[0])


def test_regex_classes_are_python_s_unicode_classes() -> None:
    assert translate(r"\d", "re2").pattern.startswith("[0-9\\x{660}-\\x{669}")
    assert translate(r"(?a)\d", "re2").pattern == "[0-9]"
    assert translate(r"\.edu$", "are").pattern == "\\.edu(?:\\n?\\Z)"
    assert translate("(?i)gmail", "ere").ignore_case


numbers = st.one_of(st.integers(-(2**64), 2**64), st.floats(allow_nan=False),
                    st.sampled_from([2**53 + 1, -(2**53) - 1, 2.5, -2.5, 0.1, 1e308, 10**400]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.integers(-(2**53) + 1, 2**53 - 1),
                          st.floats(allow_nan=False, allow_infinity=False)),
                min_size=1, max_size=8), numbers)
def test_numeric_comparisons_are_exact(values: list[int | float], literal: int | float) -> None:
    con = duckdb.connect()
    ints = [v for v in values if isinstance(v, int)]
    rows = [(float(v) if isinstance(v, float) else None, v if isinstance(v, int) else None)
            for v in values]
    table = exp.Values(expressions=[exp.Tuple(expressions=[
        exp.cast(exp.Literal.number(repr(d)) if d is not None and math.isfinite(d)
                 else exp.null(), "DOUBLE"),
        exp.cast(exp.Literal.number(str(i)) if i is not None else exp.null(), "BIGINT")])
        for d, i in rows], alias=exp.TableAlias(this=exp.to_identifier("t"), columns=[
            exp.to_identifier("d"), exp.to_identifier("i")]))
    ops = ["eq", "ne", "gt", "gte", "lt", "lte"]
    tests = [exp.Coalesce(this=compare(op, exp.column(c), kind, literal),
                          expressions=[exp.false()])
             for op in ops for c, kind in (("d", DOUBLE), ("i", INTEGER))]
    tests.append(exp.Coalesce(this=among(exp.column("d"), DOUBLE, [literal], False),
                              expressions=[exp.false()]))
    result = con.execute(exp.select(exp.column("d"), exp.column("i"), *tests).from_(table)
                         .sql("duckdb")).fetchall()
    python = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
              "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}
    for d, i, *got in result:
        expected = []
        for op in ops:
            for value in (d, i):
                expected.append(value is not None and python[op](value, literal))
        expected.append(d is not None and d == literal)
        assert got == expected, (d, i, literal)
    assert ints or values


# ---------------------------------------------------------------- calendars


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2 * 365 * 86400), st.integers(0, 30 * 86400))
def test_calendar_table_counts_open_time_as_the_calendar_does(start: int, length: int) -> None:
    agreement = slaengine.load_agreement(ROOT / "agreement")
    model = agreement.spec.calendars["business"]
    table = build("business", model, agreement.spec.timezone, 2026, 2028)
    calendar = BusinessCalendar.from_model(model, agreement.spec.timezone)
    first = table.lo + start * 1_000_000
    last = min(first + length * 1_000_000, table.hi)
    assert table.before(last) - table.before(first) == calendar.elapsed(
        first / 1e6, last / 1e6) * 1_000_000


def test_sql_command_view_and_calendar(capsys: pytest.CaptureFixture[str]) -> None:
    main_args = ["--agreement", str(ROOT / "agreement"), "--now", "2026-11-20T10:00:00Z"]
    with pytest.raises(SystemExit) as exit_info:
        main(["sql", "--view", "lead_decisions", *main_args])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith('CREATE OR REPLACE VIEW "lead_decisions" AS')
    with pytest.raises(SystemExit):
        main(["sql", "--what", "calendar", "--years", "2026-2026", "--dialect", "postgres",
              *main_args])
    out = capsys.readouterr().out
    assert 'CREATE TABLE "slaengine_calendar_business_days"' in out
    assert 'INSERT INTO "slaengine_calendar_business_bdays" VALUES' in out
    with pytest.raises(SystemExit) as exit_info:
        main(["sql", "--years", "2030-2020", *main_args])
    assert exit_info.value.code == 2


def test_emitted_calendar_tables_and_query_run_on_duckdb(
        agreement: slaengine.Agreement) -> None:
    """The user's path: run `--what calendar`'s statements, then the decisions query."""
    from slaengine.evaluate.leads import read_leads  # noqa: PLC0415

    engine = agreement.engine
    now = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    leads = [dict(r.data) for r in read_leads(ROOT / "examples/leads.jsonl")
             if r.data is not None][:300]
    con = duckdb.connect()
    relation(con, engine, leads)
    d = dialect("duckdb")
    compiled = compile_decisions(agreement.spec, now, version=agreement.version,
                                 digest=agreement.digest, years=(2025, 2028))
    for statement in calendar_statements(agreement.spec, d, (2025, 2028), "slaengine_", False):
        con.execute(d.render(statement, pretty=False))
    names = [c.name for c in compiled.columns if c.kind != "sl_due_at"]
    rows = con.execute(f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM "
                       f"({compiled.sql(pretty=False)})").fetchall()
    for lead, row in zip(leads, rows, strict=True):
        got = dict(zip(names, row, strict=True))
        decision = engine.evaluate(lead, now)
        assert got["stage"] == decision.stage
        for name, clock in decision.service_levels.items():
            assert got[f"sl_{name}_status"] == clock.status, (lead.get("id"), name)
            assert got[f"sl_{name}_elapsed_s"] == clock.elapsed_s, (lead.get("id"), name)


def _years_for_one_by_one(spec: AgreementSpec, first: int, last: int) -> tuple[int, int]:
    """The reference: tables built for one more year at a time until the longest allowance
    fits after year `last` (what `tables._years_for` does with far fewer builds)."""
    end = last
    for name, (seconds, days) in longest_allowances(spec).items():
        extra = max(end - last, 1)
        while last + extra < 2200:
            table = build(name, spec.calendars[name], spec.timezone, first, last + extra)
            boundary = dt.datetime(last + 1, 1, 1, tzinfo=ZoneInfo(table.timezone_name))
            micros = (boundary - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) \
                // dt.timedelta(microseconds=1)
            open_after = table.total - table.before(micros)
            days_after = sum(1 for o in table.day_opens if o >= micros)
            if open_after >= seconds * 1_000_000 and days_after > days:
                break
            extra += 1
        end = max(end, last + extra)
    return first, min(max(end, last), 2200)


@pytest.mark.parametrize(("within", "years"), [
    ("10bd", (2025, 2027)), ("300bd", (2025, 2027)), ("9000bd", (2025, 2027)),
    ("4000h", (2020, 2030)), ("20000bd", (2140, 2150)), ("2bd", (2197, 2199))])
def test_calendar_years_equal_one_year_at_a_time(agreement: slaengine.Agreement,
                                                 within: str, years: tuple[int, int]) -> None:
    """The years the calendar tables cover for an allowance, found by doubling the years
    built, are the fewest that hold it, as adding one year at a time finds."""
    data = agreement.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["service_levels"]["sql_to_opportunity"]["within"] = within
    spec = AgreementSpec.model_validate(data)
    assert years_for(spec, *years) == _years_for_one_by_one(spec, years[0] - 1, years[1] + 1)
