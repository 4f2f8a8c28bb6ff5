"""How fast slaengine evaluates leads, each number a ratio to a baseline measured in the same run.

    python benchmarks/bench_evaluate.py            # full: 1,000,000-lead batch (a few minutes)
    python benchmarks/bench_evaluate.py --quick    # 100,000-lead batch, fewer repeats (~1 min)

1. one definition: the compiled evaluator of a one-definition agreement (ICP fit, exclusions,
   recent activity, a 9-rule engagement score) against a hand-written Python function of the
   same rule, on the same pre-coerced leads. Target: at most 2x the hand-written function.
2. full decision: `Engine.decide` with the example agreement (6 definitions, the score and its
   band, the lifecycle stage and its violations, recycling, the guarantee, the Decision
   object), against the same hand-written function. Target: at most 5x, for the decision the
   evaluator issue defines (no service levels); with the four clocks it is reported too, and
   their cost has its own target in bench_clocks.py.
3. batch end to end: `slaengine evaluate --leads FILE --format jsonl > /dev/null` in a
   subprocess, against a subprocess that reads the same file line by line, parses each line
   with orjson and writes an output record of the same shape with orjson. Targets (1M
   leads): the default (`--jobs auto`, every core) at most 1.5x the baseline's wall time and
   `--jobs 1` at most 2x (both were 2.5x for the default before), peak RSS under 300 MB, and
   RSS flat in the number of leads.

Also reported, without a target: where a lead's time goes in the batch path (read, coerce,
compiled run, lifecycle, Decision, to_json, orjson dumps), measured stage by stage in process;
and, beside the batch baseline, a reference subprocess that also reads every field of each
lead as its declared type (`minimal_reader`): how much of the batch targets that alone takes.

Results go to benchmarks/results/evaluate.json (evaluate-quick.json with --quick) with the
machine's description. Lead files are generated once (seeded) and cached in --data-dir.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import inspect
import itertools
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar

import orjson

from generate_leads import GENERATOR_VERSION, write_leads

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
NOW_TEXT: Final = "2026-11-20T10:00:00+01:00"
JSON_OPTIONS: Final = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
T = TypeVar("T")
CHUNK: Final = 5_000  # leads per timed run: short runs dodge a busy machine's slow spells
# The example agreement's service levels: the baseline writes one clock entry for each.
SERVICE_LEVELS: Final = ("mql_first_touch", "mql_accept_or_reject", "event_lead_delivery",
                         "sql_to_opportunity")
TARGETS: Final = {"one_definition": 2.0, "full_decision": 5.0, "batch": 1.5,
                   "batch_one_core": 2.0, "rss_mb": 300.0}

# ---------------------------------------------------------------- the one-definition agreement

_INDUSTRIES: Final = ["software", "fintech", "healthcare", "manufacturing", "retail", "other"]
_COUNTRIES: Final = ["NL", "BE", "DE", "FR", "GB", "IE", "SE", "DK"]
_STAGES: Final = ["lead", "mql"]
_COMPETITORS: Final = ["tableau.example", "looker.example", "qlik.example", "sisense.example"]
_EDU_PATTERN: Final = r"\.edu$"
_NOT_A_BUYER_PATTERN: Final = r"(?i)\b(intern|student|trainee)\b"
_SENIOR: Final = ["c_level", "vp", "director"]

ONE_DEFINITION: Final[dict[str, Any]] = {
    "agreement": "One-definition benchmark",
    "version": "1.0.0",
    "timezone": "Europe/Amsterdam",
    "parties": {"marketing": {"lead": {"name": "Dana Whitfield"}},
                "sales": {"lead": {"name": "Raj Patel"}}},
    "fields": {
        "id": {"type": "string", "key": True},
        "email_domain": {"type": "string"},
        "employee_count": {"type": "integer"},
        "industry": {"type": "string"},
        "country": {"type": "string"},
        "job_title": {"type": "string"},
        "seniority": {"type": "string"},
        "source": {"type": "string"},
        "stage": {"type": "string"},
        "demo_requested": {"type": "boolean"},
        "pricing_page_visits": {"type": "integer"},
        "email_clicks": {"type": "integer"},
        "content_downloads": {"type": "integer"},
        "webinar_attended": {"type": "boolean"},
        "last_activity_at": {"type": "datetime"},
    },
    "definitions": {"mql": {"when": {"all": [
        {"field": "employee_count", "between": [50, 5000]},
        {"field": "industry", "in": _INDUSTRIES},
        {"field": "country", "in": _COUNTRIES},
        {"field": "source", "ne": "purchased_list"},
        {"field": "stage", "in": _STAGES},
        {"not": {"field": "email_domain", "in": _COMPETITORS}},
        {"not": {"field": "email_domain", "matches": _EDU_PATTERN}},
        {"field": "last_activity_at", "within": "30d"},
        {"any": [
            {"score": "engagement", "gte": 40},
            {"all": [{"field": "source", "eq": "partner_referral"},
                     {"score": "engagement", "gte": 25}]},
        ]},
    ]}}},
    "scores": {"engagement": {"rules": [
        {"when": {"field": "demo_requested", "eq": True}, "points": 30},
        {"field": "pricing_page_visits", "points_each": 5, "max": 15},
        {"field": "email_clicks", "points_each": 2, "max": 10},
        {"field": "content_downloads", "points_each": 5, "max": 15},
        {"when": {"field": "webinar_attended", "eq": True}, "points": 10},
        {"when": {"field": "source", "eq": "partner_referral"}, "points": 15},
        {"when": {"field": "seniority", "in": _SENIOR}, "points": 10},
        {"when": {"field": "last_activity_at", "older_than": "60d"}, "points": -20},
        {"when": {"field": "job_title", "matches": _NOT_A_BUYER_PATTERN}, "points": -30},
    ]}},
}

# ---------------------------------------------------------------- the hand-written baseline

INDUSTRIES: Final = frozenset(_INDUSTRIES)
COUNTRIES: Final = frozenset(_COUNTRIES)
STAGES: Final = frozenset(_STAGES)
COMPETITORS: Final = frozenset(_COMPETITORS)
SENIOR: Final = frozenset(_SENIOR)
IS_EDU: Final = re.compile(_EDU_PATTERN).search
NOT_A_BUYER: Final = re.compile(_NOT_A_BUYER_PATTERN).search
THIRTY_DAYS: Final = timedelta(days=30)
SIXTY_DAYS: Final = timedelta(days=60)


def engagement(lead: Mapping[str, Any], now: datetime) -> int:
    """The engagement score: 9 rules over a coerced lead (missing values are None)."""
    score = 0
    if lead.get("demo_requested") is True:
        score += 30
    visits = lead.get("pricing_page_visits")
    if visits is not None:
        score += min(visits * 5, 15)
    clicks = lead.get("email_clicks")
    if clicks is not None:
        score += min(clicks * 2, 10)
    downloads = lead.get("content_downloads")
    if downloads is not None:
        score += min(downloads * 5, 15)
    if lead.get("webinar_attended") is True:
        score += 10
    if lead.get("source") == "partner_referral":
        score += 15
    if lead.get("seniority") in SENIOR:
        score += 10
    last_activity = lead.get("last_activity_at")
    if last_activity is not None and last_activity < now - SIXTY_DAYS:
        score -= 20
    title = lead.get("job_title")
    if title is not None and NOT_A_BUYER(title):
        score -= 30
    return score


def hand_written_mql(lead: Mapping[str, Any], now: datetime) -> bool:
    """The one-definition agreement's rule, written by hand: cheapest tests first."""
    employees = lead.get("employee_count")
    if employees is None or not 50 <= employees <= 5000:
        return False
    if lead.get("industry") not in INDUSTRIES or lead.get("country") not in COUNTRIES:
        return False
    source = lead.get("source")
    if source is None or source == "purchased_list":
        return False
    if lead.get("stage") not in STAGES:
        return False
    domain = lead.get("email_domain")
    if domain is not None and (domain in COMPETITORS or IS_EDU(domain)):
        return False
    last_activity = lead.get("last_activity_at")
    if last_activity is None or not now - THIRTY_DAYS <= last_activity <= now:
        return False
    score = engagement(lead, now)
    return score >= 40 or (source == "partner_referral" and score >= 25)


