"""`evaluate`, `explain` and `test`: the commands that run leads through the agreement."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import click
import orjson

from ..agreement.describe import allowance_text, party_label, score_label, stage_label
from ..agreement.diagnostics import AgreementError, UsageError
from ..api import Agreement, load_agreement
from ..evaluate.coerce import error_text
from ..evaluate.decision import Decision
from ..evaluate.evaluator import Engine
from ..evaluate.intake import check_columns, check_file, open_leads, peek_columns
from ..evaluate.leads import BOM, RawRecord, detect_format, file_size, jsonl_records
from ..evaluate.literals import as_instant
from ..evaluate.mapping import MappingFile, read_mapping
from ..evaluate.records import WRITERS, Tally, write_csv
from ..evaluate.testing import run_tests
from ..reports.weekly import business_time_text
from .parallel import auto_jobs, can_fork, evaluate_parallel

agreement_option = click.option(
    "--agreement", "agreement_dir", metavar="DIR", default="agreement", show_default=True,
    type=click.Path(path_type=Path), help="Agreement folder.")
now_option = click.option(
    "--now", "now_text", metavar="ISO", help="Evaluation time (default: the current time).")
mapping_option = click.option(
    "--mapping", "mapping_file", metavar="FILE", type=click.Path(path_type=Path),
    help="YAML {field: column} read instead of the fields' `source` (see examples/mappings).")


def parse_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"`{text}` is not an ISO 8601 time, e.g. 2026-11-20T10:00:00Z",
                                 param_hint="--now") from None
    try:  # refused here as the engine would refuse it: as bad usage, exit 2
        as_instant(now, UTC, now=True)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None
    return now


def open_agreement(folder: Path) -> Agreement:
    """Load the agreement or print why it is invalid and exit 1."""
    try:
        return load_agreement(folder)
    except AgreementError as exc:
        for diag in exc.errors:
            click.echo(diag.format(), err=True)
        click.echo(f"slaengine: {folder} is not a valid agreement (run `slaengine validate`)",
                   err=True)
        sys.exit(1)


_WARNED: set[str] = set()


def warn(warnings: tuple[str, ...]) -> None:
    """Each warning about the lead file, once, on stderr (a file checked for one engine and
    read by another is not warned about twice)."""
    for text in warnings:
        if text not in _WARNED:
            _WARNED.add(text)
            click.echo(f"slaengine: warning: {text}", err=True)


def warn_one(text: str) -> None:
    """`warn` for a warning known only once the file is read (the footer a mapping left out)."""
    warn((text,))


def duckdb_engine(engine: Engine, leads_path: str) -> Engine | None:
    """The engine DuckDB reads the file with (its columns checked, a shipped mapping found),
    or None when the mapping's options leave the file to the Python engine."""
    if leads_path != "-":
        engine, warnings = check_file(engine, leads_path)
        warn(warnings)
    return None if python_reads_mapping(engine) else engine


def checked_leads(engine: Engine, leads_path: str, progress: Progress | None = None
                  ) -> tuple[Engine, Iterator[RawRecord]]:
    """The lead file's records after its columns are checked against the engine (exit 2 when
    it lacks the key or most named columns), with the engine that reads them."""
    lead_file = open_leads(engine, leads_path if leads_path == "-" else Path(leads_path),
                           on_open=progress.opened if progress is not None else None,
                           on_warning=warn_one)
    warn(lead_file.warnings)
    return lead_file.engine, lead_file.records


def python_reads_mapping(engine: Engine) -> bool:
    """Whether the mapping has options only the Python engine reads exactly; if so, says that
    `--engine duckdb` runs on the Python engine for this file (the same records)."""
    options = engine.mapping.python_only if isinstance(engine.mapping, MappingFile) else []
    if options:
        listed = ", ".join(f"`{o}`" for o in options)
        click.echo(f"slaengine: note: the mapping's {listed} are read by the Python engine, "
                   "which evaluates this file instead of DuckDB (the same records)", err=True)
    return bool(options)


def engine_for(agreement: Agreement, mapping_file: Path | None) -> Engine:
    if mapping_file is None:
        return agreement.engine
    return agreement.with_mapping(read_mapping(mapping_file, agreement.spec.fields))


