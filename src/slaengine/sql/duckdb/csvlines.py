"""`evaluate --engine duckdb --format csv`: the flat table built by DuckDB itself.

The JSON Lines record is built row by row in Python (`duck.RecordBuilder`), which costs
more than the query. The CSV columns (`cli.outputs.csv_columns`) are plain values, so
DuckDB formats them and builds each line, quoted as Python's csv writer quotes, in file
order without a sort: the same bytes the Python writer gives. The lines stream to the
output as Arrow batches, whose text buffers are written as they are. Python steps in only
where SQL cannot word or read a record: the error text of a value that cannot be coerced
(worded once per distinct bad value), and the records DuckDB cannot read as Python does
(evaluated by the Python engine). Such rows are found as the batches stream by, and Python
writes its part in their place: no sort, no second pass over the file.

An agreement whose scores may be fractions, or whose key is neither text nor a whole
number, is written through the records instead (Python's float spelling is not SQL's).
"""

from __future__ import annotations

import csv
import io
from typing import IO, Any, Final

import sqlglot.expressions as exp

from ...evaluate.clocks import IDLE
from ...evaluate.coerce import error_text
from ...evaluate.records import LIVE_STARTS, Tally, csv_columns, flat_row, neutralised
from ..dialects import anon, lit
from ..isotime import case, text
from .runner import D, DuckRun, RecordBuilder, _PythonFallback

__all__ = ["lines_query", "native_csv", "write_csv", "write_lines"]

# What makes the Python writer (`csv.DictWriter`'s default dialect, excel) quote a cell.
NEEDS_QUOTES: Final = '[,"\\r\\n]'
ARROW_BATCH: Final = 1 << 17
# How far DuckDB's threads may run ahead of the Python thread that writes the batches out:
# at the default (10 MB, less than one batch of lines) they wait on it; at 200 MB, 10M
# leads stream 8-10% faster, for that much more memory at most.
STREAM_BUFFER: Final = "200MB"
# The CSV columns whose SQL cells may hold any text: the lead's id and recorded stage. Every
# other cell is `true`/`false`, a whole number, an ISO instant, a fixed word, codes joined
# by `;` or an agreement identifier, none of which needs quotes; the error texts are
# Python's (`Fixer`), and empty in SQL.
FREE_TEXT: Final = ("id", "stage")
WHOLE_TYPES: Final = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT")


def native_csv(run: DuckRun) -> bool:
    """Whether DuckDB can write this agreement's CSV cells exactly as Python does."""
    spec = run.engine.spec
    if any(k.startswith("float:") for k in run.compiled.internal):
        return False
    if any(spec.fields[n].type != "string" or not all(isinstance(v, str) for v in values)
           for n, values in run.engine.allowed.allowed.items()):
        return False  # the SQL check of allowed values (`_warned`) compares text
    key = next((f for f in spec.fields.values() if f.key), None)
    if key is not None and key.type not in ("string", "integer"):
        return False
    described = run.con.execute(f"DESCRIBE {run.compiled.sql(pretty=False)}").fetchall()
    types = {row[0]: row[1] for row in described}
    return all(types[f"score_{n}"] in WHOLE_TYPES for n in spec.scores)


def _col(name: str, table: str | None = None) -> exp.Column:
    return D.column(name, table)


def _iso(us: exp.Expr) -> exp.Expr:
    """`duck.iso_us` in SQL: whole seconds, microseconds only when there are any."""
    instant = anon("MAKE_TIMESTAMP", us)
    whole = exp.EQ(this=exp.Mod(this=us.copy(), expression=exp.Literal.number(1_000_000)),
                   expression=exp.Literal.number(0))
    return case((whole, anon("STRFTIME", instant, text("%Y-%m-%dT%H:%M:%SZ"))),
                default=anon("STRFTIME", instant.copy(), text("%Y-%m-%dT%H:%M:%S.%fZ")))


