"""Writers for `evaluate`: one per format, each taking a stream of decisions."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from ..decision import Decision
from ..evaluator import Engine


@dataclass
class Tally:
    """What the summary line on stderr reports."""

    records: int = 0
    with_errors: int = 0
    unreadable: int = 0
    with_violations: int = 0
    matched: Counter[str] = field(default_factory=Counter)

    def count(self, decisions: Iterable[Decision]) -> Iterator[Decision]:
        matched = self.matched
        for decision in decisions:
            self.records += 1
            if decision.errors:
                self.with_errors += 1
                if not decision.evaluated:
                    self.unreadable += 1
            if decision.violations:
                self.with_violations += 1
            if decision.evaluated:
                for name, hit in zip(decision.engine.definition_names,
                                     decision.definition_values, strict=False):
                    if hit:
                        matched[name] += 1
            yield decision

    def summary(self, engine: Engine, seconds: float) -> str:
        n = self.records
        rate = f", {n / seconds:,.0f}/s" if seconds > 0 and n else ""
        parts = [f"{n:,} record{'s' if n != 1 else ''} in {seconds:.1f}s{rate}",
                 f"{self.with_errors:,} with errors ({self.unreadable:,} unreadable)",
                 f"{self.with_violations:,} with stage violations"]
        verdicts = ", ".join(
            f"{name} {self.matched[name]:,} ({self.matched[name] / n:.1%})" if n else name
            for name in engine.definition_names)
        return "; ".join(parts) + (f"; {verdicts}" if verdicts else "")


JSON_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS


def write_jsonl(decisions: Iterable[Decision], out: IO[bytes], explain: bool) -> None:
    dumps, write = orjson.dumps, out.write
    for decision in decisions:
        record = decision.to_json()
        if explain and decision.evaluated:
            record["explanations"] = {name: decision.explanation(name).to_json()
                                      for name in decision.engine.definition_names}
        write(dumps(record, option=JSON_OPTIONS))


def _flat(decision: Decision) -> dict[str, Any]:
    engine = decision.engine
    row: dict[str, Any] = {"id": decision.id}
    evaluated = decision.evaluated
    for name, verdict in zip(engine.definition_names, decision.definition_values, strict=False):
        row[name] = "true" if verdict else "false"
    if not evaluated:
        row.update(dict.fromkeys(engine.definition_names, ""))
    for name, value, band in zip(engine.score_names, decision.score_values, decision.band_values,
                                 strict=False):
        row[f"{name}_score"] = value
        row[f"{name}_band"] = band or ""
    row["stage"] = decision.stage or ""
    row["owner"] = decision.owner or ""
    row["violations"] = ";".join(v.code for v in decision.violations)
    row["errors"] = "; ".join(e.message for e in decision.errors)
    return row


def csv_columns(engine: Engine) -> list[str]:
    columns = ["id", *engine.definition_names]
    for name in engine.score_names:
        columns += [f"{name}_score", f"{name}_band"]
    return [*columns, "stage", "owner", "violations", "errors"]


def write_csv(decisions: Iterable[Decision], out: IO[bytes], engine: Engine) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.DictWriter(text, fieldnames=csv_columns(engine), extrasaction="ignore")
    writer.writeheader()
    for decision in decisions:
        writer.writerow(_flat(decision))
    text.flush()
    text.detach()


def write_table(decisions: Iterable[Decision], out: IO[bytes], engine: Engine) -> None:
    """Aligned columns for a person at a terminal: id, stage, owner, what holds, scores."""
    rows = [["id", "stage", "owner", "holds", *engine.score_names, "notes"]]
    for d in decisions:
        holds = ",".join(n for n, v in zip(engine.definition_names, d.definition_values,
                                           strict=False) if v)
        scores = [f"{v:g} {b or ''}".strip() for v, b in zip(d.score_values, d.band_values,
                                                              strict=False)]
        if not d.evaluated:
            scores = ["" for _ in engine.score_names]
        notes = "; ".join([v.code for v in d.violations] + [e.message for e in d.errors])
        rows.append([str(d.id if d.id is not None else "?"), d.stage or "-", d.owner or "-",
                     holds or "-", *scores, notes])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        out.write(line.encode() + b"\n")


Writer = Callable[[Iterable[Decision], IO[bytes], Engine, bool], None]
WRITERS: dict[str, Writer] = {
    "jsonl": lambda ds, out, engine, explain: write_jsonl(ds, out, explain),
    "csv": lambda ds, out, engine, explain: write_csv(ds, out, engine),
    "table": lambda ds, out, engine, explain: write_table(ds, out, engine),
}
