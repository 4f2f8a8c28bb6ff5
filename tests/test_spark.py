"""The Spark dialect's SQL on a real distributed engine: PySpark in local mode.

The example leads, coerced by the Python coercer, become a Spark DataFrame with the
agreement's typed schema, registered as `leads` beside the calendar tables; the emitted Spark
SQL then gives the Python evaluator's definitions, scores, bands, stages, owners, violation
codes, service-level statuses, due times and elapsed times for every lead.

It runs by default. Without Java or pyspark it fails, saying what is missing, unless
SLAENGINE_SKIP_SPARK=1 is set (then it is skipped with that reason).
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import slaengine
from slaengine.evaluate.leads import read_leads
from slaengine.sql import compile_decisions, table_rows

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning")]

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime.fromisoformat("2026-11-20T10:00:00+01:00")


def _missing() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java (17 or later) is not installed"
    try:
        importlib.import_module("pyspark")
    except ImportError:
        return "pyspark is not installed (pip install 'slaengine[spark]')"
    return None


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("SLAENGINE_SKIP_SPARK") == "1":
            pytest.skip(f"SLAENGINE_SKIP_SPARK=1: {missing}")
        pytest.fail(f"the Spark test cannot run: {missing}; set SLAENGINE_SKIP_SPARK=1 to "
                    "skip it", pytrace=False)
    from pyspark.sql import SparkSession  # noqa: PLC0415 - only when Spark is there

    session = (SparkSession.builder.master("local[2]").appName("slaengine-test")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.memory", "1g").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_sql_matches_the_python_engine(spark: Any) -> None:
    from pyspark.sql import types as T  # noqa: PLC0415 - only when Spark is there

    agreement = slaengine.load_agreement(ROOT / "agreement")
    engine = agreement.engine
    compiled = compile_decisions(agreement.spec, NOW, version=agreement.version,
                                 digest=agreement.digest, dialect_name="spark",
                                 years=(2025, 2028))
    for table in compiled.tables.values():
        for suffix, (columns, rows) in table_rows(table).items():
            schema = T.StructType([T.StructField(c, T.LongType()) for c in columns])
            spark.createDataFrame([tuple(r) for r in rows], schema).createOrReplaceTempView(
                f"slaengine_calendar_{table.name}_{suffix}")
    types = {"string": T.StringType(), "integer": T.LongType(), "number": T.DoubleType(),
             "boolean": T.BooleanType(), "date": T.DateType(), "datetime": T.TimestampType(),
             "list": T.ArrayType(T.StringType())}
    schema = T.StructType([T.StructField(n, types[f.type]) for n, f in
                           agreement.spec.fields.items()] + [T.StructField("_row", T.LongType())])
    records = [r for r in read_leads(ROOT / "examples/leads.jsonl") if r.data is not None]
    rows = []
    for record in records:
        values, _ = engine.coerce(record.data or {})
        rows.append((*(values.get(n) for n in agreement.spec.fields), record.row))
    spark.createDataFrame(rows, schema).createOrReplaceTempView("leads")

    result = spark.sql(compiled.sql()).collect()
    expected = list(engine.records(iter(records), NOW))
    assert len(result) == len(expected) == 2000
    for row, want in zip(result, expected, strict=True):
        got = row.asDict()
        assert got["id"] == want["id"]
        assert {n: got[f"def_{n}"] for n in want["definitions"]} == want["definitions"]
        assert {n: got[f"score_{n}"] for n in want["scores"]} == want["scores"]
        assert {n: got[f"band_{n}"] for n in want["bands"]} == want["bands"]
        assert (got["stage"], got["owner"]) == (want["stage"], want["owner"])
        assert list(got["violations"]) == [v["code"] for v in want["violations"]]
        for name, clock in want["service_levels"].items():
            due = got[f"sl_{name}_due_at"]
            due_text = (due.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")
                        if due is not None else None)
            assert (got[f"sl_{name}_status"], due_text, got[f"sl_{name}_elapsed_s"]) == (
                clock["status"], clock["due_at"], clock["elapsed_s"]), (got["id"], name)
        recycle = want["recycle"] or {}
        assert got["recycle_to"] == recycle.get("to")
        credit = want["credit"] or {}
        assert got["credit_reason"] == credit.get("reason")
