"""Lead files as DuckDB relations of raw columns: what `read_csv`, `read_json_objects` and
`read_parquet` give, numbered in file order, with a flag on records DuckDB cannot read as
the Python reader does (`_bad`: those are handed back to the Python reader).

* CSV: every cell as text; the separator is the header row's (`,`, `;` or tab, as
  `leads.py` chooses it); rows are numbered as `csv.DictReader` numbers records (blank lines
  skipped); a row with more cells than the header spills into spare columns and is `_bad`.
  The header is read as the Python reader reads it (after any blank lines, a quoted name
  over several lines), and only the columns the fields read become columns of the
  relation: a blank name, or one no field reads, is never an SQL identifier.
* JSON Lines: one JSON value per non-blank line, numbered in order; a line that is not an
  object, does not parse, or holds what orjson refuses and DuckDB's reader accepts (NaN,
  Infinity, numbers beyond the double range or 64-bit integers) is `_bad`.
* Parquet: typed columns, numbered by the file's row number.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson
import sqlglot.expressions as exp

from ..agreement.diagnostics import UsageError
from ..evaluate.csvrows import csv_rows
from ..evaluate.leads import BOM, read_leads
from ..evaluate.lines import MAX_LINE_BYTES, bounded_lines
from .dialects import DIALECTS, anon, lit
from .isotime import text

D = DIALECTS["duckdb"]
SPARE_COLUMNS: Final = 64
NO_NULL: Final = "\x00slaengine:no-null\x00"  # empty cells stay empty text, as in Python
# Text orjson refuses while DuckDB's JSON reader takes it (or would turn into a double).
# 19 digits: what `leads.jsonl_records` reads again exactly (long integers become text).
SUSPICIOUS_JSON: Final = r"NaN|Infinity|[0-9][eE][+-]?[0-9]{3}|[0-9]{19}"

_KINDS: Final = {
    "VARCHAR": "text", "BIGINT": "int", "INTEGER": "int", "SMALLINT": "int", "TINYINT": "int",
    "UBIGINT": "int", "UINTEGER": "int", "USMALLINT": "int", "UTINYINT": "int",
    "HUGEINT": "int", "DOUBLE": "float", "FLOAT": "float", "BOOLEAN": "bool", "DATE": "date",
    "TIMESTAMP": "timestamp", "TIMESTAMP_NS": "timestamp", "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR[]": "list",
}


@dataclass
class Source:
    """A relation of raw columns (`columns`: name -> kind), `row` and `bad` columns."""

    select: exp.Select
    columns: dict[str, str]
    row: str
    bad: str
    format: str


def _option(name: str, value: exp.Expr) -> exp.Expr:
    return exp.EQ(this=exp.column(name), expression=value)


def _internal(names: Sequence[str], base: str) -> str:
    """`base`, with `_` added until it is none of `names` (DuckDB compares names without
    case: `_ROW` is `_row`)."""
    taken = {D.key(n) for n in names}
    name = base
    while D.key(name) in taken:
        name += "_"
    return name


def _header(path: Path) -> tuple[list[str] | None, str]:
    """The header row's cells (None: the file holds no row) and the separator, read as
    `leads._read_csv` reads them: the separator from the first line, the header the first
    row that is not blank, quoted names over several lines and all."""
    with open(path, "rb") as handle:
        first = handle.readline(MAX_LINE_BYTES + 1).removeprefix(BOM)
        if b"\r" in first.rstrip(b"\r\n") or (first.endswith(b"\r")
                                              and not first.endswith(b"\n")):
            raise UsageError(f"{path}: line 1 holds a carriage return that does not end a "
                             "line (lines ending in `\\r` only); --engine python reads such "
                             "files")
        try:
            line = first.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("the CSV header row is not UTF-8 text; save the export as UTF-8") \
                from None
        delimiter = max((",", ";", "\t"), key=line.count)
        handle.seek(0)
        lines = bounded_lines(handle, carriage_returns=True)
        head = next(lines, b"").removeprefix(BOM)
        for _, _, cells, _ in csv_rows(lines, head):  # the header comes first, as row 0
            return cells, delimiter
    return None, delimiter


def _check_utf8(path: Path) -> None:
    """DuckDB reads bytes that are not UTF-8 into text (with `auto_detect` off), where the
    Python reader reports the record as unreadable: such a file is refused."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    done = quotes = 0
    cr_last = suspect = False
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = 1 + done + chunk.count(b"\n", 0, exc.start)
                raise UsageError(f"{path}: line {line} is not UTF-8 text; --engine python reads "
                                 "the file and reports the records it cannot read") from None
            # A carriage return that does not end a line: harmless in a quoted cell, a row
            # DuckDB and the Python reader split differently outside one.
            bare = chunk.count(b"\r") - chunk.count(b"\r\n") - chunk.endswith(b"\r")
            suspect |= bare > 0 or (cr_last and not chunk.startswith(b"\n"))
            cr_last = chunk.endswith(b"\r")
            quotes += chunk.count(b'"')
            done += chunk.count(b"\n")
    if suspect or quotes % 2:
        _split_rows(path)


