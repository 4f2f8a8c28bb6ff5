"""A lead file meets the agreement before any record is evaluated: its columns are checked.

The header (CSV, Parquet) or the keys of the first records (JSON Lines) are compared with the
columns the fields and the mapping read (`headers`): the key column or most named columns
absent is a `UsageError` naming them with the closest columns the file has; some absent is one
warning. A column whose name differs only in case is read under the file's spelling. A header
that names a column a field reads twice (or in two spellings matching tells apart only by
case or spaces) is a `UsageError`: which cell holds the value cannot be told. A column no
field reads may be repeated.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from ..agreement.diagnostics import UsageError
from ..files import check_regular
from .evaluator import Engine
from .headers import Expected, HeaderCheck, Repeated, compare, expected_columns, repeats
from .leads import RawRecord, detect_format, read_leads
from .mapping import FooterNotes, MappingFile, without_footer
from .shipped import Fit, fitting

__all__ = ["LeadFile", "check_columns", "check_file", "file_columns", "open_leads",
           "peek_columns", "renamed"]

_JSONL_PEEK: Final = 100  # JSON Lines records whose keys stand for the file's columns
_LISTED: Final = 12  # missing columns listed one per line in an error


@dataclass(frozen=True, slots=True)
class LeadFile:
    """A lead file checked against an engine: the engine that reads it under the file's own
    spelling of the columns, its records (one pass), and the warnings to show once."""

    engine: Engine
    records: Iterator[RawRecord]
    warnings: tuple[str, ...]
    columns: tuple[str, ...] | None = None  # as the header or the first records have them
    footer: FooterNotes | None = None  # the footer lines left out, once the records are read


def _format(path: Path | str, fmt: str | None) -> str:
    if fmt is not None:
        return fmt.lower()
    if str(path) == "-":
        return "jsonl"
    if Path(path).exists() and not Path(path).is_dir():
        check_regular(path, "lead file")  # a pipe or a device: refused before its name is read
    return detect_format(path)


def peek_columns(records: Iterator[RawRecord], fmt: str
                 ) -> tuple[list[str] | None, Iterator[RawRecord]]:
    """The columns seen in the first records, and the records again (none lost).

    CSV and Parquet records carry every column of the header, so the first readable one
    tells (a CSV header naming a column twice, in full: see `_header`); JSON Lines records
    may leave keys out, so the first 100 are joined. None when no record could be read.
    """
    buffered: list[RawRecord] = []
    seen: dict[str, None] = {}
    readable = 0
    limit = _JSONL_PEEK if fmt == "jsonl" else 1
    for record in records:
        buffered.append(record)
        if record.data is not None:
            header = _header(record.data) if fmt != "jsonl" else None
            if header is not None:
                return header, itertools.chain(buffered, records)
            seen.update(dict.fromkeys(str(k) for k in record.data))
            readable += 1
            if readable >= limit:
                break
        elif len(buffered) >= _JSONL_PEEK:
            break
    return (list(seen) if readable else None), itertools.chain(buffered, records)


def _header(data: Mapping[str, Any]) -> list[str] | None:
    """The whole header of a CSV record whose header names a column twice (a dict keeps the
    name once; the reader put the header in `Repeated`), else None."""
    for value in data.values():
        if value.__class__ is Repeated:
            return list(value.header)
    return None


def _parquet_columns(path: Path | str) -> list[str] | None:
    """A Parquet file's column names as its schema has them, a name given twice twice (its
    records keep one); None when the schema cannot be read (the reader says why)."""
    try:
        parquet = importlib.import_module("pyarrow.parquet")
        with parquet.ParquetFile(path) as file:
            return list(file.schema_arrow.names)
    except Exception:  # any failure is the reader's to report: it reads the file too
        return None


def file_columns(path: Path | str, fmt: str | None = None) -> list[str] | None:
    """The columns of a lead file (not stdin), read from its first records."""
    fmt = _format(path, fmt)
    records = read_leads(path, fmt)
    try:
        if fmt == "jsonl":
            columns, _ = peek_columns(records, fmt)
        else:  # the first readable record, however far: nothing is kept to be read again
            data = next((r.data for r in records if r.data is not None), None)
            columns = None if data is None else _header(data) or [str(k) for k in data]
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()
    if fmt == "parquet" and columns is not None:
        columns = _parquet_columns(path) or columns
    return columns


def check_columns(engine: Engine, columns: list[str] | None, where: str, fmt: str, *,
                  detect: bool = True) -> tuple[Engine, tuple[str, ...]]:
    """The engine that reads these columns (the same one when nothing differs in case) and the
    warning about columns that are absent; raises `UsageError` when too many are. Without a
    mapping, and with `detect`, a shipped mapping that reads more of the columns is used."""
    if columns is None:  # no record to read: nothing can be misread
        return engine, ()
    check = compare(expected_columns(engine.spec.fields, engine.mapping), columns)
    place = "header" if fmt != "jsonl" else "first records"
    if engine.mapping is None and detect:  # a shipped mapping that reads more of the file is safer
        found = len(check.expected) - len(check.missing)
        fits = [fit for fit in fitting(engine.spec.fields, columns) if fit.found > found]
        best = [fit for fit in fits if fit.missing == fits[0].missing]
        if len(best) == 1:
            return _with_shipped(engine, best[0], columns, where, fmt)
        if best:
            raise UsageError(_ambiguous(best, where, place))
    if fmt != "jsonl":  # JSON Lines records name each key once (`leads`)
        _refuse_repeats(check, where)
    if check.fatal:
        raise UsageError(_refusal(check, where, place, engine.mapping is not None))
    warnings = (_warning(check, where, place),) if check.missing_named else ()
    if check.resolved:
        spelled = {**(engine.mapping or {}), **check.resolved}
        mapping = (engine.mapping.with_columns(spelled)
                   if isinstance(engine.mapping, MappingFile) else spelled)
        engine = Engine(engine.spec, engine.digest, engine.loaded, mapping, kpis=engine.kpis)
    return engine, warnings


def check_file(engine: Engine, path: Path | str, fmt: str | None = None
               ) -> tuple[Engine, tuple[str, ...]]:
    """`check_columns` on a file's own columns (for readers other than `read_leads`)."""
    fmt = _format(path, fmt)
    return check_columns(engine, file_columns(path, fmt), str(path), fmt)


