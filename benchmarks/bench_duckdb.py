"""How fast the warehouse path evaluates leads in the embedded DuckDB, against two baselines.

    python benchmarks/bench_duckdb.py            # 10,000,000 leads (Parquet, ~350 MB)
    python benchmarks/bench_duckdb.py --quick    # 1,000,000 leads

The file is the seeded generator's leads (`generate_leads.py --format parquet-typed`) with
timestamps as Parquet TIMESTAMP columns, as a warehouse table holds them (`--text-timestamps`:
as text, the way a CRM export spells them, which DuckDB must then parse in SQL).

1. scan: DuckDB reading every column of the Parquet file, `SELECT count(*), sum(hash(t))
   FROM read_parquet(FILE) AS t`. Hashing the whole row struct makes DuckDB decode every
   column of every row (a bare `count(*)` reads only the file's metadata), and hashing is
   cheap next to parsing: the fair floor for "read the leads". Target: the evaluation takes
   at most 3x the scan.
2. duckdb: the command a user runs, `slaengine evaluate --engine duckdb --format csv
   --leads FILE > /dev/null`, wall clock: starting Python, the set-up (compiling, reading
   which years the clocks need, building the calendar tables), DuckDB coercing every value
   in SQL and evaluating every definition, score, band, stage, violation and clock, building
   each CSV line, streaming the lines out in file order, and counting the summary line;
   with its peak resident memory (each command runs under a small wrapper process, which
   reads its child's peak).
3. python: `slaengine evaluate --leads SLICE --jobs 1 --format csv > /dev/null`, the Python
   engine on one core, on the first 1,000,000 leads of the same file, scaled to the file's
   size: the same output. Target: DuckDB at least 20x faster.
4. a floor for any CSV output (no target): DuckDB rewriting the same file as CSV with its
   own writer, nothing evaluated, `COPY (SELECT * FROM read_parquet(FILE)) TO '/dev/null'
   (FORMAT csv)`, and its ratio to the scan.
5. where the time goes (no targets): the CSV command's phases timed in process (set-up,
   building the lines query, streaming the lines out and counting the summary);
   the decisions query alone, every column, written to Parquet with `COPY` from an
   open connection; the CSV lines computed and discarded (`sum(hash(row))`), what the
   command costs without the output; and DuckDB's profile of the CSV lines query on one
   thread over the first 1,000,000 leads, saved as
   `benchmarks/results/duckdb[-text][-quick]-profile.json` (the operators' times, one
   projection per step of the query).

Results go to benchmarks/results/duckdb[-text][-quick].json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

from bench_evaluate import machine
from generate_leads import GENERATOR_VERSION, NOW, write_leads

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
SLICE: Final = 1_000_000
TARGETS: Final = {"scan_ratio": 3.0, "python_speedup": 20.0}
# Runs a command with its output to /dev/null and prints the command's peak resident memory
# (KB). A child forked from this process would count this process's own memory as its peak.
PEAK_WRAPPER: Final = """import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.buffer.write(done.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)"""


def parquet_file(data_dir: Path, n: int, typed: bool, seed: int = 7) -> Path:
    """The cached Parquet file of `n` generated leads; generated (streamed) when missing."""
    suffix = "-typed" if typed else ""
    path = data_dir / f"leads-{n}-seed{seed}-g{GENERATOR_VERSION}{suffix}.parquet"
    if not path.exists():
        print(f"generating {n:,} leads into {path} ...", file=sys.stderr)
        write_leads(path, n, seed, "parquet-typed" if typed else "parquet")
    return path


def best_of(repeats: int, run: Any) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def csv_phases(engine: Any, path: Path, now: datetime) -> dict[str, float]:
    """The phases of `evaluate --engine duckdb --format csv`, each timed once, in process."""
    from slaengine.evaluate.records import Tally  # noqa: PLC0415
    from slaengine.sql.duckdb.csvlines import lines_query, write_lines  # noqa: PLC0415
    from slaengine.sql.duckdb.runner import DuckRun  # noqa: PLC0415

    times: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        times[name] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()

    run = DuckRun(engine, path, now)
    lap("setup")
    query = lines_query(run)
    lap("build_query")
    with open(os.devnull, "wb") as sink:
        write_lines(run, query, sink, Tally())
    lap("stream")
    return times


def profile_csv_query(engine: Any, path: Path, now: datetime, out: Path) -> None:
    """DuckDB's JSON profile of the CSV query on one thread (its result hashed, not written)."""
    from slaengine.sql.duckdb.csvlines import lines_query  # noqa: PLC0415
    from slaengine.sql.duckdb.runner import DuckRun  # noqa: PLC0415

    run = DuckRun(engine, path, now, threads=1)
    query = lines_query(run)
    raw = out.with_name(out.stem + "-raw.json")
    run.con.execute("PRAGMA enable_profiling = 'json'")
    run.con.execute(f"PRAGMA profiling_output = '{raw}'")
    run.con.execute(f"SELECT sum(hash(t)) FROM ({query}) AS t").fetchall()
    run.con.execute("PRAGMA disable_profiling")
    operators: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:  # top of the plan first; the scan comes last
        projected = node.get("extra_info", {}).get("Projections")
        operators.append({"operator": node["type"], "seconds": round(node["timing"], 3),
                          "columns": len(projected) if isinstance(projected, list) else None,
                          "last_column": projected[-1] if isinstance(projected, list)
                          else projected})
        for child in node.get("children", []):
            walk(child)

    for node in orjson.loads(raw.read_bytes())["operator"]:
        walk(node)
    raw.unlink()
    out.write_bytes(orjson.dumps({"leads": SLICE, "threads": 1, "operators": operators},
                                 option=orjson.OPT_INDENT_2) + b"\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000 leads, not 10,000,000")
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--text-timestamps", action="store_true",
                        help="timestamps stored as text (a CRM export), not TIMESTAMP columns")
    args = parser.parse_args(argv)
    n = 1_000_000 if args.quick else 10_000_000
    name = "duckdb" + ("-text" if args.text_timestamps else "") + ("-quick" if args.quick else "")
    out = args.out or HERE / "results" / f"{name}.json"

    import duckdb  # noqa: PLC0415 - the `sql` extra

    import slaengine  # noqa: PLC0415
    from slaengine.sql.duckdb.csvlines import lines_query  # noqa: PLC0415
    from slaengine.sql.duckdb.runner import DuckRun  # noqa: PLC0415

    args.data_dir.mkdir(parents=True, exist_ok=True)
    path = parquet_file(args.data_dir, n, typed=not args.text_timestamps)
    agreement = slaengine.load_agreement(ROOT / "agreement")
    now = datetime.fromisoformat(NOW)
    info = machine()
    info["duckdb"] = duckdb.__version__

    con = duckdb.connect()
    scan_sql = "SELECT count(*), sum(hash(t)) FROM read_parquet(?) AS t"
    scan = best_of(args.repeats, lambda: con.execute(scan_sql, [str(path)]).fetchall())
    print(f"scan: {scan:.2f}s", file=sys.stderr)
    rewrite_sql = f"COPY (SELECT * FROM read_parquet('{path}')) TO '{os.devnull}' (FORMAT csv)"
    rewrite = best_of(args.repeats, lambda: con.execute(rewrite_sql).fetchall())
    print(f"the file rewritten as CSV, nothing evaluated: {rewrite:.2f}s", file=sys.stderr)

    peaks: list[float] = []

    def cli(leads: Path, engine: str) -> float:
        command = [sys.executable, "-m", "slaengine", "evaluate", "--leads", str(leads),
                   "--agreement", str(ROOT / "agreement"), "--now", NOW, "--jobs", "1",
                   "--format", "csv", "--engine", engine]
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, *command],
                              capture_output=True, check=False)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()}")
        peaks.append(int(done.stdout) / 1024)
        return time.perf_counter() - started

    evaluation = best_of(args.repeats, lambda: cli(path, "duckdb"))
    peak_mb = max(peaks)
    print(f"duckdb: evaluate --format csv {evaluation:.2f}s, peak {peak_mb:.0f} MB",
          file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        phases = csv_phases(agreement.engine, path, now)
        print(f"phases: {phases}", file=sys.stderr)
        started = time.perf_counter()
        run = DuckRun(agreement.engine, path, now)
        setup = time.perf_counter() - started
        query = run.compiled.sql(pretty=False)
        target = Path(tmp) / "decisions.parquet"
        query_alone = best_of(args.repeats, lambda: run.con.execute(
            f"COPY ({query}) TO '{target}' (FORMAT parquet)"))
        rows = run.con.execute("SELECT count(*) FROM read_parquet(?)", [str(target)]).fetchone()
        print(f"query alone: set-up {setup:.2f}s, query {query_alone:.2f}s", file=sys.stderr)
        lines = lines_query(run)
        discarded = best_of(args.repeats, lambda: run.con.execute(
            f"SELECT sum(hash(t)) FROM ({lines}) AS t").fetchall())
        print(f"the CSV lines computed and discarded: {discarded:.2f}s", file=sys.stderr)

        slice_path = path
        if n > SLICE:
            slice_path = Path(tmp) / "slice.parquet"
            con.execute(f"COPY (SELECT * FROM read_parquet('{path}') LIMIT {SLICE}) "
                        f"TO '{slice_path}' (FORMAT parquet)")
        profile = out.with_name(out.stem + "-profile.json")
        profile_csv_query(agreement.engine, slice_path, now, profile)
        python_slice = cli(slice_path, "python")
    python_scaled = python_slice * n / SLICE
    print(f"python: {python_slice:.2f}s for {SLICE:,} leads", file=sys.stderr)

    scan_ratio = evaluation / scan
    speedup = python_scaled / evaluation
    result = {
        "quick": args.quick,
        "leads": n,
        "file": path.name,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "scan_s": round(scan, 3),
        "duckdb_cli_s": round(evaluation, 3),
        "duckdb_leads_per_s": round(n / evaluation),
        "duckdb_cli_peak_rss_mb": round(peak_mb),
        "csv_phases_s": phases,
        "csv_rewrite_s": round(rewrite, 3),
        "csv_rewrite_ratio_to_scan": round(rewrite / scan, 2),
        "profile": str(profile.relative_to(ROOT)) if profile.is_relative_to(ROOT) else str(profile),
        "query_alone_setup_s": round(setup, 3),
        "query_alone_s": round(query_alone, 3),
        "query_alone_ratio_to_scan": round(query_alone / scan, 2),
        "query_alone_rows": rows[0] if rows else None,
        "lines_discarded_s": round(discarded, 3),
        "lines_discarded_ratio_to_scan": round(discarded / scan, 2),
        "python_slice_leads": SLICE,
        "python_slice_s": round(python_slice, 3),
        "python_scaled_s": round(python_scaled, 3),
        "ratio_to_scan": round(scan_ratio, 2),
        "speedup_over_python": round(speedup, 2),
        "timestamps": "text" if args.text_timestamps else "typed",
        "targets": TARGETS,
        "met": {"scan_ratio": scan_ratio <= TARGETS["scan_ratio"],
                "python_speedup": speedup >= TARGETS["python_speedup"]},
        "output": "evaluate --format csv to /dev/null, both engines (wall clock)",
        "repeats": args.repeats,
        "machine": info,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"{n:,} leads: DuckDB evaluates {n / evaluation:,.0f} leads/s "
          f"({scan_ratio:.1f}x the scan, target <= {TARGETS['scan_ratio']:g}x); "
          f"{speedup:.1f}x the Python engine on one core (target >= "
          f"{TARGETS['python_speedup']:g}x). Wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