_SPLIT: Final = ("quote that is never closed", "carriage return inside a cell")


def _split_rows(path: Path) -> None:
    """An odd number of quotes, or a carriage return inside a line: a row DuckDB may split
    otherwise than the Python reader. The Python reader finds it, if there is one (a `27"
    screen` in a cell that is not quoted, or a `\r` in a quoted one, are harmless)."""
    for record in read_leads(path, "csv"):
        if record.error is not None and any(s in record.error.message for s in _SPLIT):
            where = record.error.message.split(" (the cell", 1)[0].split(";", 1)[0]
            raise UsageError(f"{path}: {where}; --engine python reads the file, reports that "
                             "row and reads the lines after it")


def _read_columns(path: Path, header: Sequence[str], reads: Mapping[str, str]
                  ) -> dict[str, int]:
    """The header columns the fields read (name -> the position of its last cell: of a
    repeated name, the last cell wins, as in a dict). A field reads its column
    (`reads[field]`) when the header has it, else the column named as the field, as the
    Python coercer does (a CSV cell is never null: the first found is the one read). Other
    columns, blank names among them, are left out: no field reads them."""
    last = {name: i for i, name in enumerate(header)}
    read: dict[str, int] = {}
    for field, column in reads.items():
        found = next((c for c in (column, field) if c in last), None)
        if found is not None:
            read[found] = last[found]
    by_key: dict[str, str] = {}
    for name in read:
        other = by_key.setdefault(D.key(name), name)
        if other != name:
            raise UsageError(f"{path}: the fields read the columns `{other}` and `{name}`, "
                             "whose names differ only in case, which DuckDB takes for one "
                             "column; --engine python reads the file")
    return read


def _no_rows(row: str, bad: str) -> exp.Select:
    """A relation of no rows: a CSV file without a header row holds no record."""
    return exp.select(exp.alias_(exp.cast(exp.null(), "BIGINT"), D.ident(row)),
                      exp.alias_(exp.false(), D.ident(bad))).where(exp.false())


def csv_source(path: Path, reads: Mapping[str, str]) -> Source:
    """The CSV file's relation; `reads` maps each field to the column it is read from."""
    header, delimiter = _header(path)
    if header is None:
        return Source(_no_rows("_row", "_bad"), {}, "_row", "_bad", "csv")
    _check_utf8(path)
    read = _read_columns(path, header, reads)
    internal = [f"_c{i}" for i in range(len(header))]
    spare = [f"_x{i}" for i in range(SPARE_COLUMNS)]
    columns = exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.to_identifier(c), expression=text("VARCHAR"))
        for c in internal + spare])
    # No rows skipped: DuckDB reads the header as its first row, as the Python reader does
    # (blank lines before it left out, a quoted name over several lines one row), and that
    # row is left out below.
    call = anon("READ_CSV", text(str(path)), _option("header", exp.false()),
                _option("skip", lit(0)), _option("delim", text(delimiter)),
                _option("quote", text('"')), _option("escape", text('"')),
                _option("null_padding", exp.true()), _option("nullstr", text(NO_NULL)),
                _option("parallel", exp.false()), _option("auto_detect", exp.false()),
                _option("max_line_size", lit(MAX_LINE_BYTES)), _option("columns", columns))
    names = list(read)
    row, bad, ordinal = (_internal(names, n) for n in ("_row", "_bad", "ordinality"))
    table = exp.Table(this=call, ordinality=True, alias=exp.TableAlias(
        this=D.ident("src"), columns=[D.ident(c) for c in [*internal, *spare, ordinal]]))
    number = exp.Sub(this=D.column(ordinal, "src"), expression=lit(1))  # the header is 1
    spare_used = exp.or_(*(exp.Not(this=exp.Is(this=D.column(c, "src"), expression=exp.null()))
                           for c in spare))
    # A short row (cells padded with NULL) is an error the Python reader words.
    short = exp.or_(*(exp.Is(this=D.column(c, "src"), expression=exp.null()) for c in internal))
    # A quoted cell over several lines in a row of the wrong length: a quote never closed, or
    # closed by a stray one further down. The Python reader reports that row and reads the
    # lines after it as rows; DuckDB cannot, and its rows would no longer line up: stop.
    spans = exp.or_(*(anon("REGEXP_MATCHES", D.column(c, "src"), text("[\r\n]"))
                      for c in internal))
    refuse = anon("ERROR", exp.Concat(expressions=[
        text(f"{path}: row "), exp.cast(number.copy(), "VARCHAR"),
        text(" has a quote that is never closed, or closed only lines later; --engine python "
             "reports that row and reads the lines after it")]))
    flag = exp.Case(ifs=[exp.If(this=exp.and_(exp.or_(spare_used, short), spans),
                                true=exp.cast(refuse, "BOOLEAN"))],
                    default=exp.or_(spare_used, short))
    select = exp.select(exp.alias_(number, D.ident(row)),
                        *(exp.alias_(D.column(internal[i], "src"), D.ident(name))
                          for name, i in read.items()),
                        exp.alias_(flag, D.ident(bad))).from_(table).where(
        exp.GT(this=D.column(ordinal, "src"), expression=lit(1)))
    return Source(select, dict.fromkeys(read, "text"), row, bad, "csv")