# ---------------------------------------------------------------- the batch baseline (child)


def baseline_child(path: str, read: Callable[[dict[str, Any]], object] | None = None) -> int:
    """Read JSON Lines, write an `evaluate`-shaped record per line to stdout: the I/O floor
    (with `read`, called on each parsed lead: the reference)."""
    loads, dumps, error = orjson.loads, orjson.dumps, orjson.JSONDecodeError
    version, digest = "2.1.0", "sha256:" + "0" * 64
    count = 0
    # A buffered writer of its own: with PYTHONUNBUFFERED set, sys.stdout.buffer is unbuffered.
    with open(path, "rb") as handle, open(sys.stdout.fileno(), "wb", closefd=False) as out:
        write = out.write
        for line in handle:
            count += 1
            try:
                lead = loads(line)
            except error:
                lead = {}
            if read is not None:
                read(lead)
            score = lead.get("email_clicks")
            score = score if score.__class__ is int else 0
            write(dumps({
                "id": lead.get("id"), "version": version, "digest": digest,
                "definitions": {"excluded": False, "icp_fit": False, "mql": False,
                                "sales_ready": False, "sal": False, "sql": False},
                "scores": {"engagement": score},
                "bands": {"engagement": "cold" if score < 40 else "warm"},
                "stage": lead.get("stage"), "owner": "marketing",
                "violations": [], "service_levels": {
                    name: {"status": "not_started" if lead.get("stage") else "not_applicable",
                           "due_at": None, "elapsed_s": None, "remaining_s": None,
                           "late_s": None} for name in SERVICE_LEVELS},
                "recycle": None, "credit": None, "errors": [],
            }, option=JSON_OPTIONS))
    print(f"{count:,} records", file=sys.stderr)
    return 0


