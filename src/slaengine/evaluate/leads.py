"""Lead files read as a stream of raw records: CSV, JSON Lines, or Parquet.

Memory stays constant in the file's size. A record that cannot be read (invalid JSON, a CSV row
with more cells than the header, bytes that are not UTF-8) is still yielded, with `data=None`
and an `unreadable-record` error, so nothing in the input is silently dropped. A file that
cannot be read at all raises `UsageError`.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import orjson

from ..agreement.diagnostics import UsageError
from ..files import check_regular, open_regular
from .coerce import RecordError, show
from .csvrows import csv_rows
from .headers import Repeated
from .lines import MAX_LINE_BYTES, TOO_LONG, bounded_lines

__all__ = ["BOM", "FORMATS", "RawRecord", "detect_format", "file_size", "json_array_hint",
           "jsonl_blocks", "jsonl_records", "read_leads"]

FORMATS: Final = ("csv", "jsonl", "parquet")
_SUFFIXES: Final = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
                    ".parquet": "parquet"}
_ALIASES: Final = {"csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl",
                   "parquet": "parquet"}
BOM: Final = b"\xef\xbb\xbf"
_BATCH_ROWS: Final = 65536
_SHOWN: Final = 200  # characters of an unreadable line kept in the error's value


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: `data` maps column to value, or is None with the reason in `error`."""

    row: int  # 1-based: the data row of a CSV file, the line of a JSON Lines file
    data: Mapping[str, Any] | None
    error: RecordError | None = None


# A frozen dataclass's __init__ sets each field through `object.__setattr__`; the readers fill
# the slots directly, at a third of the cost per record.
_new = object.__new__
_set_row, _set_data, _set_error = (vars(RawRecord)[name].__set__ for name in ("row", "data",
                                                                             "error"))


def _record(row: int, data: Mapping[str, Any]) -> RawRecord:
    record = _new(RawRecord)
    _set_row(record, row)
    _set_data(record, data)
    _set_error(record, None)
    return record


def detect_format(path: Path | str) -> str:
    """`csv`, `jsonl` or `parquet` from the file's suffix."""
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        accepted = ", ".join(_SUFFIXES)
        raise UsageError(f"{path}: cannot tell the lead file's format from its name; "
                         f"use one of {accepted} (or give the format)") from None


def file_size(path: Path | str) -> int | None:
    """The size in bytes, for a progress bar; None for stdin or a file that cannot be read."""
    if str(path) == "-":
        return None
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def read_leads(path: Path | str, format: str | None = None, *,
               on_open: Callable[[BinaryIO], None] | None = None) -> Iterator[RawRecord]:
    """Stream the records of a lead file; `-` reads stdin (JSON Lines unless `format` says csv).

    The format and the file are checked before the first record is asked for, so a missing
    file or an unknown format raises `UsageError` here, not in the middle of a loop.
    `on_open` is handed a CSV or JSON Lines file once it is opened, so a progress display
    can ask for its position now and then, at no cost per record.
    """
    stdin = str(path) == "-"
    if format is not None:
        fmt = _ALIASES.get(format.lower())
        if fmt is None:
            raise UsageError(f"unknown lead file format `{show(format)}`; "
                             f"use one of {', '.join(FORMATS)}")
    else:
        if not stdin and Path(path).exists() and not Path(path).is_dir():
            check_regular(path, "lead file")  # a pipe or a device would block or never end
        fmt = "jsonl" if stdin else detect_format(path)
    if stdin:
        if fmt == "parquet":
            raise UsageError("Parquet cannot be read from stdin; give the file's path")
        return _read_csv(sys.stdin.buffer) if fmt == "csv" else _read_jsonl(sys.stdin.buffer)
    file = Path(path)
    if not file.exists():
        raise UsageError(f"{file}: lead file not found")
    if file.is_dir():
        raise UsageError(f"{file}: is a folder, not a lead file")
    if not os.access(file, os.R_OK):
        raise UsageError(f"{file}: cannot read the lead file: permission denied")
    check_regular(file, "lead file")
    return _read_parquet(file) if fmt == "parquet" else _read_text(file, fmt, on_open)


def _read_text(file: Path, fmt: str,
               on_open: Callable[[BinaryIO], None] | None = None) -> Iterator[RawRecord]:
    """The file is opened when the first record is asked for, and closed after the last."""
    try:
        with open_regular(file, "lead file") as handle:
            if on_open is not None:
                on_open(handle)
            yield from _read_csv(handle) if fmt == "csv" else _read_jsonl(handle, file)
    except OSError as exc:
        raise UsageError(f"{file}: cannot read the lead file: {exc.strerror}") from None


