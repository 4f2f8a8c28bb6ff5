"""How long `slaengine kpis` takes, against a batch evaluation of the same file in the same run.

    python benchmarks/bench_kpis.py            # the 1,000,000-lead file (a few minutes)
    python benchmarks/bench_kpis.py --quick    # the 100,000-lead file

Both commands run in subprocesses with stdout to /dev/null, interleaved (kpis, evaluate, kpis,
evaluate, ...) so drift in the machine hits both alike, and the best run of each counts:

* `slaengine kpis --leads FILE --now ... --format json`: every KPI of the example agreement
  (by period and group) and the engagement score's calibration, in one pass;
* `slaengine evaluate --leads FILE --now ... --jobs 1 --format jsonl`: the one-process batch
  evaluation of the same leads (the baseline).

Target: kpis at most 2x the batch evaluation's wall time. Results go to
benchmarks/results/kpis.json (kpis-quick.json with --quick), with the machine's description.
Lead files are the cached, seeded files of bench_evaluate.py (`--data-dir`, generated if absent).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

import orjson

from bench_evaluate import NOW_TEXT, Child, lead_file, machine, records_reported, run_child

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
TARGET: Final = 2.0


def slaengine(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "slaengine"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "slaengine"]
    return [*head, *args]


def commands(path: Path) -> dict[str, list[str]]:
    common = ["--leads", str(path), "--agreement", str(ROOT / "agreement"), "--now", NOW_TEXT]
    return {"kpis": slaengine("kpis", *common, "--format", "json"),
            "evaluate": slaengine("evaluate", *common, "--jobs", "1", "--format", "jsonl")}


def run(path: Path, n: int, repeats: int) -> dict[str, Any]:
    runs: dict[str, list[Child]] = {"kpis": [], "evaluate": []}
    todo = commands(path)
    for _ in range(repeats):
        for name, command in todo.items():
            runs[name].append(run_child(command))
    problems = []
    for name, children in runs.items():
        for child in children:
            counted = records_reported(child.stderr)
            # `evaluate` exits 1 when some records carry errors: the generated data has some.
            if child.status not in ((0,) if name == "kpis" else (0, 1)) or counted != n:
                problems.append(f"{name}: exit {child.status}, {counted} records reported "
                                f"(expected {n}): {child.stderr.strip()[-300:]}")
    kpis = min(c.seconds for c in runs["kpis"])
    evaluate = min(c.seconds for c in runs["evaluate"])
    ratio = kpis / evaluate
    return {
        "n": n, "file": str(path), "repeats": repeats,
        "kpis_command": " ".join(todo["kpis"]) + " > /dev/null",
        "evaluate_command": " ".join(todo["evaluate"]) + " > /dev/null",
        "kpis_s": [round(c.seconds, 3) for c in runs["kpis"]],
        "evaluate_s": [round(c.seconds, 3) for c in runs["evaluate"]],
        "kpis_cpu_s": [round(c.cpu_seconds, 3) for c in runs["kpis"]],
        "evaluate_cpu_s": [round(c.cpu_seconds, 3) for c in runs["evaluate"]],
        "kpis_rss_mb": [round(c.rss_mb, 1) for c in runs["kpis"]],
        "evaluate_rss_mb": [round(c.rss_mb, 1) for c in runs["evaluate"]],
        "kpis_leads_per_s": round(n / kpis), "evaluate_leads_per_s": round(n / evaluate),
        "ratio": round(ratio, 3), "target": TARGET, "met": ratio <= TARGET,
        "problems": problems,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="the 100,000-lead file")
    parser.add_argument("--n", type=int, default=None,
                        help="leads in the file (default 1,000,000; 100,000 with --quick)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each command (best counts)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data",
                        help="where generated lead files are cached (default benchmarks/.data)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default benchmarks/results/kpis.json, "
                             "kpis-quick.json with --quick)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    n = args.n or (100_000 if args.quick else 1_000_000)
    out = args.out or HERE / "results" / ("kpis-quick.json" if args.quick else "kpis.json")
    info = machine()
    print(f"slaengine kpis benchmark · Python {info['python']} · {info['cpu_count']} CPUs · "
          f"{info['platform']} · {info['cpu']}")
    result = run(lead_file(args.data_dir, n, args.seed), n, args.repeats)
    print(f"\n  {n:,} leads, best of {args.repeats} (subprocesses, stdout to /dev/null)")
    print(f"  evaluate --jobs 1 --format jsonl  {min(result['evaluate_s']):8.2f} s  "
          f"{result['evaluate_leads_per_s']:>9,} leads/s  (baseline)")
    print(f"  kpis --format json                {min(result['kpis_s']):8.2f} s  "
          f"{result['kpis_leads_per_s']:>9,} leads/s  {result['ratio']:.2f}x  "
          f"(target <= {TARGET:g}x: {'ok' if result['met'] else 'MISSED'})")
    for problem in result["problems"]:
        print(f"PROBLEM {problem}")
    command = "python benchmarks/bench_kpis.py " + " ".join(sys.argv[1:] if argv is None
                                                             else argv)
    document = {"command": command.strip(), "mode": "quick" if args.quick else "full",
                "machine": info, "now": NOW_TEXT, "seed": args.seed, **result}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if result["problems"]:
        return 1
    return 1 if args.check and not result["met"] else 0


if __name__ == "__main__":
    sys.exit(main())