def open_leads(engine: Engine, path: Path | str, fmt: str | None = None, *,
               on_open: Callable[[BinaryIO], None] | None = None,
               on_warning: Callable[[str], None] | None = None) -> LeadFile:
    """The records of a lead file (`-`: stdin) after its columns are checked.

    With a mapping that has a footer option, the footer lines left out are counted in
    `footer`, and `on_warning` is handed the warning about them once the last record is read
    (a footer is known only at the end of the file).
    """
    fmt = _format(path, fmt)
    where = "stdin" if str(path) == "-" else str(path)
    columns, records = peek_columns(read_leads(path, fmt, on_open=on_open), fmt)
    if fmt == "parquet" and columns is not None:
        columns = _parquet_columns(path) or columns
    engine, warnings = check_columns(engine, columns, where, fmt)
    if columns is None and fmt == "csv":  # no readable record in the first ones
        records = _repeats_checked(records, engine, where)
    footer = None
    if isinstance(engine.mapping, MappingFile) and engine.mapping.has_footer:
        footer = FooterNotes()
        records = without_footer(records, engine.mapping, footer)
        if on_warning is not None:
            records = _told(records, footer, where, on_warning)
    return LeadFile(engine, records, warnings, tuple(columns) if columns is not None else None,
                    footer)


def _told(records: Iterator[RawRecord], footer: FooterNotes, where: str,
          on_warning: Callable[[str], None]) -> Iterator[RawRecord]:
    """The records, then the warning about the footer lines left out (if any were)."""
    yield from records
    text = footer.warning(where)
    if text is not None:
        on_warning(text)


def _repeats_checked(records: Iterator[RawRecord], engine: Engine, where: str
                     ) -> Iterator[RawRecord]:
    """The records of a CSV file whose first records could not be read, so its header was
    not checked: the first readable one tells whether a field reads a repeated column."""
    for record in records:
        if record.data is not None:
            header = _header(record.data)
            if header is not None:
                _refuse_repeats(compare(expected_columns(engine.spec.fields, engine.mapping),
                                        header), where)
            yield record
            yield from records
            return
        yield record


def _refuse_repeats(check: HeaderCheck, where: str) -> None:
    """Refuse a header that names a column a field reads more than once (exactly, or as
    matching ignores): which of the cells holds the value cannot be told."""
    header, read = check.header, check.read
    found = []
    for positions in repeats(header):
        names = [header[i] for i in positions]
        field = next((read[n] for n in names if n in read), None)
        if field is not None:
            found.append((names, positions, field))
    if not found:
        return
    parts = [_repeat(names, positions) for names, positions, _ in found]
    if len(found) == 1:
        names, _, field = found[0]
        raise UsageError(f"{where}: the header names {parts[0]}; which one holds field "
                         f"`{field}` cannot be told\n  hint: rename or remove all but the "
                         "column that holds it")
    lines = [f"{where}: the header names {len(found)} columns the fields read more than once; "
             "which cell holds each value cannot be told"]
    lines += [f"  {part}, read for field `{field}`" for part, (_, _, field) in zip(
        parts, found, strict=True)]
    lines.append("  hint: rename or remove all but the column that holds each value")
    raise UsageError("\n".join(lines))