def minimal_reader(fields: Mapping[str, Mapping[str, Any]]) -> Callable[[dict[str, Any]], object]:
    """The least any engine must do to a parsed lead before its rules: every field of the
    agreement read as its declared type, a wrong type noted (no text to parse but ISO
    date-times, no timezone, no located errors). Generated, as a hand-written one would be."""
    checks = {
        "string": "v if v.__class__ is str else None",
        "integer": "v if v.__class__ is int else None",
        "number": "v if v.__class__ is float or v.__class__ is int else None",
        "boolean": "v if v is True or v is False else None",
        "datetime": "iso(v) if v.__class__ is str else None",
        "date": "iso(v) if v.__class__ is str else None",
        "list": "v if v.__class__ is list else None",
    }
    lines = ["def read(lead):", "    get, out, wrong = lead.get, {}, []"]
    for name, spec in fields.items():
        lines += [f"    v = get({name!r})", "    if v is not None:",
                  f"        out[{name!r}] = x = {checks[spec['type']]}",
                  "        if x is None:", f"            wrong.append({name!r})"]
    lines.append("    return out, wrong")

    def iso(text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None

    namespace: dict[str, Any] = {"iso": iso}
    exec("\n".join(lines), namespace)  # our own generated source
    reader: Callable[[dict[str, Any]], object] = namespace["read"]
    return reader


def reference_child(path: str) -> int:
    """The baseline, plus `minimal_reader` on every lead: how much of the batch targets the
    reading of the fields alone takes, before any rule, stage or clock."""
    import yaml  # noqa: PLC0415

    fields = yaml.safe_load((ROOT / "agreement" / "fields.yaml").read_text())["fields"]
    return baseline_child(path, minimal_reader(fields))


# ---------------------------------------------------------------- timing helpers


def race(repeats: int, bodies: Mapping[str, Callable[[T], object]],
         chunks: Sequence[T]) -> dict[str, float]:
    """Seconds each body takes over all chunks: per chunk the fastest of `repeats` runs.

    Each body first runs once over every chunk (warm-up). Then, round after round, every body
    runs on every chunk in turn, so a slow spell of the machine (a busy neighbour on a shared
    host, a frequency change) hits them all alike; short chunks let the best-of pick the quiet
    moments for each part of the data.
    """
    for body in bodies.values():
        for chunk in chunks:
            body(chunk)
    best = {name: [float("inf")] * len(chunks) for name in bodies}
    clock = time.perf_counter
    for _ in range(repeats):
        for i, chunk in enumerate(chunks):
            for name, body in bodies.items():
                started = clock()
                body(chunk)
                elapsed = clock() - started
                best[name][i] = min(best[name][i], elapsed)
    return {name: sum(times) for name, times in best.items()}


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@dataclass
class Row:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    target: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        measured = self.ratio if self.baseline else self.value
        return measured is not None and measured <= self.target

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": round(self.value, 4), "unit": self.unit,
                "baseline": None if self.baseline is None else round(self.baseline, 4),
                "ratio": None if self.ratio is None else round(self.ratio, 3),
                "target": self.target, "met": self.met, "note": self.note}