def flat_cells(run: DuckRun) -> list[exp.Expr]:
    """The CSV cells as text (NULL for an empty cell), over the decisions query's columns,
    as `cli.outputs.flat_row` writes them; the errors cell is left NULL."""
    engine, internal = run.engine, run.compiled.internal
    varchar = exp.DataType.build("VARCHAR")
    cells: list[exp.Expr] = [exp.Cast(this=_col("id"), to=varchar)]
    cells += [exp.Cast(this=_col(f"def_{n}"), to=varchar)  # `true` / `false`, never NULL
              for n in engine.definition_names]
    for n in engine.score_names:
        cells += [exp.Cast(this=_col(f"score_{n}"), to=varchar), _col(f"band_{n}")]
    for n in engine.clocks.names:
        status = _col(f"sl_{n}_status")
        idle = exp.In(this=status.copy(), expressions=[text(s) for s in IDLE])
        cells += [status, case((exp.Not(this=idle), _iso(_col(internal[f"due:{n}"]))))]
    cells += [_col("stage"), _col("owner"), _col(internal["violation_codes"]),
              _col("recycle_to"), _col("credit_reason"), exp.Cast(this=exp.null(), to=varchar)]
    assert len(cells) == len(csv_columns(engine))
    return cells


def _python_flag(run: DuckRun) -> exp.Expr:
    """Whether only the Python engine can read the row."""
    flags = [run.bad, *(c.bad for c in run.coerced.values() if c.bad)]
    return exp.or_(*(_col(f) for f in flags))


def _problem_flag(run: DuckRun) -> exp.Expr:
    """Whether SQL cannot finish the row alone: Python reads it, or words an error."""
    errors = [_col(c.error) for c in run.coerced.values() if c.fallible]
    return exp.or_(_python_flag(run), *errors)


def _problem(run: DuckRun) -> exp.Expr:
    """NULL for a row SQL finishes alone; else what Python needs to finish it: `_row`,
    `python` (only the Python engine can read it), and each fallible field's error flag,
    raw value and column (the others are valid: `Fixer.valid`)."""
    values = [("_row", _col("_row")), ("python", _python_flag(run))]
    values += [(n, _col(n)) for c in run.coerced.values() if c.fallible
               for n in (c.error, c.raw, c.first)]
    packed = anon("STRUCT_PACK", *(exp.PropertyEQ(this=exp.to_identifier(n, quoted=True),
                                                  expression=v) for n, v in values))
    return case((_problem_flag(run), packed))


def problem_rows(run: DuckRun) -> list[dict[str, Any]]:
    """The rows SQL cannot finish alone, in file order, as `Fixer.fix` takes them."""
    query = f"SELECT _problem FROM ({csv_query(run)}) WHERE _problem IS NOT NULL"
    return [row[0] for row in run.con.execute(query).fetchall()]


class Fixer:
    """Python's part of the rows SQL cannot finish, made as the rows stream by in file
    order: the error cell (SQL's line ends with an empty one), or the whole line of a
    record only the Python engine can read, whose summary counts go to `python`."""

    def __init__(self, run: DuckRun, raw: bool = False):
        self.raw = raw
        self.builder = RecordBuilder(run)
        self.fallback = _PythonFallback(run.engine, run.path, run.fmt, run.now)
        self.names = csv_columns(run.engine)
        self.valid = {k: v for c in run.coerced.values() if not c.fallible
                      for k, v in ((c.error, False), (c.raw, None), (c.first, False))}
        self.python = Tally()
        self.errors = 0  # rows SQL evaluated whose error cell Python wrote
        self.last = 0

    def fix(self, problem: dict[str, Any]) -> tuple[bool, bytes]:
        """(whether it is the whole line, its bytes) for one problem row."""
        ordinal = problem["_row"]
        if ordinal <= self.last:
            raise RuntimeError("DuckDB returned the leads out of input order")
        self.last = ordinal
        if problem["python"]:
            record = next(self.python.count([self.fallback.record(ordinal)]))
            row = flat_row(record)
            return True, _csv_line(row if self.raw else neutralised(row), self.names)
        self.errors += 1
        errors = self.builder.errors({**self.valid, **problem})
        return False, _csv_line({"errors": "; ".join(map(error_text, errors))}, ["errors"])