class Progress:
    """A progress bar on stderr for long runs at a terminal, from the file's byte position.

    It looks at the position every 16,384 records, so it costs nothing per record; it is
    never shown in pipes, CI logs or for small files.
    """

    WIDTH = 30

    def __init__(self, total_bytes: int | None):
        self.total = total_bytes
        self.handle: BinaryIO | None = None
        self.shown = sys.stderr.isatty() and total_bytes is not None and total_bytes >= 5_000_000

    def opened(self, handle: BinaryIO) -> None:
        self.handle = handle

    def line(self, count: int, elapsed: float) -> str:
        rate = count / elapsed if elapsed > 0 else 0.0
        done = 0.0
        if self.handle is not None and self.total:
            try:
                done = min(self.handle.tell() / self.total, 1.0)
            except (OSError, ValueError):  # closed or unseekable: show the count alone
                done = 0.0
        filled = int(done * self.WIDTH)
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        eta = ""
        if 0 < done < 1 and elapsed > 0:
            left = elapsed * (1 - done) / done
            eta = f" · {int(left // 60)}:{int(left % 60):02d} left"
        return f"\r  {bar} {done:4.0%} · {count:,} records · {rate:,.0f}/s{eta}"

    def start(self) -> None:
        self.started = self.last = time.monotonic()

    def tick(self, count: int) -> None:
        """Redraw the bar, at most four times a second."""
        now = time.monotonic()
        if now - self.last > 0.25:
            self.last = now
            click.echo(self.line(count, now - self.started), err=True, nl=False)

    def clear(self) -> None:
        if self.shown:
            click.echo("\r" + " " * 79 + "\r", err=True, nl=False)

    def follow(self, records: Iterator[RawRecord]) -> Iterator[RawRecord]:
        if not self.shown:
            yield from records
            return
        self.start()
        for count, record in enumerate(records, 1):
            if count & 0x3FFF == 0:
                self.tick(count)
            yield record
        self.clear()


@click.command("evaluate")
@click.option("--leads", "leads_path", required=True, metavar="FILE",
              help="CSV, JSONL or Parquet lead export; `-` reads JSONL from stdin.")
@agreement_option
@now_option
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), default="jsonl",
              show_default=True)
@click.option("--explain", is_flag=True, help="Add every definition's explanation (jsonl).")
@click.option("--engine", "engine_name", type=click.Choice(["python", "duckdb"]), default="python",
              show_default=True)
@mapping_option
@click.option("--jobs", "jobs_text", metavar="N|auto", default="auto", show_default=True,
              help="Processes for a JSON Lines file to JSON Lines output; `auto` uses every "
                   "core for a file over 8 MB. The output is the same, in input order.")
@click.option("--fail-on", "fail_on", type=click.Choice(["errors", "never"]), default="errors",
              show_default=True,
              help="Exit 1 when a record has errors (`errors`), or exit 0 anyway (`never`): "
                   "the errors are still written with each record and counted on stderr.")
@click.option("--raw-csv", is_flag=True,
              help="With --format csv, write lead text as it is: by default a cell that "
                   "starts with = + - @, a tab or a carriage return gets a ' before it, so "
                   "a spreadsheet shows it instead of running it as a formula.")
def evaluate_command(leads_path: str, agreement_dir: Path, now_text: str | None, fmt: str,
                     explain: bool, engine_name: str, mapping_file: Path | None,
                     jobs_text: str, fail_on: str, raw_csv: bool) -> None:
    """Classify, score and place every lead of a file; one output record per input record."""
    now = parse_now(now_text)
    agreement = open_agreement(agreement_dir)
    engine = engine_for(agreement, mapping_file)
    writer = partial(write_csv, raw=True) if raw_csv and fmt == "csv" else WRITERS[fmt]
    duck = duckdb_engine(engine, leads_path) if engine_name == "duckdb" else None
    if duck is not None:
        _evaluate_with_duckdb(duck, leads_path, now, fmt, explain, fail_on, raw_csv)
    path = Path(leads_path)
    size = file_size(path) if leads_path != "-" else None
    jobs = parse_jobs(jobs_text, size)
    parallel = (jobs > 1 and fmt == "jsonl" and not explain
                and (leads_path == "-" or detect_format(path) == "jsonl")
                and not (isinstance(engine.mapping, MappingFile) and engine.mapping.has_footer))
    progress = Progress(size)
    tally = Tally()
    started = time.perf_counter()
    sys.stdout.flush()
    # Our own buffer: with PYTHONUNBUFFERED (common in containers) every record would
    # otherwise be a write system call of its own.
    with open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False) as out:
        if parallel:
            engine = _checked_for_parallel(engine, leads_path)
            _evaluate_in_parallel(engine, leads_path, now, jobs, out, tally, progress)
        else:
            engine, records = checked_leads(engine, leads_path, progress)
            records = progress.follow(records)
            results = (_explained(engine, records, now) if explain
                       else engine.records(records, now))
            writer(tally.count(results), out, engine)
    click.echo(tally.summary(engine, time.perf_counter() - started), err=True)
    sys.exit(1 if tally.with_errors and fail_on == "errors" else 0)