@dataclass
class Report:
    sections: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, section: str, row: Row) -> Row:
        self.sections.setdefault(section, []).append(row)
        return row

    def table(self) -> str:
        lines = []
        for section, rows in self.sections.items():
            lines.append(f"\n{section}")
            lines.append(f"  {'measure':<44} {'value':>12} {'baseline':>12} {'ratio':>7} "
                         f"{'target':>7}  ")
            for row in rows:
                base = f"{row.baseline:,.3f}" if row.baseline is not None else ""
                ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
                target = ("" if row.target is None else
                          f"<={row.target:g}" + ("x" if row.baseline else ""))
                verdict = {True: "ok", False: "MISSED", None: ""}[row.met]
                lines.append(f"  {row.name:<44} {row.value:>9,.3f} {row.unit:<2} {base:>12} "
                             f"{ratio:>7} {target:>7}  {verdict} {row.note}".rstrip())
        return "\n".join(lines)


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  check=False).stdout.strip()
        except OSError:
            return ""

    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": model or platform.processor(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "orjson": orjson.__version__,
        "commit": git("rev-parse", "--short", "HEAD"),
        "src_modified": bool(git("status", "--porcelain", "--", "src")),
        "src_diff_sha256": hashlib.sha256(git("diff", "HEAD", "--", "src").encode()).hexdigest(),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


# ---------------------------------------------------------------- data


