"""Per decision: the public API on the peer rule against a hand-written function and zen-engine.

    python benchmarks/bench_peer_decision.py            # 100,000 leads, best of 7
    python benchmarks/bench_peer_decision.py --quick    # 20,000 leads, best of 3

The peer agreement and its typed leads come from `peer.py` (a 12-condition MQL rule with a
capped 9-rule score over 21 fields; about a quarter of the leads reach the score). In one
process, on the same leads, taking turns chunk by chunk (best of --repeats per chunk):

- hand: `peer.hand_written_mql(lead, now)`, the rule as plain Python returning early (the
  baseline);
- reference: `peer.hand_written_decision(lead, now)`, the same function plus the least any
  API that returns a decision adds: a copy of the lead (the caller may reuse its dict) and an
  object whose `definitions["mql"].matched` is the verdict. No target: it shows how much of
  the 1.5x the API's shape alone takes;
- `Agreement.evaluate(lead, now)`, the public call, one lead at a time, reading the verdict
  (`decision.definitions["mql"].matched`);
- `Agreement.evaluate_many(leads, now)`, the public streaming call, reading each verdict;
- its parts, on the same leads: the coercion alone, the compiled rule alone on coerced
  values, and `Engine.decide` on coerced values (no targets);
- zen-engine: `zen.compile_expression(peer.ZEN_EXPRESSION).evaluate(context)`, the same rule
  compiled by zen-engine (Rust) and called from Python, with each lead's context prepared
  beforehand (instants as epoch seconds; that preparation is not timed). zen's `matches`
  compiles its pattern on every call, so it is also timed on the rule less its one regex rule
  (not the same verdicts): "faster than zen" is judged against that lower bound. Skipped,
  saying so, when zen-engine is not installed (`pip install zen-engine`).

Targets: `evaluate` and `evaluate_many` at most 1.5x the hand-written function, and faster
than zen-engine. Before timing, every lead's verdict from each is compared with the
hand-written one: the mismatch counts must be 0. Results: benchmarks/results/peer-decision.json
(peer-decision-quick.json with --quick).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

import orjson

import peer
from bench_evaluate import chunked, machine, race

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
TARGET: Final = 1.5
CHUNK: Final = 2_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20,000 leads, best of 3")
    parser.add_argument("--n", type=int, default=None, help="leads (default 100,000)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    n = args.n or (20_000 if args.quick else 100_000)
    repeats = args.repeats or (3 if args.quick else 7)
    out = args.out or HERE / "results" / ("peer-decision-quick.json" if args.quick
                                          else "peer-decision.json")
    import slaengine  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        agreement = slaengine.load_agreement(peer.agreement_folder(Path(folder) / "a"))
    now = peer.NOW
    leads = list(peer.generate(n, args.seed))
    hand = peer.hand_written_mql
    evaluate, evaluate_many = agreement.evaluate, agreement.evaluate_many
    try:
        import zen  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:
        zen = None

    want = [hand(lead, now) for lead in leads]
    mismatches = {
        "Agreement.evaluate": sum(evaluate(lead, now).definitions["mql"].matched != w
                                  for lead, w in zip(leads, want, strict=True)),
        "Agreement.evaluate_many": sum(
            d.definitions["mql"].matched != w
            for d, w in zip(evaluate_many(leads, now), want, strict=True)),
    }
    # Every body takes a chunk's index and reads its own prepared list of that chunk.
    by_chunk = chunked(leads, CHUNK)
    engine = agreement.engine
    coerce, instant = engine.coerce, engine.instant(now)
    bound, decide = engine.compiled.bind(instant), engine.decide
    coerced = chunked([coerce(lead)[0] for lead in leads], CHUNK)

    def hand_loop(i: int) -> None:
        for lead in by_chunk[i]:
            hand(lead, now)

    hand_decision = peer.hand_written_decision

    def hand_decision_loop(i: int) -> None:
        for lead in by_chunk[i]:
            hand_decision(lead, now).definitions["mql"].matched  # noqa: B018

    def evaluate_loop(i: int) -> None:
        for lead in by_chunk[i]:
            evaluate(lead, now).definitions["mql"].matched  # noqa: B018

    def many_loop(i: int) -> None:
        for decision in evaluate_many(by_chunk[i], now):
            decision.definitions["mql"].matched  # noqa: B018

    def coerce_loop(i: int) -> None:
        for lead in by_chunk[i]:
            coerce(lead)

    def run_loop(i: int) -> None:
        for values in coerced[i]:
            bound(values)

    def decide_loop(i: int) -> None:
        for values in coerced[i]:
            decide(values, (), instant, bound)

    bodies: dict[str, Callable[[int], object]] = {
        "hand-written Python": hand_loop,
        "  reference: hand-written, as a decision": hand_decision_loop,
        "Agreement.evaluate": evaluate_loop,
        "Agreement.evaluate_many": many_loop,
        "  part: Engine.coerce (the lead's values)": coerce_loop,
        "  part: the compiled rule (bound)": run_loop,
        "  part: Engine.decide (rule, stage, Decision)": decide_loop,
    }
    if zen is not None:
        run_zen = zen.compile_expression(peer.ZEN_EXPRESSION).evaluate
        contexts = [peer.zen_context(lead, now) for lead in leads]
        mismatches["zen-engine"] = sum(run_zen(c) != w for c, w in zip(contexts, want,
                                                                        strict=True))
        zen_chunks = chunked(contexts, CHUNK)

        def zen_loop(i: int) -> None:
            for context in zen_chunks[i]:
                run_zen(context)

        bodies["zen-engine (compiled expression)"] = zen_loop
        run_zen_bound = zen.compile_expression(peer.ZEN_WITHOUT_REGEX).evaluate

        def zen_bound_loop(i: int) -> None:
            for context in zen_chunks[i]:
                run_zen_bound(context)

        bodies["zen-engine, less its regex rule"] = zen_bound_loop
    chunks = list(range(len(by_chunk)))
    gc.collect()
    gc.freeze()
    timed = {name: seconds / n * 1e9 for name, seconds in race(repeats, bodies, chunks).items()}
    base = timed["hand-written Python"]
    # "Faster than zen" is judged against zen's lower bound: the rule less its regex rule.
    zen_ns = timed.get("zen-engine, less its regex rule")
    info = machine()
    reached = sum(peer.reaches_score(lead, now) for lead in leads)
    print(f"peer rule per decision · {n:,} leads ({reached / n:.0%} reach the score, "
          f"{sum(want):,} MQLs) · Python {info['python']} · {info['cpu']}")
    print(f"  mismatches with the hand-written function: {mismatches}")
    if zen is None:
        print("  zen-engine is not installed (pip install zen-engine): not measured")
    print(f"  {'measure':<36} {'ns/lead':>9} {'ratio':>7}  target")
    rows = []
    for name, ns in timed.items():
        ratio = ns / base
        target = TARGET if name.startswith("Agreement.") else None
        verdicts = []
        if target is not None:
            verdicts.append("ok" if ratio <= target else "MISSED")
            if zen_ns is not None:
                verdicts.append("faster than zen" if ns < zen_ns else "SLOWER than zen")
        print(f"  {name:<36} {ns:>9,.0f} {ratio:>6.2f}x  "
              f"{'<=' + str(target) + 'x ' if target else ''}{', '.join(verdicts)}")
        rows.append({"name": name, "ns_per_lead": round(ns, 1), "ratio": round(ratio, 3),
                     "target": target, "faster_than_zen": None if zen_ns is None or target is None
                     else ns < zen_ns})
    met = all((r["target"] is None or r["ratio"] <= r["target"])
              and r["faster_than_zen"] is not False for r in rows)
    result = {"command": "python benchmarks/bench_peer_decision.py " + " ".join(
        sys.argv[1:] if argv is None else argv), "machine": info, "n": n, "seed": args.seed,
        "repeats": repeats, "mql": sum(want), "reaching_score": reached,
        "mismatches": mismatches, "zen_engine": getattr(zen, "__version__", None)
        if zen is not None else None, "rows": rows, "all_targets_met": met}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if any(mismatches.values()):
        return 1
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