def _evaluate_with_duckdb(engine: Engine, leads_path: str, now: datetime, fmt: str,
                          explain: bool, fail_on: str, raw_csv: bool = False) -> None:
    """The same records, computed by DuckDB from the compiled SQL (`slaengine.sql.duckdb`)."""
    if explain:
        raise UsageError("--explain needs --engine python (explanations interpret the "
                         "condition tree in Python)")
    try:  # DuckDB and sqlglot are optional (the `sql` extra)
        duck = importlib.import_module("slaengine.sql.duckdb.runner")
        flat = importlib.import_module("slaengine.sql.duckdb.csvlines")
    except ImportError:
        raise UsageError("the duckdb engine needs DuckDB and sqlglot: "
                         "pip install 'slaengine[sql]'") from None

    tally = Tally()
    started = time.perf_counter()
    run = duck.DuckRun(engine, leads_path, now)
    engine = run.engine
    warn(run.warnings)
    sys.stdout.flush()
    with open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False) as out:
        if fmt == "csv" and flat.native_csv(run):  # written by DuckDB, not row by row
            flat.write_csv(run, out, tally, raw_csv)
        elif fmt == "csv":
            write_csv(tally.count(run.records()), out, engine, raw=raw_csv)
        else:
            WRITERS[fmt](tally.count(run.records()), out, engine)
    click.echo(tally.summary(engine, time.perf_counter() - started), err=True)
    sys.exit(1 if tally.with_errors and fail_on == "errors" else 0)


def parse_jobs(text: str, size: int | None) -> int:
    if text == "auto":
        return auto_jobs(size)
    if not text.isdigit() or int(text) < 1:
        raise click.BadParameter(f"`{text}` is not a number of processes (1 or more) or `auto`",
                                 param_hint="--jobs")
    jobs = int(text)
    if jobs > 1 and not can_fork():
        raise UsageError("--jobs above 1 needs the fork start method, which this system lacks")
    return jobs


def _checked_for_parallel(engine: Engine, leads_path: str) -> Engine:
    """The columns of the JSON Lines the workers will read, checked from the first lines
    (stdin: the lines already buffered, which reading them does not consume)."""
    if leads_path != "-":
        engine, warnings = check_file(engine, leads_path, "jsonl")
    else:
        peek = getattr(sys.stdin.buffer, "peek", None)
        head = peek(1 << 16).removeprefix(BOM) if peek is not None else b""
        lines = head.split(b"\n")[:-1] if b"\n" in head else [head]
        columns, _ = peek_columns(jsonl_records(lines), "jsonl")
        engine, warnings = check_columns(engine, columns, "stdin", "jsonl")
    warn(warnings)
    return engine


def _evaluate_in_parallel(engine: Engine, leads_path: str, now: datetime, jobs: int,
                          out: BinaryIO, tally: Tally, progress: Progress) -> None:
    out.flush()  # the workers write the records to the descriptor themselves, in order
    if leads_path == "-":
        evaluate_parallel(engine, sys.stdin.buffer, now, jobs, out.write, tally,
                          out_fd=out.fileno())
        return
    try:
        handle = open(leads_path, "rb")  # noqa: SIM115 - closed below, after the workers
    except OSError as exc:
        raise UsageError(f"{leads_path}: cannot read the lead file: {exc.strerror}") from None
    with handle:
        progress.opened(handle)
        progress.start()
        evaluate_parallel(engine, handle, now, jobs, out.write, tally, leads_path,
                          progress.tick if progress.shown else None, out_fd=out.fileno())
        progress.clear()


def _explained(engine: Engine, records: Iterator[RawRecord],
               now: datetime) -> Iterator[dict[str, Any]]:
    for decision in engine.evaluate_many(records, now, in_full=True):
        rec = decision.to_json()
        if decision.evaluated:
            rec["explanations"] = {name: decision.explanation(name).to_json()
                                   for name in engine.definition_names}
        yield rec


def _read_one(path: str, record_id: str | None, engine: Engine) -> tuple[Engine, Any]:
    """The lead to explain, with the engine that reads it: a lead file's columns are checked
    first (exit 2 when it lacks the key column), as for `evaluate`."""
    if (path != "-" and Path(path).suffix.lower() == ".json") or path == "-":
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"{path}: not a JSON object: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"{path}: expected one lead as a JSON object")
        return engine, data
    engine, records = checked_leads(engine, path)
    for record in records:
        if record.data is None:
            continue
        values, _ = engine.coerce(record.data)
        if record_id is None or str(values.get(engine.key_field or "id")) == record_id:
            return engine, record.data
    raise UsageError(f"{path}: no lead" + (f" with id `{record_id}`" if record_id else ""))