def _csv_line(cells: dict[str, Any], names: list[str]) -> bytes:
    """One row as `cli.outputs.write_csv` writes it."""
    line = io.StringIO()
    csv.DictWriter(line, fieldnames=names, restval="").writerow(cells)
    return line.getvalue().encode()


def csv_query(run: DuckRun) -> str:
    """The SELECT whose rows are the CSV file's, named as its header, in file order, with
    `_problem` (see `_problem`)."""
    names = csv_columns(run.engine)
    cells = [exp.alias_(c, n, quoted=True) for c, n in zip(flat_cells(run), names, strict=True)]
    problem = exp.alias_(_problem(run), "_problem", quoted=True)
    warned = exp.alias_(_warned(run), "_warned", quoted=True)
    # The decisions query is large: its text is wrapped, never its tree copied.
    rendered = ", ".join(D.render(c, pretty=False) for c in [*cells, problem, warned])
    return f"SELECT {rendered} FROM ({run.compiled.sql(pretty=False)})"


def _warned(run: DuckRun) -> exp.Expr:
    """Whether a lead has a value its field does not allow (`evaluate.allowed`), for the
    summary's count; `native_csv` makes sure every such field is text."""
    checks: list[exp.Expr] = [exp.false()]
    for name, values in run.engine.allowed.allowed.items():
        value = D.column(f"_value_{name}")
        listed = exp.In(this=value.copy(), expressions=[text(str(v)) for v in values])
        checks.append(exp.and_(exp.Not(this=exp.Is(this=value, expression=exp.null())),
                               exp.Not(this=listed)))
    return exp.or_(*checks) if len(checks) > 1 else checks[0]


def _neutral(cell: exp.Expr) -> exp.Expr:
    """`records.neutralised` in SQL: a cell a spreadsheet would run gets a `'` before it."""
    live = exp.In(this=anon("LEFT", cell, lit(1)),
                  expressions=[text(c) for c in LIVE_STARTS])
    return case((live, anon("CONCAT", text("'"), cell.copy())), default=cell.copy())


def _quoted(cell: exp.Expr) -> exp.Expr:
    """The cell as Python's csv writer spells it: quoted, with quotes doubled, when it holds
    a comma, a quote or a line break."""
    special = anon("REGEXP_MATCHES", cell, text(NEEDS_QUOTES))
    doubled = anon("REPLACE", cell.copy(), text('"'), text('""'))
    return case((special, anon("CONCAT", text('"'), doubled, text('"'))), default=cell.copy())


def lines_query(run: DuckRun, raw: bool = False) -> str:
    """One row per lead: its CSV line (CRLF included), `_problem`, and the flags the summary
    counts (`violations`, then each definition, then a value not allowed)."""
    engine = run.engine
    names = csv_columns(engine)
    parts: list[exp.Expr] = []
    for name in names:
        cell: exp.Expr = D.column(name)
        if name in FREE_TEXT:
            cell = _quoted(cell if raw else _neutral(cell))
        parts += [cell, text(",")]
    parts[-1] = text("\r\n")  # CONCAT skips NULL: an empty cell
    flags = [exp.Not(this=exp.Is(this=D.column("violations"), expression=exp.null())),
             *(exp.EQ(this=D.column(n), expression=text("true"))
               for n in engine.definition_names), D.column("_warned")]
    select = exp.select(exp.alias_(anon("CONCAT", *parts), "line"), D.column("_problem"),
                        *(exp.alias_(f, f"f{i}") for i, f in enumerate(flags)))
    rendered = D.render(select.from_(exp.Subquery(this=exp.Anonymous(this="__CELLS__"),
                                                  alias=exp.to_identifier("r"))),
                        pretty=False)
    return rendered.replace("__CELLS__()", csv_query(run), 1)


