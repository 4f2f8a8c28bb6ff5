"""Writers for `evaluate`: one per format, each taking a stream of JSON records."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Final

import orjson

from .coerce import error_text
from .evaluator import Engine

Record = dict[str, Any]
JSONL_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS


@dataclass
class Tally:
    """What the summary line on stderr reports."""

    records: int = 0
    with_errors: int = 0
    unreadable: int = 0
    with_violations: int = 0
    with_warnings: int = 0
    matched: Counter[str] = field(default_factory=Counter)

    def count(self, records: Iterable[Record]) -> Iterator[Record]:
        matched = self.matched
        for rec in records:
            self.records += 1
            if rec["errors"]:
                self.with_errors += 1
                if not rec["definitions"]:
                    self.unreadable += 1
            if rec["violations"]:
                self.with_violations += 1
            if "warnings" in rec:
                self.with_warnings += 1
            for name, hit in rec["definitions"].items():
                if hit:
                    matched[name] += 1
            yield rec

    def add(self, other: Tally) -> None:
        """Count another part of the same run (a chunk evaluated by a worker process)."""
        self.records += other.records
        self.with_errors += other.with_errors
        self.unreadable += other.unreadable
        self.with_violations += other.with_violations
        self.with_warnings += other.with_warnings
        self.matched.update(other.matched)

    def summary(self, engine: Engine, seconds: float) -> str:
        n = self.records
        rate = f", {n / seconds:,.0f}/s" if seconds > 0 and n else ""
        parts = [f"{n:,} record{'s' if n != 1 else ''} in {seconds:.1f}s{rate}",
                 f"{self.with_errors:,} with errors ({self.unreadable:,} unreadable)",
                 f"{self.with_violations:,} with stage violations"]
        if self.with_warnings:  # only then: the summary of clean data stays as it was
            parts.insert(2, f"{self.with_warnings:,} with values not allowed")
        verdicts = ", ".join(
            f"{name} {self.matched[name]:,} ({self.matched[name] / n:.1%})" if n else name
            for name in engine.definition_names)
        return "; ".join(parts) + (f"; {verdicts}" if verdicts else "")


def write_jsonl(records: Iterable[Record], out: IO[bytes], engine: Engine) -> None:
    dumps, write, option = orjson.dumps, out.write, JSONL_OPTIONS
    for rec in records:
        write(dumps(rec, option=option))


def csv_columns(engine: Engine) -> list[str]:
    columns = ["id", *engine.definition_names]
    for name in engine.score_names:
        columns += [f"{name}_score", f"{name}_band"]
    for name in engine.clocks.names:
        columns += [f"{name}_status", f"{name}_due_at"]
    return [*columns, "stage", "owner", "violations", "recycle_to", "credit", "errors"]


def flat_row(rec: Record) -> dict[str, Any]:
    """The `--format csv` cells of a JSON record, by `csv_columns` name."""
    row: dict[str, Any] = {"id": rec["id"]}
    row.update({name: "true" if hit else "false" for name, hit in rec["definitions"].items()})
    for name, value in rec["scores"].items():
        row[f"{name}_score"] = value
        row[f"{name}_band"] = rec["bands"][name] or ""
    row["stage"] = rec["stage"] or ""
    row["owner"] = rec["owner"] or ""
    for name, clock in rec["service_levels"].items():
        row[f"{name}_status"] = clock["status"]
        row[f"{name}_due_at"] = clock["due_at"] or ""
    row["violations"] = ";".join(v["code"] for v in rec["violations"])
    row["recycle_to"] = rec["recycle"]["to"] if rec["recycle"] else ""
    row["credit"] = rec["credit"]["reason"] if rec["credit"] else ""
    row["errors"] = "; ".join(error_text(e) for e in rec["errors"])
    return row


# A cell a spreadsheet would run as a formula starts with one of these (OWASP, "CSV
# injection"); such a cell of lead data is written with a `'` before it.
LIVE_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
LEAD_TEXT: Final = ("id", "stage")  # the cells that carry text from the leads as it is


def neutralised(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with each lead-text cell that a spreadsheet would run prefixed with `'`."""
    for name in LEAD_TEXT:
        cell = row.get(name)
        if cell.__class__ is str and cell.startswith(LIVE_STARTS):
            row[name] = "'" + cell
    return row


def write_csv(records: Iterable[Record], out: IO[bytes], engine: Engine, *,
              raw: bool = False) -> None:
    """`--format csv`: one row per record; lead text that a spreadsheet would run as a
    formula is prefixed with `'` unless `raw` (`--raw-csv`)."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.DictWriter(text, fieldnames=csv_columns(engine), restval="")
    writer.writeheader()
    for rec in records:
        writer.writerow(flat_row(rec) if raw else neutralised(flat_row(rec)))
    text.flush()
    text.detach()


def write_table(records: Iterable[Record], out: IO[bytes], engine: Engine) -> None:
    """Aligned columns for a person at a terminal: id, stage, owner, what holds, scores."""
    rows = [["id", "stage", "owner", "holds", *engine.score_names, "notes"]]
    for rec in records:
        holds = ",".join(n for n, hit in rec["definitions"].items() if hit)
        scores = [f"{rec['scores'][n]:g} {rec['bands'][n] or ''}".strip()
                  if n in rec["scores"] else "" for n in engine.score_names]
        clocks = [f"{name} {clock['status'].replace('_', ' ')}"
                  for name, clock in rec["service_levels"].items()
                  if clock["status"] in ("breached", "at_risk")]
        notes = "; ".join([v["code"] for v in rec["violations"]] + clocks
                          + ([f"recycle to {rec['recycle']['to']}"] if rec["recycle"] else [])
                          + (["guarantee credit"] if rec["credit"] else [])
                          + [error_text(e) for e in rec["errors"]])
        rows.append([str(rec["id"] if rec["id"] is not None else "?"), rec["stage"] or "-",
                     rec["owner"] or "-", holds or "-", *scores, notes])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        out.write(line.encode() + b"\n")


Writer = Callable[[Iterable[Record], IO[bytes], Engine], None]
WRITERS: dict[str, Writer] = {"jsonl": write_jsonl, "csv": write_csv, "table": write_table}