def _unreadable(row: int, message: str, value: Any = None) -> RawRecord:
    return RawRecord(row, None, RecordError("unreadable-record", message, value=value))


def _line_text(line: bytes) -> str:
    text = line.decode("utf-8", "replace").strip()
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


# ---------------------------------------------------------------- JSON Lines


def _without_bom(stream: Iterable[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """The first line, without a UTF-8 byte order mark, and the lines after it."""
    lines = iter(stream)
    head = next(lines, b"")
    return head.removeprefix(BOM), lines


def json_array_hint(file: Path | str, head: bytes) -> None:
    """Refuse a file that holds one JSON array instead of one object per line."""
    if head.removeprefix(BOM).lstrip().startswith(b"["):
        raise UsageError(f"{file}: holds a JSON array, not JSON Lines (one object per line); "
                         f"convert it with `jq -c '.[]' {file}`")


def _read_jsonl(stream: BinaryIO, file: Path | None = None) -> Iterator[RawRecord]:
    head, rest = _without_bom(bounded_lines(stream))
    if file is not None:
        json_array_hint(file, head)
    return jsonl_records(itertools.chain((head,), rest))


def jsonl_records(lines: Iterable[bytes], first: int = 1) -> Iterator[RawRecord]:
    """The records of JSON Lines, numbering them from `first` (a chunk of a larger file)."""
    loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
    new, set_row, set_data, set_error = _new, _set_row, _set_data, _set_error
    digits, long_number = _DIGITS, _LONG_NUMBER
    limit = MAX_LINE_BYTES + 1  # a line and its line end
    for number, line in enumerate(lines, first):
        try:
            if len(line) > limit:  # as `bounded_lines` would have kept it
                raise JSONDecodeError("too long", "", 0)
            data = loads(line)
        except JSONDecodeError:
            if line.strip():  # a blank line is not a record
                yield _unreadable(number, f"line {number} is not a JSON object: "
                                          f"{_json_problem(line)}", _line_text(line))
            continue
        # orjson keeps the last of two equal keys and rounds integers beyond 64 bits to a
        # float; only a line that could hold either is read again, exactly. One pass makes
        # every digit a 0 and drops whitespace: then each key is one `":` (as `"k" :` is
        # too), text can only add more, and a run of 19 digits shows as 19 zeros.
        if data.__class__ is dict and (
                (squeezed := line.translate(digits, b" \t\r\n")).count(b'":') != len(data)
                or long_number in squeezed):
            data, problem = _exact_json(line)
            if problem is not None:
                yield _unreadable(number, f"line {number} {problem}", _line_text(line))
                continue
        if data.__class__ is dict:
            record = new(RawRecord)
            set_row(record, number)
            set_data(record, data)
            set_error(record, None)
            yield record
        else:
            kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null",
                    int: "a number", float: "a number"}.get(type(data), "not an object")
            yield _unreadable(number, f"line {number} is not a JSON object: found {kind}",
                              _line_text(line))


_DIGITS: Final = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER: Final = b"0" * 19  # orjson reads up to 2^64 - 1 exactly, and -2^63 at least
_INT64: Final = (-(1 << 63), (1 << 64) - 1)


def _exact_int(text: str) -> int | str:
    """An integer as orjson reads it, and one beyond 64 bits as its exact text."""
    value = int(text)
    return value if _INT64[0] <= value <= _INT64[1] else text


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is too large")
    return value


def _refuse_constant(text: str) -> None:
    raise ValueError(f"{text} is not a JSON number")


def _exact_json(line: bytes) -> tuple[Any, str | None]:
    """A line read by the standard library: duplicate keys found, long integers kept as text."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                repeated.append(key)
            result[key] = value
        return result

    try:
        data = json.loads(line, object_pairs_hook=pairs, parse_int=_exact_int,
                          parse_float=_finite, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        return None, f"is not a JSON object: {str(exc).split(':')[0].lower()}"
    if repeated:
        return None, (f"names `{show(repeated[0])}` twice; a record gives each column once "
                      "(which value is meant cannot be told)")
    return data, None


def jsonl_blocks(stream: BinaryIO, size: int) -> Iterator[tuple[bytes, int, int]]:
    """JSON Lines as blocks of whole lines of about `size` bytes, each with the number of its
    first line and its byte offset in the stream, for `jsonl_records(block.split(b"\\n"),
    first)` in another process. A leading byte order mark is left out."""
    carry, line, offset = b"", 1, 0
    chunk = stream.read(max(size, len(BOM)))
    if chunk.startswith(BOM):
        chunk, offset = chunk[len(BOM):] or stream.read(size), len(BOM)
    while True:
        if not chunk:
            if carry:
                yield carry, line, offset
            return
        chunk = carry + chunk if carry else chunk
        cut = chunk.rfind(b"\n") + 1
        if cut == 0 and len(chunk) > MAX_LINE_BYTES:  # kept as `bounded_lines` keeps it
            skipped = len(chunk)
            while (more := stream.read(size)) and b"\n" not in more:
                skipped += len(more)
            end = more.find(b"\n") + 1 if more else 0
            yield chunk[:MAX_LINE_BYTES + 1] + TOO_LONG + b"\n", line, offset
            line, offset = line + 1, offset + skipped + end
            carry, chunk = b"", more[end:] if more else b""
            if not chunk:
                chunk = stream.read(size)
            continue
        if cut == 0:  # a line longer than a block: keep reading
            carry = chunk
            chunk = stream.read(size)
            continue
        block, carry = chunk[:cut], chunk[cut:]
        yield block, line, offset
        line += block.count(b"\n")
        offset += cut
        chunk = stream.read(size)


def _json_problem(line: bytes) -> str:
    if len(line.rstrip(b"\n")) > MAX_LINE_BYTES:
        return f"the line is longer than {MAX_LINE_BYTES // (1 << 20)} MB, the limit"
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return "the line is not UTF-8 text"
    try:
        orjson.loads(line.rstrip())
    except orjson.JSONDecodeError as exc:
        return f"{exc.msg.lower()} at column {exc.pos + 1}"
    return "invalid JSON"  # pragma: no cover - the line failed to parse once already


# ---------------------------------------------------------------- CSV


@dataclass(frozen=True, slots=True, eq=False)
class CsvRecord(RawRecord):
    """A CSV record with the line it starts on (rows and lines differ after a blank line or a
    cell over several lines; a message about a row names both). It equals the `RawRecord`
    of the same row, data and error."""

    line: int = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawRecord):
            return NotImplemented
        return (self.row, self.data, self.error) == (other.row, other.data, other.error)

    __hash__ = RawRecord.__hash__


_set_line = vars(CsvRecord)["line"].__set__


def _csv_record(row: int, line: int, data: Mapping[str, Any] | None,
                error: RecordError | None = None) -> CsvRecord:
    record = _new(CsvRecord)
    _set_row(record, row)
    _set_data(record, data)
    _set_error(record, error)
    _set_line(record, line)
    return record


def _read_csv(stream: BinaryIO) -> Iterator[RawRecord]:
    """The first row names the columns, blank rows are skipped; a row with fewer or more cells
    than the header, or a quote never closed, is unreadable (`csvrows` says how each line is
    accounted for). Cells are separated by `,`, or by `;` or a tab when the header row has
    more of those. A column the header names twice holds `Repeated` in every record, not one
    of its cells: a dict keeps one value per name, and which is meant cannot be told."""
    lines = bounded_lines(stream, carriage_returns=True)
    first = next(lines, b"").removeprefix(BOM)
    header: list[str] = []
    repeated: dict[str, Repeated] = {}
    for row, line, cells, problem in csv_rows(lines, first):
        if problem is not None:
            shown = cells if cells and sum(map(len, cells)) <= _SHOWN else None
            yield _csv_record(row, line, None,
                              RecordError("unreadable-record", problem, value=shown))
        elif row:
            data: dict[str, Any] = dict(zip(header, cells, strict=True))
            if repeated:
                data.update(repeated)
            yield _csv_record(row, line, data)
        else:
            header = cells
            if len(set(header)) < len(header):
                marker = Repeated(tuple(header))
                repeated = {name: marker for name in header if header.count(name) > 1}


# ---------------------------------------------------------------- Parquet


def _read_parquet(file: Path) -> Iterator[RawRecord]:
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise UsageError("reading Parquet needs pyarrow: pip install 'slaengine[parquet]'") \
            from None
    try:
        parquet = pq.ParquetFile(file)
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"{file}: cannot read the Parquet file: {_first_line(exc)}") from None
    return _parquet_rows(parquet, file, pa.ArrowException)


def _parquet_rows(parquet: Any, file: Path, failure: type[Exception]) -> Iterator[RawRecord]:
    row = 0
    with parquet:
        try:
            for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
                for data in batch.to_pylist():
                    row += 1
                    yield _record(row, data)
        except (OSError, failure) as exc:
            raise UsageError(f"{file}: cannot read the Parquet file after row {row}: "
                             f"{_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
