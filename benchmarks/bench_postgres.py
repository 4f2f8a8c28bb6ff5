"""The printed SQL on a stock PostgreSQL server, against DuckDB running the same query.

    python benchmarks/bench_postgres.py                 # 100,000 leads (a minute or two)
    python benchmarks/bench_postgres.py --n 1000000     # 1,000,000 leads (several minutes)

The seeded generator's leads (`generate_leads.py`), coerced by the Python coercer, are loaded
into a `leads` table (the agreement's fields as typed columns and `_row`) on both engines, by
COPY on PostgreSQL and from Arrow batches on DuckDB, with the lookup tables that
`slaengine sql --what calendar` prints for each. The server is SLAENGINE_PG_DSN, or one this
script starts with `.ci/postgres start` (PostgreSQL's default settings: JIT on,
shared_buffers 128 MB) and stops afterwards. The table is queried as loaded (no ANALYZE), as a
user who has just loaded it would.

Measured, best of --repeats, taking turns (wall clock, the output written by the server):

1. decisions: `COPY (<slaengine sql --dialect postgres>) TO '/dev/null'` on PostgreSQL,
   against `COPY (<slaengine sql --dialect duckdb>) TO '/dev/null' (FORMAT csv)` on DuckDB
   (in process, every core) over the same rows: seconds, leads/s and the ratio.
2. KPIs: the same for `--what kpis`.
3. no target: PostgreSQL with `SET jit = off`, to show what JIT costs or saves.

Before any time is taken, both engines' decisions are compared: the number of leads whose
row differs between them must be 0. Results: benchmarks/results/postgres[-N].json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

from bench_evaluate import machine
from generate_leads import generate

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
NOW_TEXT: Final = "2026-11-20T10:00:00+01:00"
YEARS: Final = "2023-2028"  # every timestamp the generator writes, and the allowances after
CHUNK: Final = 50_000


def printed(dialect: str, what: str) -> str:
    """What `slaengine sql --dialect DIALECT --what WHAT` prints (the user's command)."""
    done = subprocess.run([sys.executable, "-m", "slaengine", "sql", "--dialect", dialect,
                           "--what", what, "--agreement", str(ROOT / "agreement"), "--now",
                           NOW_TEXT, "--years", YEARS], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    return done.stdout


def server() -> tuple[str, str | None]:
    """(DSN, the data folder of a server this script started, or None)."""
    given = os.environ.get("SLAENGINE_PG_DSN")
    if given:
        return given, None
    done = subprocess.run(["bash", str(ROOT / ".ci" / "postgres"), "start"],
                          capture_output=True, text=True, check=True)
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return found["SLAENGINE_PG_DSN"], found["SLAENGINE_PG_DATA"]


def coerced(engine: Any, n: int, seed: int) -> Iterator[list[tuple[Any, ...]]]:
    """The generated leads, coerced, as rows in field order plus `_row`, in chunks."""
    fields = list(engine.spec.fields)
    rows: list[tuple[Any, ...]] = []
    for row, lead in enumerate(generate(n, seed), start=1):
        values, _ = engine.coerce(lead)
        rows.append((*(values.get(f) for f in fields), row))
        if len(rows) == CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


def load(engine: Any, n: int, seed: int, pg: Any, duck: Any) -> None:
    import pyarrow as pa  # type: ignore[import-untyped]  # noqa: PLC0415

    from slaengine.sql import dialect  # noqa: PLC0415

    d = dialect("postgres")
    fields = engine.spec.fields
    names = [*fields, "_row"]
    columns = ", ".join(f'"{name}" {d.type_of(f.type).sql("postgres")}'
                        for name, f in fields.items())
    pg.execute(f'CREATE TABLE "leads" ({columns}, "_row" BIGINT)')
    arrow = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
             "boolean": pa.bool_(), "date": pa.date32(), "datetime": pa.timestamp("us", "UTC"),
             "list": pa.list_(pa.string())}
    schema = pa.schema([(name, arrow[f.type]) for name, f in fields.items()]
                       + [("_row", pa.int64())])
    quoted = ", ".join(f'"{c}"' for c in names)
    first = True
    for rows in coerced(engine, n, seed):
        with pg.cursor() as cur, cur.copy(f'COPY "leads" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        batch = pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows],
                                     schema=schema)
        duck.register("batch", batch)
        duck.execute("CREATE TABLE leads AS SELECT * FROM batch" if first
                     else "INSERT INTO leads SELECT * FROM batch")
        duck.unregister("batch")
        first = False


def statements(text: str) -> list[str]:
    return [s for s in text.split(";\n") if s.strip()]


def timed(run: Any) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="leads (default 100,000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default benchmarks/results/postgres[-N].json)")
    args = parser.parse_args(argv)
    import duckdb  # noqa: PLC0415
    import psycopg  # noqa: PLC0415

    import slaengine  # noqa: PLC0415

    n = args.n
    out = args.out or HERE / "results" / ("postgres.json" if n == 1_000_000
                                          else f"postgres-{n}.json")
    info = machine()
    engine = slaengine.load_agreement(ROOT / "agreement").engine
    sql = {(dialect, what): printed(dialect, what) for dialect in ("postgres", "duckdb")
           for what in ("calendar", "decisions", "kpis")}
    dsn, started_here = server()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(dsn, autocommit=True) as pg:
            version = pg.execute("SHOW server_version").fetchone()
            jit = pg.execute("SHOW jit").fetchone()
            pg.execute(f'CREATE SCHEMA "{schema}"')
            pg.execute(f'SET search_path TO "{schema}"')
            pg.execute("SET TimeZone TO 'UTC'")
            duck = duckdb.connect()
            duck.execute("SET TimeZone = 'UTC'")
            print(f"loading {n:,} leads into PostgreSQL and DuckDB ...", file=sys.stderr)
            load_s = timed(lambda: load(engine, n, args.seed, pg, duck))
            for statement in statements(sql["postgres", "calendar"]):
                pg.execute(statement)
            for statement in statements(sql["duckdb", "calendar"]):
                duck.execute(statement)
            query = {key: text.rstrip().rstrip(";") for key, text in sql.items()}
            differ = compare(pg, duck, query["postgres", "decisions"],
                             query["duckdb", "decisions"], n)
            bodies = {
                "postgres decisions": lambda: pg.execute(
                    f"COPY ({query['postgres', 'decisions']}) TO '/dev/null'"),
                "duckdb decisions": lambda: duck.execute(
                    f"COPY ({query['duckdb', 'decisions']}) TO '/dev/null' (FORMAT csv)"),
                "postgres kpis": lambda: pg.execute(
                    f"COPY ({query['postgres', 'kpis']}) TO '/dev/null'"),
                "duckdb kpis": lambda: duck.execute(
                    f"COPY ({query['duckdb', 'kpis']}) TO '/dev/null' (FORMAT csv)"),
            }
            times: dict[str, list[float]] = {name: [] for name in bodies}
            for _ in range(args.repeats):  # taking turns: a slow spell hits all alike
                for name, body in bodies.items():
                    times[name].append(timed(body))
            pg.execute("SET jit = off")
            times["postgres decisions, jit off"] = [timed(bodies["postgres decisions"])
                                                    for _ in range(args.repeats)]
            pg.execute("RESET jit")
            plan = pg.execute("EXPLAIN (ANALYZE, FORMAT JSON) "
                              + query["postgres", "decisions"]).fetchone()
            pg.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        if started_here is not None:
            subprocess.run(["bash", str(ROOT / ".ci" / "postgres"), "stop", started_here],
                           check=False)
    best = {name: min(values) for name, values in times.items()}
    jit_info = plan[0][0].get("JIT") if plan else None
    server_version, server_jit = version[0] if version else "?", jit[0] if jit else "?"
    print(f"\nslaengine SQL on PostgreSQL {server_version} (jit {server_jit}) "
          f"and DuckDB {duckdb.__version__}, {n:,} leads · {info['cpu_count']} CPUs")
    print(f"  loaded in {load_s:.1f} s (generate, coerce, COPY / Arrow; not in the times)")
    print(f"  leads whose decisions differ between the engines: {differ}")
    print(f"  {'query':<30} {'seconds':>9} {'leads/s':>12} {'ratio to duckdb':>16}")
    rows = []
    for what in ("decisions", "kpis"):
        base = best[f"duckdb {what}"]
        for name in (f"duckdb {what}", f"postgres {what}",
                     *([f"postgres {what}, jit off"] if what == "decisions" else [])):
            ratio = best[name] / base
            rows.append({"name": name, "seconds": round(best[name], 3),
                         "runs": [round(t, 3) for t in times[name]],
                         "leads_per_s": round(n / best[name]), "ratio_to_duckdb": round(ratio, 2)})
            print(f"  {name:<30} {best[name]:>9.3f} {n / best[name]:>12,.0f} {ratio:>15.2f}x")
    if jit_info:
        print(f"  PostgreSQL JIT in EXPLAIN ANALYZE of the decisions: {jit_info}")
    result = {"command": "python benchmarks/bench_postgres.py " + " ".join(
        sys.argv[1:] if argv is None else argv), "machine": info, "n": n, "seed": args.seed,
        "now": NOW_TEXT, "postgres": version[0] if version else None,
        "jit": jit[0] if jit else None, "duckdb": duckdb.__version__,
        "load_s": round(load_s, 1), "differing_leads": differ, "rows": rows,
        "decisions_jit": jit_info}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if differ else 0


def compare(pg: Any, duck: Any, pg_query: str, duck_query: str, n: int) -> int:
    """Leads whose decision row differs between the engines (timestamps compared in UTC)."""
    with pg.transaction(), pg.cursor(name="compare") as cursor:
        cursor.execute(pg_query)
        return _compare(cursor, duck.execute(duck_query), n)


def _compare(cursor: Any, duck_rows: Any, n: int) -> int:
    differ = count = 0
    names: list[str] = []
    while True:
        mine = cursor.fetchmany(10_000)
        theirs = duck_rows.fetchmany(10_000)
        names = names or [c.name for c in cursor.description]
        if not mine and not theirs:
            break
        for a, b in zip(mine, theirs, strict=True):
            count += 1
            if [normal(v) for v in a] != [normal(v) for v in b]:
                differ += 1
                if differ <= 3:
                    print("differs:", {k: (x, y) for k, x, y in zip(names, a, b, strict=True)
                                       if normal(x) != normal(y)}, file=sys.stderr)
    return differ + abs(n - count)


def normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, tuple):
        return list(value)
    return value


if __name__ == "__main__":
    sys.exit(main())
