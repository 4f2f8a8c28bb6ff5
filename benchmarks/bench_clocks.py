"""What the service-level clocks cost: decisions per second with every service level of the
example agreement on its business calendar, against the same decisions with none.

    python benchmarks/bench_clocks.py            # 100,000 pre-coerced leads, best of 7
    python benchmarks/bench_clocks.py --quick    # 20,000 leads, best of 3

Both engines compile the same agreement; the baseline's copy has its `service_levels`
removed (nothing else changes: definitions, scores, stages, recycling and the guarantee stay).
Measured two ways, each with its own ratio and the target of at most 2x:
- `Engine.decide(values, (), now, bound)`: the typed Decision (clocks kept as compact tuples);
- `Engine.records(...)` + `orjson.dumps`: the batch path, where each clock also becomes JSON.
Also reported: how many leads have each clock status, so the mix behind the figure is visible,
and the per-call cost of the calendar's `add_seconds` and `elapsed`.
Results: benchmarks/results/clocks.json.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_evaluate import (
    HERE,
    JSON_OPTIONS,
    NOW_TEXT,
    ROOT,
    Report,
    Row,
    chunked,
    lead_file,
    machine,
    race,
)

TARGET: Final = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "clocks.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    n = args.n or (20_000 if args.quick else 100_000)
    repeats = args.repeats or (3 if args.quick else 7)

    from slaengine import load_agreement  # noqa: PLC0415
    from slaengine.evaluate.evaluator import Engine  # noqa: PLC0415
    from slaengine.evaluate.leads import RawRecord, read_leads  # noqa: PLC0415

    info = machine()
    print(f"slaengine clock benchmark · Python {info['python']} · {info['platform']}")
    agreement = load_agreement(ROOT / "agreement")
    with_clocks = agreement.engine
    spec = with_clocks.spec.model_copy(update={"service_levels": {}})
    without = Engine(spec, with_clocks.digest)
    now = with_clocks.instant(datetime.fromisoformat(NOW_TEXT))

    raws: list[RawRecord] = []
    for record in read_leads(lead_file(args.data_dir, max(n, 100_000), args.seed)):
        if record.data is not None:
            raws.append(record)
        if len(raws) == n:
            break
    leads = [with_clocks.coerce(r.data)[0] for r in raws if r.data is not None]
    statuses = Counter(f"{name}: {level.status}" for values in leads for name, level
                       in with_clocks.decide(values, (), now).service_levels.items())
    gc.collect()
    gc.freeze()

    def decide_loop(engine: Engine, chunk: Sequence[dict[str, Any]]) -> None:
        decide, bound = engine.decide, engine.compiled.bind(now)
        for values in chunk:
            decide(values, (), now, bound)

    def records_loop(engine: Engine, chunk: Sequence[RawRecord]) -> None:
        dumps = orjson.dumps
        for rec in engine.records(chunk, now):
            dumps(rec, option=JSON_OPTIONS)

    bodies: dict[str, Callable[[Any], object]] = {
        "decide, no service levels": partial(decide_loop, without),
        "decide, 4 service levels": partial(decide_loop, with_clocks),
    }
    timed = race(repeats, bodies, chunked(leads, 5_000))
    record_bodies: dict[str, Callable[[Any], object]] = {
        "records + dumps, no service levels": partial(records_loop, without),
        "records + dumps, 4 service levels": partial(records_loop, with_clocks),
    }
    timed.update(race(repeats, record_bodies, chunked(raws, 5_000)))

    report = Report()
    section = f"decisions with and without service-level clocks ({len(leads):,} leads)"
    rows = []
    for base_name, clock_name in (("decide, no service levels", "decide, 4 service levels"),
                                  ("records + dumps, no service levels",
                                   "records + dumps, 4 service levels")):
        base = timed[base_name] / len(leads) * 1e6
        value = timed[clock_name] / len(leads) * 1e6
        report.add(section, Row(base_name, base, "us", note=f"{1e6 / base:,.0f} decisions/s"))
        rows.append(report.add(section, Row(clock_name, value, "us", base, TARGET,
                                            f"{1e6 / value:,.0f} decisions/s")))

    # The calendar's per-call cost, on instants spread over a year of the business calendar.
    calendar = next(c for c in with_clocks.clocks.clocks if c.seconds is not None).calendar
    rng = random.Random(args.seed)
    start = datetime.fromisoformat("2026-01-01T00:00:00+00:00").timestamp()
    instants = [start + rng.random() * 365 * 86400 for _ in range(20_000)]
    calls = {"calendar.add_seconds (24 business hours)":
             lambda xs: [calendar.add_seconds(x, 86400.0) for x in xs],
             "calendar.elapsed (over 3 days)":
             lambda xs: [calendar.elapsed(x, x + 3 * 86400) for x in xs]}
    per_call = race(repeats, calls, [instants])
    for name, seconds in per_call.items():
        report.add("calendar calls", Row(name, seconds / len(instants) * 1e9, "ns"))
    print(report.table())
    print("\nclock statuses among these leads:")
    for key, count in sorted(statuses.items()):
        print(f"  {key:<40} {count:>8,}")

    result = {"command": "python benchmarks/bench_clocks.py " + " ".join(
                  sys.argv[1:] if argv is None else argv),
              "machine": info, "now": NOW_TEXT, "leads": len(leads), "target": TARGET,
              "sections": {name: [row.to_json() for row in rows]
                           for name, rows in report.sections.items()},
              "statuses": dict(sorted(statuses.items())),
              "all_targets_met": all(row.met for row in rows)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"\nresults: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 1 if args.check and not result["all_targets_met"] else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