def explain_text(decision: Decision, definitions: list[str]) -> str:
    engine = decision.engine
    local_now = decision.now.astimezone(engine.tz).isoformat(sep=" ", timespec="minutes")
    lines = [f"Lead {decision.id if decision.id is not None else '(no id)'} · agreement "
             f"{engine.version} ({engine.digest[:19]}…) · now {local_now} {engine.spec.timezone}"]
    spec = engine.spec
    stage = f"{stage_label(spec, decision.stage)} [{decision.stage}]" if decision.stage else "none"
    lines.append(f"Stage: {stage}"
                 + (f" (owner: {party_label(spec, decision.owner)})" if decision.owner else ""))
    for name, score in decision.scores.items():
        lines.append(f"{score_label(spec, name)} [{name}]: {score.value:g}"
                     + (f" ({score.band})" if score.band else ""))
    lines.extend(f"Violation [{v.code}]: {v.message}" for v in decision.violations)
    lines.extend(f"Error: {error_text(e.to_json())}" for e in decision.errors)
    lines.extend(_service_level_lines(decision))
    for name in definitions:
        lines.append("")
        result = decision.explanation(name)
        title = engine.spec.definitions[name].title or name
        lines.append(f"{'✓' if result.matched else '✗'} {title} [{name}]")
        lines.extend("  " + node.line() for node in result.flatten())
    return "\n".join(lines)


def _service_level_lines(decision: Decision) -> list[str]:
    """Every service level's clock for the lead: status, due time and time elapsed."""
    engine = decision.engine
    levels = engine.spec.service_levels
    if not levels:
        return []
    lines = ["", "Service levels:"]
    for name, clock in decision.service_levels.items():
        level = levels[name]
        business = level.calendar is not None
        parts = [_STATUS_WORDS.get(clock.status, clock.status)]
        if clock.due_at is not None:
            due = clock.due_at.astimezone(engine.tz)
            parts.append(f"due {due:%a} {due.day} {due:%b %Y %H:%M}")
        if clock.elapsed is not None:
            spent = business_time_text(clock.elapsed.total_seconds())
            parts.append(f"{spent} {'of business time ' if business else ''}elapsed")
        allowance = allowance_text(level.within, business)
        lines.append(f"  {level.title} [{name}], {allowance}: " + " · ".join(parts))
    return lines


_STATUS_WORDS = {"not_applicable": "does not apply", "not_started": "not started",
                 "running": "running", "at_risk": "at risk", "met": "met",
                 "breached": "breached"}


@click.command("explain")
@click.option("--lead", "lead_path", required=True, metavar="FILE|-",
              help="A JSON object, or a lead file with --id picking the record.")
@click.option("--id", "record_id", metavar="ID", help="Which record of a lead file.")
@click.option("--definition", "only", multiple=True, metavar="NAME",
              help="Explain only this definition (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@agreement_option
@now_option
@mapping_option
def explain_command(lead_path: str, record_id: str | None, only: tuple[str, ...], fmt: str,
                    agreement_dir: Path, now_text: str | None, mapping_file: Path | None) -> None:
    """Every condition of every definition for one lead, with the value it saw."""
    now = parse_now(now_text)
    agreement = open_agreement(agreement_dir)
    engine = engine_for(agreement, mapping_file)
    unknown = [n for n in only if n not in engine.spec.definitions]
    if unknown:
        raise click.BadParameter(f"unknown definition `{unknown[0]}`", param_hint="--definition")
    engine, lead = _read_one(lead_path, record_id, engine)
    decision = engine.evaluate(lead, now)
    names = list(only) or list(engine.definition_names)
    if fmt == "json":
        doc = decision.to_json()
        doc["explanations"] = {n: decision.explanation(n).to_json() for n in names}
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(explain_text(decision, names))
    sys.exit(1 if decision.errors else 0)


@click.command("test")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@agreement_option
@click.option("--strict", is_flag=True, help="Also fail when a definition or score is untested.")
def test_command(folder: Path | None, agreement_dir: Path, strict: bool) -> None:
    """Run the example leads in the agreement's tests/ folder against it."""
    agreement = open_agreement(folder or agreement_dir)
    report = run_tests(agreement.engine, agreement.tests, agreement.loaded.locate)
    for result in report.results:
        where = result.location.display() if result.location else "?"
        if result.passed:
            click.echo(f"ok    {result.case.name}")
            continue
        click.echo(f"FAIL  {result.case.name}  ({where})")
        if result.problem:
            click.echo(f"      {result.problem}")
        for mismatch in result.mismatches:
            click.echo(f"      {mismatch.line()}")
            if mismatch.definition and result.decision is not None:
                for node in result.decision.explanation(mismatch.definition).flatten():
                    click.echo("        " + node.line())
    for gap in report.uncovered:
        click.echo(f"untested: {gap}")
    click.echo(f"{report.passed} passed, {report.failed} failed")
    failed = report.failed > 0 or (strict and bool(report.uncovered))
    sys.exit(1 if failed else 0)
