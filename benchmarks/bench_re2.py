"""What running `matches` on RE2 costs the example agreement's evaluation, side by side.

    python benchmarks/bench_re2.py            # 20 interleaved rounds over examples/leads.jsonl
    python benchmarks/bench_re2.py --rounds 5

Two engines of the same agreement are built in one process: one compiles its `matches`
patterns for RE2 (what slaengine does), the baseline with Python's `re` (what it did before).
Each round evaluates every example lead with both, in alternating order, so a busy machine
slows both alike; the ratio of the medians is reported. Target: RE2 at most 1.10x the
baseline. A micro row times the `\\.edu$` search alone on the leads' email domains.
Results go to benchmarks/results/re2.json with the machine's description.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import slaengine  # noqa: E402
from slaengine.evaluate import literals  # noqa: E402
from slaengine.evaluate.leads import read_leads  # noqa: E402

NOW: Final = datetime.fromisoformat("2026-11-20T10:00:00+01:00")
TARGET: Final = 1.10


def _engine(compile_pattern: Callable[[str], Any]) -> Any:
    original = literals.compile_pattern
    literals.compile_pattern = compile_pattern
    try:
        agreement = slaengine.load_agreement(ROOT / "agreement")
        engine = agreement.engine
        list(engine.records(iter(list(read_leads(ROOT / "examples" / "leads.jsonl"))[:5]), NOW))
        return engine
    finally:
        literals.compile_pattern = original


def _time(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    leads = list(read_leads(ROOT / "examples" / "leads.jsonl"))
    with_re2 = _engine(literals.compile_pattern)
    with_re = _engine(re.compile)

    def evaluate(engine: Any) -> Callable[[], object]:
        return lambda: sum(1 for _ in engine.records(iter(leads), NOW))

    domains = [str(r.data.get("email_domain") or "") for r in leads if r.data]
    searches = {"re2": literals.compile_pattern(r"\.edu$").search,
                "re": re.compile(r"\.edu$").search}

    def search(name: str) -> Callable[[], object]:
        find = searches[name]
        return lambda: sum(1 for d in domains if find(d) is not None)

    times: dict[str, list[float]] = {"re2": [], "re": [], "search_re2": [], "search_re": []}
    for i in range(args.rounds):
        order = ("re2", "re") if i % 2 == 0 else ("re", "re2")
        for name in order:
            times[name].append(_time(evaluate(with_re2 if name == "re2" else with_re)))
            times[f"search_{name}"].append(_time(search(name)))
    median = {name: statistics.median(values) for name, values in times.items()}
    ratio = median["re2"] / median["re"]
    result = {
        "benchmark": "re2",
        "command": "python benchmarks/bench_re2.py --rounds " + str(args.rounds),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "leads": len(leads),
        "rounds": args.rounds,
        "rows": [
            {"name": "example agreement, every lead evaluated (Engine.records)",
             "baseline": "the same agreement with `matches` on Python's re",
             "baseline_s": round(median["re"], 4), "measured_s": round(median["re2"], 4),
             "ratio": round(ratio, 3), "target": f"<= {TARGET}", "met": ratio <= TARGET},
            {"name": "`\\.edu$` searched in every lead's email domain",
             "baseline": "Python's re", "baseline_s": round(median["search_re"], 5),
             "measured_s": round(median["search_re2"], 5),
             "ratio": round(median["search_re2"] / median["search_re"], 3)},
        ],
    }
    out = ROOT / "benchmarks" / "results" / "re2.json"
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    for row in result["rows"]:  # type: ignore[attr-defined]
        print(f"{row['name']}: {row['measured_s']} s vs {row['baseline_s']} s "
              f"({row['ratio']}x)")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