def write_csv(run: DuckRun, out: IO[bytes], tally: Tally, raw: bool = False) -> None:
    """Write every lead's CSV row to `out`, in file order, and count it into `tally`; lead
    text a spreadsheet would run is prefixed with `'` unless `raw`."""
    write_lines(run, lines_query(run, raw), out, tally, raw)


def write_lines(run: DuckRun, query: str, out: IO[bytes], tally: Tally,
                raw: bool = False) -> None:
    """The header, then the lines of `query` (`lines_query`): they stream out as Arrow
    batches, whose text buffer is the batch's lines back to back, written as it is between
    the rows Python fixes. The summary's counts are summed from the same batches: nothing
    is written to disk or read twice."""
    import pyarrow as pa  # type: ignore[import-untyped]  # noqa: PLC0415 - `sql` extra
    import pyarrow.compute as pc  # type: ignore[import-untyped]  # noqa: PLC0415

    engine = run.engine
    names = csv_columns(engine)
    out.write(_csv_line(dict(zip(names, names, strict=True)), names))  # as writeheader()
    counts = [0] * (2 + len(engine.definition_names))  # violations, definitions, warnings
    fixer = Fixer(run, raw)
    run.con.execute(f"SET streaming_buffer_size = '{STREAM_BUFFER}'")
    try:
        for batch in run.con.sql(query).to_arrow_reader(ARROW_BATCH):
            tally.records += batch.num_rows
            flags = [batch.column(i + 2) for i in range(len(counts))]
            for i, flag in enumerate(flags):
                counts[i] += pc.sum(flag).as_py() or 0
            problems = batch.column(1)
            fixed: dict[int, tuple[bool, bytes]] = {}
            if problems.null_count < len(problems):
                for index in pc.indices_nonzero(pc.is_valid(problems)).to_pylist():
                    fixed[index] = fixer.fix(problems[index].as_py())
                    if fixed[index][0]:  # Python's record: its counts are Python's
                        for i, flag in enumerate(flags):
                            counts[i] -= bool(flag[index].as_py())
            _write_lines(batch.column(0), fixed, out, pa)
    except run._errors() as exc:
        raise run.failed(exc) from None
    python = fixer.python
    tally.with_violations = counts[0] + python.with_violations
    tally.matched.update(dict(zip(engine.definition_names, counts[1:-1], strict=True)))
    tally.with_warnings = counts[-1] + python.with_warnings
    tally.matched.update(python.matched)
    tally.with_errors = fixer.errors + python.with_errors
    tally.unreadable = python.unreadable + (0 if engine.definition_names else fixer.errors)


def _write_lines(lines: Any, fixed: dict[int, tuple[bool, bytes]], out: IO[bytes],
                 pa: Any) -> None:
    """An Arrow text array with no NULLs, written as the bytes its values span, but for
    the rows `fixed` by Python: its error cell in place of the empty one, or its line."""
    if lines.type not in (pa.string(), pa.large_string()):
        lines = lines.cast(pa.large_string())
    if not len(lines):
        return
    raw = memoryview(lines.buffers()[1]).cast("B")
    offsets = raw.cast("i") if lines.type == pa.string() else raw.cast("q")
    data = memoryview(lines.buffers()[2]).cast("B")
    first = lines.offset
    position = offsets[first]
    for index, (whole, fix) in fixed.items():  # in row order
        start, end = offsets[first + index], offsets[first + index + 1]
        out.write(data[position:start] if whole else data[position:end - 2])  # less CRLF
        out.write(fix)
        position = end
    out.write(data[position:offsets[first + len(lines)]])
