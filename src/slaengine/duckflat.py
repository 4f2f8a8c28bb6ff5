"""`evaluate --engine duckdb --format csv`: the flat table built by DuckDB itself.

The JSON Lines record is built row by row in Python (`duck.RecordBuilder`), which costs
more than the query. The CSV columns (`cli.outputs.csv_columns`) are plain values, so
DuckDB formats them and builds each line, quoted as Python's csv writer quotes, in file
order without a sort: the same bytes the Python writer gives. The lines stream to the
output as Arrow batches, whose text buffers are written as they are. Python steps in only
where SQL cannot word or read a record: the error text of a value that cannot be coerced
(worded once per distinct bad value), and the records DuckDB cannot read as Python does
(evaluated by the Python engine). Such rows are few; when there are any, the rows are sorted
back into file order.

An agreement whose scores may be fractions, or whose key is neither text nor a whole
number, is written through the records instead (Python's float spelling is not SQL's).
"""

from __future__ import annotations

import csv
import io
from typing import IO, Any, Final

import sqlglot.expressions as exp

from .cli.outputs import Tally, csv_columns, flat_row
from .clocks import IDLE
from .coerce import error_text
from .compiler.sql.dialects import anon
from .compiler.sql.isotime import case, text
from .compiler.sql.tables import load_table
from .duck import D, DuckRun, RecordBuilder, _PythonFallback
from .evaluator import Engine

__all__ = ["lines_query", "native_csv", "write_csv", "write_lines"]

# What makes the Python writer (`csv.DictWriter`'s default dialect, excel) quote a cell.
NEEDS_QUOTES: Final = '[,"\\r\\n]'
ARROW_BATCH: Final = 1 << 17
WHOLE_TYPES: Final = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT")
FIXES: Final = "slaengine_error_texts"
PYTHON_ROWS: Final = "slaengine_python_rows"


def native_csv(run: DuckRun) -> bool:
    """Whether DuckDB can write this agreement's CSV cells exactly as Python does."""
    spec = run.engine.spec
    if any(k.startswith("float:") for k in run.compiled.internal):
        return False
    key = next((f for f in spec.fields.values() if f.key), None)
    if key is not None and key.type not in ("string", "integer"):
        return False
    described = run.con.execute(f"DESCRIBE {run.compiled.sql(pretty=False)}").fetchall()
    types = {row[0]: row[1] for row in described}
    return all(types[f"score_{n}"] in WHOLE_TYPES for n in spec.scores)


def _col(name: str, table: str | None = None) -> exp.Column:
    return D.column(name, table)


def _cell(i: int) -> str:
    return f"c{i}"


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


def problem_rows(run: DuckRun) -> list[dict[str, Any]]:
    """The rows SQL cannot finish alone, in file order: `_row`, `python` (only the Python
    engine can read it), and each coerced field's error flag, raw value and column."""
    coerced = list(run.coerced.values())
    flags = [run.bad, *(c.bad for c in coerced if c.bad)]
    python = exp.or_(*(_col(f) for f in flags))
    names = [n for c in coerced for n in (c.error, c.raw, c.first)]
    # A field whose every value is valid is neither tested nor read: its columns are
    # constants here, so DuckDB does not scan them for this search.
    picked = [exp.alias_(_col(n) if c.fallible else v, n, quoted=True) for c in coerced
              for n, v in zip((c.error, c.raw, c.first), (exp.false(), exp.null(), exp.false()),
                              strict=True)]
    query = exp.select(_col("_row"), exp.alias_(python, "python"), *picked).from_(
        "leads").where(exp.or_(python.copy(), *(_col(c.error) for c in coerced if c.fallible)))
    cursor = run.con.execute(D.render(query, pretty=False))
    keys = ["_row", "python", *names]
    return sorted((dict(zip(keys, row, strict=True)) for row in cursor.fetchall()),
                  key=lambda row: row["_row"])


def fixes(run: DuckRun, problems: list[dict[str, Any]]
          ) -> tuple[list[tuple[int, str]], list[tuple[Any, ...]]]:
    """(row, error text) of the rows with bad values, and the whole row (row, cells...) of
    those only the Python engine can read."""
    builder = RecordBuilder(run)
    fallback = _PythonFallback(run.engine, run.path, run.fmt, run.now)
    names = csv_columns(run.engine)
    texts: list[tuple[int, str]] = []
    rows: list[tuple[Any, ...]] = []
    for problem in problems:
        ordinal = problem["_row"]
        if problem["python"]:
            cells = flat_row(fallback.record(ordinal))
            rows.append((ordinal, *(_text(cells.get(n)) for n in names)))
        else:
            texts.append((ordinal, "; ".join(map(error_text, builder.errors(problem)))))
    return texts, rows


def _text(value: Any) -> str | None:
    """A Python CSV cell as DuckDB must hold it: an empty cell is NULL."""
    return None if value is None or value == "" else str(value)