def lead_file(data_dir: Path, n: int, seed: int) -> Path:
    """The cached JSON Lines file of `n` generated leads; generated when missing."""
    path = data_dir / f"leads-{n}-seed{seed}-g{GENERATOR_VERSION}.jsonl"
    if not path.exists():
        print(f"generating {path} ({n:,} leads) ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        write_leads(path, n, seed, "jsonl")
        print(f"  done in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    return path


def verdicts_of(result: Any) -> Sequence[bool]:
    """The definition verdicts of `compiled.run(...)`, as a tuple or a {name: bool} dict."""
    definitions = result[0]
    return tuple(definitions.values()) if isinstance(definitions, dict) else tuple(definitions)


# ---------------------------------------------------------------- 1 and 2: in process


def bench_in_process(report: Report, leads_path: Path, n: int, repeats: int) -> dict[str, Any]:
    # Imported here, not at the top, so the baseline child process does not load slaengine.
    from slaengine import load_agreement  # noqa: PLC0415
    from slaengine.agreement.models import AgreementSpec  # noqa: PLC0415
    from slaengine.evaluate.evaluator import Engine  # noqa: PLC0415
    from slaengine.evaluate.leads import read_leads  # noqa: PLC0415

    example = load_agreement(ROOT / "agreement").engine
    one = Engine(AgreementSpec.model_validate(ONE_DEFINITION, strict=True), "sha256:" + "0" * 64)
    now = example.instant(datetime.fromisoformat(NOW_TEXT))

    raws: list[Mapping[str, Any]] = []
    for record in read_leads(leads_path):
        if record.data is not None:
            raws.append(record.data)
        if len(raws) == n:
            break
    coerced = [example.coerce(raw) for raw in raws]
    leads = [values for values, _ in coerced]
    gc.collect()
    gc.freeze()  # the leads are long-lived: keep the collector from rescanning them

    # ---- 1. one definition and 2. full decision, timed in turns over the same leads
    run_one: Callable[..., Any] = one.compiled.run
    bind_one: Callable[..., Any] | None = getattr(one.compiled, "bind", None)
    hand = hand_written_mql
    decide = example.decide
    no_errors: tuple[Any, ...] = ()

    def hand_loop(chunk: Sequence[dict[str, Any]]) -> None:
        for values in chunk:
            hand(values, now)

    def compiled_loop(chunk: Sequence[dict[str, Any]]) -> None:
        for values in chunk:
            run_one(values, now)

    def decide_loop(chunk: Sequence[dict[str, Any]]) -> None:
        for values in chunk:
            decide(values, no_errors, now)

    bodies: dict[str, Callable[[Sequence[dict[str, Any]]], object]] = {
        "hand": hand_loop, "run": compiled_loop, "decide": decide_loop}
    if bind_one is not None:  # the compiler binds `now` once per batch
        bound = bind_one(now)

        def bound_loop(chunk: Sequence[dict[str, Any]]) -> None:
            for values in chunk:
                bound(values)

        bodies["bound"] = bound_loop
    decide_any: Callable[..., Any] = example.decide
    bind_full: Callable[..., Any] | None = getattr(example.compiled, "bind", None)
    if bind_full is not None and "bound" in inspect.signature(decide_any).parameters:
        bound_full = bind_full(now)  # as evaluate_many does: `now` bound once per batch

        def decide_bound_loop(chunk: Sequence[dict[str, Any]]) -> None:
            for values in chunk:
                decide_any(values, no_errors, now, bound_full)

        bodies["decide_bound"] = decide_bound_loop
    # The full decision is definitions, scores and stage checks; the service-level
    # clocks came later with their own target (benchmarks/bench_clocks.py), so the target row
    # is the example agreement without its service levels, and the row with them follows.
    plain_spec = example.spec.model_copy(update={"service_levels": {}})
    plain = Engine(plain_spec, example.digest)
    plain_bound = plain.compiled.bind(now)

    def decide_plain_loop(chunk: Sequence[dict[str, Any]]) -> None:
        for values in chunk:
            plain.decide(values, no_errors, now, plain_bound)

    bodies["decide_plain"] = decide_plain_loop
    mismatches = sum(verdicts_of(run_one(v, now))[0] != hand(v, now) for v in leads)
    matched = sum(hand(v, now) for v in leads)
    timed = {name: seconds / len(leads) * 1e9
             for name, seconds in race(repeats, bodies, chunked(leads, CHUNK)).items()}
    t_hand = timed["hand"]
    section = "1. one definition (ns/lead, same pre-coerced leads)"
    report.add(section, Row("hand-written Python function", t_hand, "ns"))
    report.add(section, Row("compiled.run(values, now)", timed["run"], "ns", t_hand,
                            TARGETS["one_definition"],
                            f"mismatches {mismatches}, mql {matched:,}/{len(leads):,}"))
    if "bound" in timed:
        report.add(section, Row("compiled.bind(now) once, then bound(values)", timed["bound"],
                                "ns", t_hand, TARGETS["one_definition"]))
    section = "2. full decision (us/lead; baseline: the hand-written function)"
    report.add(section, Row("Engine.decide: definitions, scores, stages (no clocks)",
                            timed["decide_plain"] / 1e3, "us", t_hand / 1e3,
                            TARGETS["full_decision"], "as evaluate_many calls it (bound)"))
    report.add(section, Row("Engine.decide, with the 4 service-level clocks",
                            timed["decide"] / 1e3, "us", t_hand / 1e3,
                            note="no target here; see bench_clocks.py (<= 2x without)"))
    if "decide_bound" in timed:
        report.add(section, Row("  the same, bound as evaluate_many calls it",
                                timed["decide_bound"] / 1e3, "us", t_hand / 1e3))

    # ---- where a lead's time goes in the batch path: the CLI's loop, streamed from a file of
    # the same leads, built up one stage at a time; each stage costs the difference it makes.
    gc.unfreeze()
    for big in (leads, coerced, raws):
        big.clear()  # free the in-memory leads before streaming
    with tempfile.TemporaryDirectory() as folder:
        files: list[Path] = []
        with open(leads_path, "rb") as handle:
            lines = list(itertools.islice(handle, n))
        for start in range(0, len(lines), CHUNK):
            files.append(Path(folder) / f"part-{start // CHUNK:04d}.jsonl")
            files[-1].write_bytes(b"".join(lines[start:start + CHUNK]))
        del lines
        breakdown = stage_breakdown(report, example, files, now, n, max(3, repeats // 2 + 1))
    return {"leads": n, "mismatches": mismatches, "mql_matched": matched,
            "breakdown_us": breakdown}


BATCH_STAGES: Final = (
    "read + orjson.loads (read_leads)",
    "+ coerce (Engine.coerce)",
    "+ compiled run (definitions, score, band)",
    "+ lifecycle.place (stage, owner, violations)",
    "+ Decision object (decide instead of run + place)",
    "+ Decision.to_json",
    "+ orjson.dumps",
    "+ write to /dev/null",
)


def stage_breakdown(report: Report, engine: Any, files: Sequence[Path], now: datetime, n: int,
                    repeats: int) -> dict[str, float]:
    """Per-lead microseconds of each stage of the batch path, in process (no targets)."""
    from slaengine.evaluate.leads import read_leads  # noqa: PLC0415

    coerce, place, decide = engine.coerce, engine.lifecycle.place, engine.decide
    bind = getattr(engine.compiled, "bind", None)  # `now` bound once per batch, when offered
    run: Callable[[Any], Any] = (bind(now) if bind is not None
                                 else partial(engine.compiled.run, now=now))
    dumps = orjson.dumps
    no_errors: tuple[Any, ...] = ()

    def pipeline(depth: int, path: Path) -> None:
        with open(os.devnull, "wb") as out:
            write = out.write
            for item in read_leads(path):
                data = item.data
                if data is None or depth < 1:
                    continue
                values, _ = coerce(data)
                if depth < 2:
                    continue
                if depth < 4:
                    result = run(values)
                    if depth == 3:
                        place(values, result[0])
                    continue
                decision = decide(values, no_errors, now)
                if depth < 5:
                    continue
                record = decision.to_json()
                if depth < 6:
                    continue
                line = dumps(record, option=JSON_OPTIONS)
                if depth < 7:
                    continue
                write(line)

    bodies: dict[str, Callable[[Path], object]] = {
        name: partial(pipeline, depth) for depth, name in enumerate(BATCH_STAGES)}
    direct_name = "Engine.records + dumps + write (the CLI's loop)"
    records = getattr(engine, "records", None)
    if records is not None:  # the batch path that skips the Decision objects

        def direct(path: Path) -> None:
            with open(os.devnull, "wb") as out:
                write = out.write
                for rec in records(read_leads(path), now):
                    write(dumps(rec, option=JSON_OPTIONS))

        bodies[direct_name] = direct
    timed = {name: seconds / n * 1e6 for name, seconds in race(repeats, bodies, files).items()}
    section = f"where a lead's time goes (us/lead, in process, streamed, {n:,} leads)"
    breakdown: dict[str, float] = {}
    previous = 0.0
    for name in BATCH_STAGES:
        total = timed[name]
        breakdown[name] = round(total - previous, 3)
        report.add(section, Row(name, total - previous, "us", note=f"cumulative {total:.2f}"))
        previous = total
    breakdown["total"] = round(previous, 3)
    if direct_name in timed:
        breakdown[direct_name] = round(timed[direct_name], 3)
        report.add(section, Row(direct_name, timed[direct_name], "us"))
    return breakdown


# ---------------------------------------------------------------- 3. batch, in subprocesses


@dataclass
class Child:
    seconds: float
    cpu_seconds: float
    rss_mb: float
    status: int
    stderr: str


def child_env(unbuffered: bool = False) -> dict[str, str]:
    """This environment, with Python's default (buffered) stdout unless asked otherwise."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


def run_child(command: list[str], env: Mapping[str, str] | None = None) -> Child:
    """Run with stdout to /dev/null; wall time and this child's own peak RSS (wait4)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT,
                                   env=env if env is not None else child_env())
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Child(seconds, usage.ru_utime + usage.ru_stime, rss, process.returncode, text)


def records_reported(stderr: str) -> int | None:
    found = re.search(r"([\d,]+) records?\b", stderr)
    return int(found.group(1).replace(",", "")) if found else None


def slaengine_command(path: Path, jobs: str | None = None) -> list[str]:
    script = Path(sys.executable).parent / "slaengine"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "slaengine"]
    return [*head, "evaluate", "--leads", str(path), "--agreement", str(ROOT / "agreement"),
            "--now", NOW_TEXT, "--format", "jsonl", *(["--jobs", jobs] if jobs else [])]


def bench_batch(report: Report, path: Path, n: int, repeats: int,
                with_target: bool) -> dict[str, Any]:
    baseline_cmd = [sys.executable, str(Path(__file__).resolve()), "--baseline-child", str(path)]
    reference_cmd = [sys.executable, str(Path(__file__).resolve()), "--reference-child",
                     str(path)]
    engine_cmd = slaengine_command(path)  # --jobs auto: every core for a large file
    single_cmd = slaengine_command(path, "1")
    startup_cmd = slaengine_command(path.with_name("empty.jsonl"))
    path.with_name("empty.jsonl").write_bytes(b"")
    runs: dict[str, list[Child]] = {"baseline": [], "reference": [], "slaengine": [],
                                    "single": [], "startup": [], "unbuffered": []}
    for _ in range(repeats):  # interleaved, so drift in the machine hits all alike
        runs["baseline"].append(run_child(baseline_cmd))
        runs["reference"].append(run_child(reference_cmd))
        runs["slaengine"].append(run_child(engine_cmd))
        runs["single"].append(run_child(single_cmd))
    for _ in range(max(2, repeats)):
        runs["startup"].append(run_child(startup_cmd))
    if with_target:  # as in many container images: sys.stdout.buffer is then unbuffered
        runs["unbuffered"].append(run_child(engine_cmd, child_env(unbuffered=True)))
    problems = []
    for name, children in runs.items():
        for child in children:
            counted = records_reported(child.stderr)
            expected = 0 if name == "startup" else n
            # exit 1 from `evaluate` means some records carry errors: the dirty data does.
            if child.status not in (0, 1) or counted != expected:
                problems.append(f"{name}: exit {child.status}, {counted} records reported "
                                f"(expected {expected}): {child.stderr.strip()[-300:]}")
    base = min(c.seconds for c in runs["baseline"])
    engine = min(c.seconds for c in runs["slaengine"])
    base_cpu = min(c.cpu_seconds for c in runs["baseline"])
    engine_cpu = min(c.cpu_seconds for c in runs["slaengine"])
    single = min(c.seconds for c in runs["single"])
    reference = min(c.seconds for c in runs["reference"])
    single_cpu = min(c.cpu_seconds for c in runs["single"])
    startup = min(c.seconds for c in runs["startup"])
    rss = max(c.rss_mb for c in runs["slaengine"] + runs["single"])
    parent_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base_rss = max(c.rss_mb for c in runs["baseline"])
    section = f"3. batch end to end, {n:,} leads (subprocesses, stdout to /dev/null)"
    report.add(section, Row("baseline: orjson read + dumps", base, "s",
                            note=f"{n / base:,.0f} leads/s, peak RSS {base_rss:,.0f} MB, "
                                 f"CPU {base_cpu:.2f}s"))
    report.add(section, Row("reference: baseline + every field read as its type", reference,
                            "s", base, note="no target: what reading the fields alone takes "
                                            "of the targets (see minimal_reader)"))
    report.add(section, Row("slaengine evaluate --format jsonl", engine, "s", base,
                            TARGETS["batch"] if with_target else None,
                            f"{n / engine:,.0f} leads/s, CPU {engine_cpu:.2f}s "
                            f"({engine_cpu / base_cpu:.2f}x)"))
    report.add(section, Row("slaengine evaluate --jobs 1 (one process)", single, "s", base,
                            TARGETS["batch_one_core"] if with_target else None,
                            f"{n / single:,.0f} leads/s, CPU {single_cpu:.2f}s "
                            f"({single_cpu / base_cpu:.2f}x)"))
    report.add(section, Row("  of which startup (load, validate, compile)", startup, "s"))
    if runs["unbuffered"]:
        slow = runs["unbuffered"][0].seconds
        report.add(section, Row("slaengine evaluate with PYTHONUNBUFFERED=1", slow, "s", base,
                                note=f"{n / slow:,.0f} leads/s, one run, no target"))
    report.add(section, Row("slaengine peak RSS", rss, "MB", None,
                            TARGETS["rss_mb"] if with_target else None))
    return {"n": n, "file": str(path), "file_mb": round(path.stat().st_size / 2**20, 1),
            "command": " ".join(engine_cmd) + " > /dev/null",
            "baseline_command": " ".join(baseline_cmd) + " > /dev/null",
            "baseline_s": [round(c.seconds, 3) for c in runs["baseline"]],
            "slaengine_s": [round(c.seconds, 3) for c in runs["slaengine"]],
            "reference_command": " ".join(reference_cmd) + " > /dev/null",
            "reference_s": [round(c.seconds, 3) for c in runs["reference"]],
            "reference_ratio": round(reference / base, 3),
            "jobs_1_command": " ".join(single_cmd) + " > /dev/null",
            "jobs_1_s": [round(c.seconds, 3) for c in runs["single"]],
            "jobs_1_cpu_s": [round(c.cpu_seconds, 3) for c in runs["single"]],
            "jobs_1_ratio": round(single / base, 3),
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "baseline_cpu_s": [round(c.cpu_seconds, 3) for c in runs["baseline"]],
            "slaengine_cpu_s": [round(c.cpu_seconds, 3) for c in runs["slaengine"]],
            "cpu_ratio": round(engine_cpu / base_cpu, 3),
            "startup_s": [round(c.seconds, 3) for c in runs["startup"]],
            "pythonunbuffered_s": [round(c.seconds, 3) for c in runs["unbuffered"]],
            "slaengine_rss_mb": [round(c.rss_mb, 1) for c in runs["slaengine"]],
            "baseline_rss_mb": [round(c.rss_mb, 1) for c in runs["baseline"]],
            "parent_rss_mb_at_spawn": round(parent_rss, 1),
            "ratio": round(engine / base, 3),
            "leads_per_s": round(n / engine), "baseline_leads_per_s": round(n / base),
            "summary": runs["slaengine"][-1].stderr.strip().splitlines()[-1:],
            "problems": problems}


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help="100,000-lead batch and fewer repeats (about a minute)")
    parser.add_argument("--n", type=int, default=None,
                        help="leads in the batch file (default 1,000,000; 100,000 with --quick)")
    parser.add_argument("--micro-n", type=int, default=100_000,
                        help="pre-coerced leads for the in-process measures (default 100,000)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats per in-process measure (default 7; 3 with --quick)")
    parser.add_argument("--batch-repeats", type=int, default=None,
                        help="runs of each batch subprocess (default 3; 2 with --quick)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data",
                        help="where generated lead files are cached (default benchmarks/.data)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default benchmarks/results/evaluate.json, "
                             "evaluate-quick.json with --quick)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--baseline-child", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--reference-child", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_child:
        return baseline_child(args.baseline_child)
    if args.reference_child:
        return reference_child(args.reference_child)

    n = args.n or (100_000 if args.quick else 1_000_000)
    repeats = args.repeats or (3 if args.quick else 7)
    batch_repeats = args.batch_repeats or (2 if args.quick else 3)
    out = args.out or HERE / "results" / ("evaluate-quick.json" if args.quick else "evaluate.json")
    command = "python benchmarks/bench_evaluate.py " + " ".join(sys.argv[1:] if argv is None
                                                                 else argv)
    info = machine()
    print(f"slaengine evaluator benchmark · Python {info['python']} · {info['cpu_count']} CPUs · "
          f"{info['platform']} · {info['cpu']}")

    # The batch subprocesses run first, while this process is small: on Linux a child's peak
    # RSS (wait4's ru_maxrss) starts from its parent's RSS at fork time.
    batch_report, report = Report(), Report()
    batches = []
    sizes = [n] if n == 100_000 else [100_000, n]
    for size in sizes:
        path = lead_file(args.data_dir, size, args.seed)
        batches.append(bench_batch(batch_report, path, size, batch_repeats,
                                   with_target=size == n))
    small = lead_file(args.data_dir, max(args.micro_n, 100_000), args.seed)
    in_process = bench_in_process(report, small, args.micro_n, repeats)
    report.sections.update(batch_report.sections)
    print(report.table())
    problems = [p for b in batches for p in b["problems"]]
    if len(batches) > 1:
        flat = batches[-1]["slaengine_rss_mb"][0] - batches[0]["slaengine_rss_mb"][0]
        print(f"\n  peak RSS from {sizes[0]:,} to {sizes[-1]:,} leads: {flat:+.1f} MB")
    for problem in problems:
        print(f"PROBLEM {problem}")
    rows = [row for rows in report.sections.values() for row in rows]
    result = {
        "command": command.strip(), "mode": "quick" if args.quick else "full",
        "machine": info, "now": NOW_TEXT, "seed": args.seed, "targets": TARGETS,
        "sections": {name: [row.to_json() for row in rows]
                     for name, rows in report.sections.items()},
        "in_process": in_process, "batch": batches,
        "all_targets_met": all(row.met is not False for row in rows),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if in_process["mismatches"] or problems:
        return 1
    return 1 if args.check and not result["all_targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