def _repeat(names: list[str], positions: tuple[int, ...]) -> str:
    """`the column `stage` twice (columns 2 and 3)`, with each spelling when they differ."""
    times = {2: "twice", 3: "three times"}.get(len(names), f"{len(names)} times")
    spelled = list(dict.fromkeys(names))
    also = (", as " + " and ".join(f"`{n}`" for n in spelled)) if len(spelled) > 1 else ""
    numbers = [str(i + 1) for i in positions]
    listed = ", ".join(numbers[:-1]) + " and " + numbers[-1]
    return f"the column `{names[0]}` {times}{also} (columns {listed})"


def _with_shipped(engine: Engine, fit: Fit, columns: list[str], where: str, fmt: str
                  ) -> tuple[Engine, tuple[str, ...]]:
    """The engine that reads the file with the one shipped mapping its header fits."""
    shipped = Engine(engine.spec, engine.digest, engine.loaded, fit.mapping, kpis=engine.kpis)
    shipped, warnings = check_columns(shipped, columns, where, fmt)
    place = "header" if fmt != "jsonl" else "first records"
    note = (f"{where}: no --mapping given, and the {place} {'is' if fmt != 'jsonl' else 'are'} "
            f"what the shipped mapping `{fit.name}` reads: the file is read with it "
            f"({fit.path}); give --mapping to read it otherwise")
    return shipped, (note, *warnings)


def renamed(records: Iterator[RawRecord], names: Mapping[str, str]) -> Iterator[RawRecord]:
    """The records with columns renamed (`file spelling -> expected spelling`)."""
    if not names:
        yield from records
        return
    for record in records:
        if record.data is None:
            yield record
        else:
            yield RawRecord(record.row, {names.get(k, k): v for k, v in record.data.items()})


def _label(item: Expected) -> str:
    columns = " or ".join(f"`{c}`" for c in item.columns)
    role = "the key field" if item.key else "field"
    return f"no column {columns} for {role} `{item.field}`"


def _with_suggestion(check: HeaderCheck, item: Expected) -> str:
    near = check.suggestions(item)
    if not near:
        return _label(item)
    return _label(item) + "; the file has " + " or ".join(f"`{c}`" for c in near)


def _ambiguous(fits: list[Fit], where: str, place: str) -> str:
    names = " and ".join(f"`{fit.name}`" for fit in fits)
    return (f"{where}: no --mapping given, and the shipped mappings {names} read the lead "
            f"file's {place} alike\n  hint: give the one written for this export, e.g. "
            f"--mapping {fits[0].path}")


def _refusal(check: HeaderCheck, where: str, place: str, mapped: bool) -> str:
    missing = [e for e in check.missing if e.key or e.named]
    total = len(check.named) + (check.missing_key is not None and not check.missing_key.named)
    lack = "lacks" if place == "header" else "lack"
    reason = (f"{lack} the key column" if check.missing_key is not None
              and len(missing) == 1 else
              f"{lack} {len(missing)} of the {total} columns the "
              f"{'mapping names' if mapped else 'fields name'}"
              + (", the key among them" if check.missing_key is not None else ""))
    lines = [f"{where}: the lead file's {place} {reason}"]
    lines += [f"  {_with_suggestion(check, e)}" for e in missing[:_LISTED]]
    if len(missing) > _LISTED:
        lines.append(f"  and {len(missing) - _LISTED} more")
    if not mapped:
        lines.append("  hint: give --mapping a file that maps the fields to this export's "
                     "columns (see examples/mappings/README.md)")
    else:
        lines.append(
            "  hint: correct the mapping's columns to the ones the file has, or give the "
            "mapping written for this export")
    return "\n".join(lines)


def _warning(check: HeaderCheck, where: str, place: str) -> str:
    parts = []
    for item in check.missing_named:
        near = check.suggestions(item, 1)
        parts.append(f"`{item.column}` (field `{item.field}`"
                     + (f"; the file has `{near[0]}`" if near else "") + ")")
    return (f"{where}: the {place} have no column " if place == "first records" else
            f"{where}: the {place} has no column ") + ", ".join(parts) + (
        "; these fields are missing on every lead")