def csv_query(run: DuckRun) -> str:
    """The SELECT whose rows are the CSV file's, named as its header."""
    names = csv_columns(run.engine)
    cells = [exp.alias_(c, _cell(i)) for i, c in enumerate(flat_cells(run))]
    # The decisions query is large: its text is wrapped, never its tree copied.
    rendered = ", ".join(D.render(c, pretty=False) for c in cells)
    flat = exp.select(_col("_row"), *(_col(_cell(i)) for i in range(len(names)))).from_(
        exp.Subquery(this=exp.Anonymous(this="__decisions__"), alias=exp.to_identifier("d")))
    problems = problem_rows(run)
    if problems:
        texts, rows = fixes(run, problems)
        load_table(run.con, FIXES, ["_row", "text"], ["BIGINT", "VARCHAR"], texts)
        load_table(run.con, PYTHON_ROWS, ["_row", *map(_cell, range(len(names)))],
                   ["BIGINT", *["VARCHAR"] * len(names)], rows)
        errors = _cell(len(names) - 1)
        fixed = exp.select(_col("_row", "f"), *(
            _col(_cell(i), "f") for i in range(len(names) - 1)),
            exp.alias_(_col("text", "x"), errors)).from_(flat.subquery("f")).join(
            exp.to_table(FIXES).as_("x"), on=exp.EQ(this=_col("_row", "x"),
                                                   expression=_col("_row", "f")), join_type="left")
        fixed = fixed.where(exp.Not(this=exp.In(this=_col("_row", "f"), query=exp.Subquery(
            this=exp.select("_row").from_(PYTHON_ROWS)))))
        both = exp.union(fixed, exp.select("*").from_(PYTHON_ROWS), distinct=False)
        flat = exp.select("*").from_(both.subquery("u")).order_by(_col("_row"))
    # Without the join, no sort: DuckDB keeps the file's order.
    final = exp.select(*(exp.alias_(_col(_cell(i)), n, quoted=True) for i, n in enumerate(names)))
    text_ = D.render(final.from_(flat.subquery("r")), pretty=False)
    decisions = f"SELECT _row, {rendered} FROM ({run.compiled.sql(pretty=False)})"
    return text_.replace("__DECISIONS__()", decisions, 1)


def free_text(engine: Engine) -> list[str]:
    """The CSV columns that may hold any text: the lead's id and recorded stage, and the
    error texts. Every other cell is `true`/`false`, a whole number, an ISO instant, a fixed
    word, codes joined by `;` or an agreement identifier, none of which needs quotes."""
    return ["id", "stage", "errors"]


def _quoted(cell: exp.Expr) -> exp.Expr:
    """The cell as Python's csv writer spells it: quoted, with quotes doubled, when it holds
    a comma, a quote or a line break."""
    special = anon("REGEXP_MATCHES", cell, text(NEEDS_QUOTES))
    doubled = anon("REPLACE", cell.copy(), text('"'), text('""'))
    return case((special, anon("CONCAT", text('"'), doubled, text('"'))), default=cell.copy())


def lines_query(run: DuckRun) -> str:
    """One row per lead: its CSV line, CRLF included, and the flags the summary counts."""
    engine = run.engine
    names = csv_columns(engine)
    free = set(free_text(engine))
    parts: list[exp.Expr] = []
    for name in names:
        cell = D.column(name)
        parts += [_quoted(cell) if name in free else cell, text(",")]
    parts[-1] = text("\r\n")  # CONCAT skips NULL: an empty cell
    line = exp.alias_(anon("CONCAT", *parts), "line")
    errors = exp.Not(this=exp.Is(this=D.column("errors"), expression=exp.null()))
    verdicts = engine.definition_names
    unreadable = exp.and_(errors.copy(), exp.Is(this=D.column(verdicts[0]),
                                                 expression=exp.null())) if verdicts \
        else errors.copy()
    flags = [errors, unreadable,
             exp.Not(this=exp.Is(this=D.column("violations"), expression=exp.null())),
             *(exp.EQ(this=D.column(n), expression=text("true")) for n in verdicts)]
    select = exp.select(line, *(exp.alias_(f, f"f{i}") for i, f in enumerate(flags)))
    rendered = D.render(select.from_(exp.Subquery(this=exp.Anonymous(this="__CELLS__"),
                                                  alias=exp.to_identifier("r"))),
                        pretty=False)
    return rendered.replace("__CELLS__()", csv_query(run), 1)


def write_csv(run: DuckRun, out: IO[bytes], tally: Tally) -> None:
    """Write every lead's CSV row to `out`, in file order, and count it into `tally`."""
    write_lines(run, lines_query(run), out, tally)


def write_lines(run: DuckRun, query: str, out: IO[bytes], tally: Tally) -> None:
    """The header, then the lines of `lines_query`: they stream out as Arrow batches, whose
    text buffer is the batch's lines back to back, written as it is. The summary's counts
    are summed from the same batches: nothing is written to disk or read twice."""
    import pyarrow as pa  # type: ignore[import-untyped]  # noqa: PLC0415 - `sql` extra
    import pyarrow.compute as pc  # type: ignore[import-untyped]  # noqa: PLC0415

    engine = run.engine
    header = io.StringIO()
    csv.writer(header).writerow(csv_columns(engine))  # the excel dialect, as DictWriter
    out.write(header.getvalue().encode())
    counts = [0] * (3 + len(engine.definition_names))
    try:
        relation = run.con.sql(query)
        reader = relation.to_arrow_reader(ARROW_BATCH) if hasattr(
            relation, "to_arrow_reader") else relation.fetch_record_batch(ARROW_BATCH)
        for batch in reader:
            _write_lines(batch.column(0), out, pa)
            tally.records += batch.num_rows
            for i in range(len(counts)):
                counts[i] += pc.sum(batch.column(i + 1)).as_py() or 0
    except run._errors() as exc:
        raise run.failed(exc) from None
    tally.with_errors, tally.unreadable, tally.with_violations = counts[:3]
    tally.matched.update(dict(zip(engine.definition_names, counts[3:], strict=True)))


def _write_lines(lines: Any, out: IO[bytes], pa: Any) -> None:
    """An Arrow text array with no NULLs, written as the bytes its values span."""
    if lines.type not in (pa.string(), pa.large_string()):
        lines = lines.cast(pa.large_string())
    if not len(lines):
        return
    raw = memoryview(lines.buffers()[1]).cast("B")
    offsets = raw.cast("i") if lines.type == pa.string() else raw.cast("q")
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    out.write(memoryview(lines.buffers()[2]).cast("B")[first:last])