def jsonl_source(path: Path, keys: Sequence[str]) -> Source:
    with open(path, "rb") as handle:  # the first line, as `leads.json_array_hint` sees it
        head = handle.read(4096).removeprefix(BOM).split(b"\n")[0].lstrip()
    if head.startswith(b"["):
        raise UsageError(f"{path}: holds a JSON array, not JSON Lines (one object per line); "
                         f"convert it with `jq -c '.[]' {path}`")
    call = anon("READ_JSON_OBJECTS", text(str(path)),
                _option("format", text("newline_delimited")),
                _option("ignore_errors", exp.true()))
    names = list(keys)
    row, bad, json_col, ordinal, values = (
        _internal(names, n) for n in ("_row", "_bad", "_json", "_ordinal", "_values"))
    # DuckDB takes names that differ only in case for one (a view renames the second, a JSON
    # shape refuses both): of such keys (`ID` that `id` is read from, falling back to `id`)
    # the first is read, and a record holding another goes to the Python reader.
    kept: dict[str, str] = {}
    shadowed = [k for k in dict.fromkeys(keys) if kept.setdefault(D.key(k), k) != k]
    keys = list(kept.values())
    table = exp.Table(this=call, ordinality=True, alias=exp.TableAlias(
        this=D.ident("src"), columns=[D.ident(json_col), D.ident(ordinal)]))
    document = D.column(json_col, "src")
    shape = text(orjson.dumps(dict.fromkeys(keys, "JSON")).decode())
    found_keys = anon("JSON_KEYS", document)
    not_object = exp.or_(exp.Is(this=document, expression=exp.null()),
                         exp.NEQ(this=anon("JSON_TYPE", document), expression=text("OBJECT")),
                         anon("REGEXP_MATCHES", document, text(SUSPICIOUS_JSON)),
                         # a repeated key, or a line too long: the Python reader's error
                         exp.NEQ(this=anon("LEN", found_keys),
                                 expression=anon("LEN", anon("LIST_DISTINCT", found_keys))),
                         exp.GT(this=anon("STRLEN", exp.cast(document, "VARCHAR")),
                                expression=lit(MAX_LINE_BYTES)),
                         *([anon("LIST_HAS_ANY", found_keys.copy(), exp.Array(
                             expressions=[text(k) for k in shadowed]))] if shadowed else []))
    inner = exp.select(exp.alias_(D.column(ordinal, "src"), D.ident(row)),
                       exp.alias_(anon("JSON_TRANSFORM", document, shape), D.ident(values)),
                       exp.alias_(exp.Coalesce(this=not_object, expressions=[exp.true()]),
                                  D.ident(bad))).from_(table)
    select = exp.select(D.column(row, "v"), *(
        exp.alias_(anon("STRUCT_EXTRACT", D.column(values, "v"), text(k)), D.ident(k))
        for k in keys), D.column(bad, "v")).from_(exp.alias_(inner.subquery(), "v"))
    return Source(select, dict.fromkeys(keys, "json"), row, bad, "jsonl")


def parquet_source(path: Path, describe: list[tuple[str, str]]) -> Source:
    names = [n for n, _ in describe]
    row, bad = _internal(names, "_row"), _internal(names, "_bad")
    call = anon("READ_PARQUET", text(str(path)), _option("file_row_number", exp.true()))
    number = _internal(names, "file_row_number")
    if number != "file_row_number":
        raise UsageError(f"{path}: has a column named `file_row_number`, which the duckdb "
                         "engine needs for the row number; use --engine python")
    # A column of nulls only (what an all-empty column becomes) reads as absent.
    columns = {n: _KINDS.get(t.upper(), f"other:{t}") for n, t in describe
               if t.upper() != '"NULL"' and t.upper() != "NULL"}
    select = exp.select(
        exp.alias_(exp.Add(this=exp.column(number), expression=lit(1)), D.ident(row)),
        *(exp.alias_(D.column(n), D.ident(n)) for n in columns),
        exp.alias_(exp.false(), D.ident(bad))).from_(exp.Table(this=call))
    return Source(select, columns, row, bad, "parquet")
