"""The generated SQL of the peer rule against the same rule written by hand, both on DuckDB.

    python benchmarks/bench_peer_sql.py             # 200,000 leads, best of 7
    python benchmarks/bench_peer_sql.py --n 1000000

The peer agreement and its leads come from `peer.py` (a 12-condition MQL rule with a
capped 9-rule score over 21 fields; about a quarter of the leads reach the score), written
once as a Parquet file with typed columns and `_row`. On one DuckDB connection (every core),
over a view `leads` of that file:

1. generated: `slaengine sql --dialect duckdb --agreement <peer>` as printed, every column
   (id, version, digest, the definition, the score and band, stage, owner, violations, ...);
2. generated, the rule's columns: `SELECT _row, id, def_mql, score_engagement FROM (1)`;
3. by hand: one query a person would write, `_row, id, mql, score`, ordered by `_row`
   (`peer.hand_sql`); its `\\b` is RE2's ASCII word boundary, where the generated query
   spells out Python's Unicode one.

Each is run as `COPY (query) TO '/dev/null' (FORMAT csv)`, taking turns, best of --repeats.
Target: (2) at most 1.5x (3). Before timing, every lead's `mql` and score from (1) and (3)
are compared: the mismatch count must be 0. Results: benchmarks/results/peer-sql.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

import duckdb
import orjson

import peer
from bench_evaluate import machine

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
TARGET: Final = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=200_000, help="leads (default 200,000)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "peer-sql.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    parquet = args.data_dir / f"peer-{args.n}-seed{args.seed}.parquet"
    if not parquet.exists():
        print(f"generating {parquet} ...", file=sys.stderr)
        peer.write_parquet(parquet, args.n, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        agreement = peer.agreement_folder(Path(folder) / "agreement")
        printed = subprocess.run(
            [sys.executable, "-m", "slaengine", "sql", "--dialect", "duckdb", "--agreement",
             str(agreement), "--now", peer.NOW.isoformat()],
            capture_output=True, text=True, check=True, cwd=ROOT).stdout.rstrip().rstrip(";")
    queries = {
        "generated, as printed": printed,
        "generated, the rule's columns": "SELECT _row, id, def_mql, score_engagement "
                                         f"FROM ({printed}) ORDER BY _row",
        "by hand": peer.hand_sql(str(parquet), peer.NOW),
    }
    con = duckdb.connect()
    con.execute(f"CREATE VIEW leads AS SELECT * FROM read_parquet('{parquet}')")
    got = con.execute(f"SELECT def_mql, score_engagement FROM ({printed}) ORDER BY _row"
                      ).fetchall()
    want = con.execute(f"SELECT mql, score FROM ({queries['by hand']}) ORDER BY _row"
                       ).fetchall()
    mismatches = sum(a != b for a, b in zip(got, want, strict=True)) + abs(len(got) - len(want))
    mql = sum(1 for m, _ in want if m)
    reached = sum(peer.reaches_score(lead, peer.NOW) for lead in peer.generate(args.n, args.seed))
    times: dict[str, list[float]] = {name: [] for name in queries}
    for _ in range(args.repeats + 1):  # the first round warms up (file cache, regex compile)
        for name, query in queries.items():
            started = time.perf_counter()
            con.execute(f"COPY ({query}) TO '/dev/null' (FORMAT csv)")
            times[name].append(time.perf_counter() - started)
    best = {name: min(values[1:]) for name, values in times.items()}
    base = best["by hand"]
    info = machine()
    print(f"peer rule on DuckDB {duckdb.__version__}: {args.n:,} leads, {mql:,} MQLs; "
          f"{info['cpu_count']} CPUs · {info['cpu']}")
    print(f"  leads reaching the score (the first 11 conditions hold): {reached / args.n:.1%}")
    print(f"  mismatches between the generated and the hand-written query: {mismatches}")
    print(f"  {'query':<32} {'seconds':>9} {'leads/s':>12} {'ratio':>7} {'target':>7}")
    rows = []
    for name in queries:
        ratio = best[name] / base
        target = TARGET if name == "generated, the rule's columns" else None
        verdict = "" if target is None else ("ok" if ratio <= target else "MISSED")
        print(f"  {name:<32} {best[name]:>9.4f} {args.n / best[name]:>12,.0f} {ratio:>6.2f}x "
              f"{'<=' + str(target) + 'x' if target else '':>7}  {verdict}")
        rows.append({"name": name, "seconds": round(best[name], 4),
                     "runs": [round(t, 4) for t in times[name][1:]],
                     "ratio": round(ratio, 3), "target": target})
    result = {"command": "python benchmarks/bench_peer_sql.py " + " ".join(
        sys.argv[1:] if argv is None else argv), "machine": info, "n": args.n,
        "seed": args.seed, "mql": mql, "mismatches": mismatches,
        "reaching_score": reached,
        "duckdb": duckdb.__version__, "rows": rows,
        "target_met": rows[1]["ratio"] <= TARGET}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"\nresults: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    if mismatches:
        return 1
    return 1 if args.check and not result["target_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
