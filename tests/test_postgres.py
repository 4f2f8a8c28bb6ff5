"""The printed PostgreSQL SQL on a real PostgreSQL server, value for value with Python.

`slaengine sql --dialect postgres` prints the lookup tables (`--what calendar`), the
decisions query and the KPI query; they run here, as a user would run them, over a `leads`
table of the example leads coerced by the Python coercer, and every definition, score, band,
stage, owner, violation, service-level status, due time and elapsed time, and every KPI
value, equals the Python engine's.

The server: SLAENGINE_PG_DSN (`.ci/run` starts one with `.ci/postgres`). When it is unset,
this module starts its own with the same script, and fails if it cannot, except outside CI
when PostgreSQL is not installed (then it is skipped, saying so).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import slaengine
from slaengine.evaluate.evaluator import Engine
from slaengine.evaluate.leads import read_leads
from slaengine.kpis import compute_kpis
from slaengine.sql import dialect

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "postgres"
NOW_TEXT = "2026-11-20T10:00:00+01:00"
NOW = dt.datetime.fromisoformat(NOW_TEXT)
YEARS = "2025-2027"


def _installed() -> bool:
    return any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")) or shutil.which(
        "pg_ctl") is not None


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    given = os.environ.get("SLAENGINE_PG_DSN")
    if given:
        yield given
        return
    if os.environ.get("CI"):
        pytest.fail("SLAENGINE_PG_DSN is not set: .ci/run starts PostgreSQL with "
                    ".ci/postgres and exports it", pytrace=False)
    if not _installed():
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql), and "
                    "SLAENGINE_PG_DSN is not set")
    done = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        pytest.fail(f".ci/postgres start failed: {done.stderr.strip()[-500:]}", pytrace=False)
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    try:
        yield found["SLAENGINE_PG_DSN"]
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", found["SLAENGINE_PG_DATA"]], check=False,
                       capture_output=True)


@pytest.fixture(scope="module")
def agreement() -> slaengine.Agreement:
    return slaengine.load_agreement(ROOT / "agreement")


@pytest.fixture(scope="module")
def leads() -> list[Any]:
    return [r for r in read_leads(ROOT / "examples/leads.jsonl") if r.data is not None]


@pytest.fixture(scope="module")
def connection(dsn: str, agreement: slaengine.Agreement, leads: list[Any]) -> Iterator[Any]:
    """A schema of its own holding `leads` (typed as `slaengine sql` documents) and the
    printed lookup tables; dropped afterwards."""
    schema = f"slaengine_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
        try:
            con.execute(f'SET search_path TO "{schema}"')
            con.execute("SET TimeZone TO 'UTC'")
            create_leads(con, agreement.engine, leads)
            con.execute(printed("calendar"))  # CREATE and INSERT statements, `;` apart
            yield con
        finally:
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')


def printed(what: str) -> str:
    """What `slaengine sql --dialect postgres --what WHAT` prints."""
    from click.testing import CliRunner  # noqa: PLC0415

    from slaengine.cli import cli  # noqa: PLC0415

    result = CliRunner().invoke(cli, ["sql", "--dialect", "postgres", "--what", what,
                                      "--agreement", str(ROOT / "agreement"), "--now",
                                      NOW_TEXT, "--years", YEARS])
    assert result.exit_code == 0, result.output
    return result.output


def create_leads(con: Any, engine: Engine, records: list[Any]) -> None:
    d = dialect("postgres")
    fields = engine.spec.fields
    columns = ", ".join(f'"{name}" {d.type_of(f.type).sql("postgres")}'
                        for name, f in fields.items())
    con.execute(f'CREATE TABLE "leads" ({columns}, "_row" BIGINT)')
    names = ", ".join(f'"{n}"' for n in [*fields, "_row"])
    with con.cursor() as cur, cur.copy(f'COPY "leads" ({names}) FROM STDIN') as copy:
        for record in records:
            values, _ = engine.coerce(record.data or {})
            copy.write_row([*(values.get(n) for n in fields), record.row])


def rows_of(con: Any, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def iso_z(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def test_decisions_match_the_python_engine(connection: Any, agreement: slaengine.Agreement,
                                           leads: list[Any]) -> None:
    # The server's JIT stays as the server has it (on by default): the query must be fast
    # with it, which is what materialised steps are for.
    assert connection.execute("SHOW jit").fetchone()[0] == "on"
    query = printed("decisions").rstrip().rstrip(";")
    # The planner knows each lookup join keeps the lead's row (the tables' keys), so it
    # does not expect billions of rows and compile the query for seconds.
    plan = connection.execute(f"EXPLAIN (FORMAT JSON) {query}").fetchone()[0][0]
    assert plan["Plan"]["Plan Rows"] <= 10 * len(leads)
    got_rows = rows_of(connection, query)
    expected = list(agreement.engine.records(iter(leads), NOW))
    assert len(got_rows) == len(expected) == 2000
    for got, want in zip(got_rows, expected, strict=True):
        where = want["id"]
        assert got["id"] == want["id"]
        assert {n: got[f"def_{n}"] for n in want["definitions"]} == want["definitions"], where
        assert {n: got[f"score_{n}"] for n in want["scores"]} == want["scores"], where
        assert {n: got[f"band_{n}"] for n in want["bands"]} == want["bands"], where
        assert (got["stage"], got["owner"]) == (want["stage"], want["owner"]), where
        assert list(got["violations"]) == [v["code"] for v in want["violations"]], where
        for name, clock in want["service_levels"].items():
            assert (got[f"sl_{name}_status"], iso_z(got[f"sl_{name}_due_at"]),
                    got[f"sl_{name}_elapsed_s"]) == (
                clock["status"], clock["due_at"], clock["elapsed_s"]), (where, name)
        assert got["recycle_to"] == (want["recycle"] or {}).get("to"), where
        assert got["credit_reason"] == (want["credit"] or {}).get("reason"), where


def _close(got: float | None, want: float | None) -> bool:
    if got is None or want is None:
        return got is want
    return math.isclose(got, want, rel_tol=1e-12)


def test_kpis_match_the_python_engine(connection: Any, agreement: slaengine.Agreement,
                                      leads: list[Any]) -> None:
    rows = rows_of(connection, printed("kpis").rstrip().rstrip(";"))
    assert list(rows[0]) == ["kind", "name", "grouping", "key", "mature", "leads", "measured",
                             "numerator", "invalid", "out_of_range", "value"]
    report = compute_kpis(agreement.engine, iter(dict(r.data) for r in leads), NOW)
    assert not any(r["out_of_range"] for r in rows)
    compared = 0
    for name, result in report.kpis.items():
        mine = [r for r in rows if r["kind"] == "kpi" and r["name"] == name]
        overall = next(r for r in mine if r["grouping"] == "all" and r["mature"])
        assert (overall["leads"], overall["measured"]) == (result.leads, result.measured), name
        assert _close(overall["value"], result.value), name
        for key, entry in result.by_period.items():
            row = next(r for r in mine if r["grouping"] == "period" and r["key"] == key)
            assert row["leads"] == entry.leads and _close(row["value"], entry.value), (name, key)
            compared += 1
        for key, group in result.by_group.items():
            row = next(r for r in mine if r["grouping"] == "group" and r["key"] == key
                       and r["mature"])
            assert row["leads"] == group.leads and _close(row["value"], group.value), (name, key)
            compared += 1
    assert compared > 10
    bands = {r["key"]: r for r in rows if r["kind"] == "calibration" and r["mature"]}
    for label, band in report.calibrations["engagement"].bands.items():
        assert (bands[label]["leads"], bands[label]["numerator"]) == (band.leads,
                                                                      band.converted)


def test_the_calendar_tables_are_the_ones_printed(connection: Any) -> None:
    """Every table `--what calendar` creates is there, with rows, on the server."""
    text = printed("calendar")
    created = [line.split('"')[1] for line in text.splitlines()
               if line.startswith("CREATE TABLE")]
    assert created
    for table in created:
        count = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        assert count > 0, table

