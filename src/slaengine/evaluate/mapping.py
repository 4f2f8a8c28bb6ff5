"""Mapping files: which export column each field is read from, and how the export writes values.

A mapping is a YAML object of `field: Column` pairs and, optionally, how to read the export:
`datetime_format` and `date_format` (strptime, for spreadsheet dates such as `02/10/2026,
07:14`), `values: {field: {"Export label": agreement_value}}` for picklist labels, and
`skip_footer_lines: N` / `footer: PATTERN` for report exports that end with notes. These five
keys are options, never field names. Every option is checked where it is written.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from ..agreement.diagnostics import UsageError, did_you_mean
from ..agreement.loader import read_yaml_file
from ..agreement.models.sections import FieldSpec
from .coerce import Coercer, RecordError, show
from .headers import Repeated
from .leads import RawRecord

__all__ = ["OPTIONS", "FooterNotes", "MappedCoercer", "MappingFile", "Translator", "load_mapping",
           "read_mapping", "without_footer"]

OPTIONS: Final = ("datetime_format", "date_format", "values", "skip_footer_lines", "footer")
_SAMPLE: Final = datetime(2026, 11, 23, 14, 5, 9)  # every part differs from every other
_SHOWN: Final = 200  # characters of a line's cells kept in an error's value, as the reader keeps


class MappingFile(dict[str, str]):
    """The `field: column` pairs of a mapping file (it is that dict), with its reading options."""

    datetime_format: str | None = None
    date_format: str | None = None
    labels: dict[str, dict[str, Any]]  # the `values` option (a dict's `values` is taken)
    skip_footer_lines: int = 0
    footer: re.Pattern[str] | None = None
    path: Path | None = None

    def __init__(self, columns: Mapping[str, str] | None = None, **options: Any) -> None:
        super().__init__(columns or {})
        self.labels = {}
        for name, value in options.items():
            setattr(self, "labels" if name == "values" else name, value)

    def with_columns(self, columns: Mapping[str, str]) -> MappingFile:
        """The same options over other columns (the file's own spelling of them)."""
        return MappingFile(columns, **self.options())

    def options(self) -> dict[str, Any]:
        return {"datetime_format": self.datetime_format, "date_format": self.date_format,
                "values": self.labels, "skip_footer_lines": self.skip_footer_lines,
                "footer": self.footer, "path": self.path}

    @property
    def translates(self) -> bool:
        """Whether values are rewritten before they are coerced."""
        return bool(self.datetime_format or self.date_format or self.labels)

    @property
    def has_footer(self) -> bool:
        return bool(self.skip_footer_lines) or self.footer is not None

    @property
    def python_only(self) -> list[str]:
        """The options only the Python reader applies exactly (the SQL engines do not)."""
        return [name for name, used in (
            ("datetime_format", self.datetime_format), ("date_format", self.date_format),
            ("values", self.labels), ("skip_footer_lines", self.skip_footer_lines),
            ("footer", self.footer is not None)) if used]

    def __repr__(self) -> str:
        return f"<MappingFile {self.path} {len(self)} columns>"


def read_mapping(path: Path, fields: Mapping[str, FieldSpec] | None = None) -> MappingFile:
    """Read and check a mapping file; with `fields`, also check what it says about them."""
    path = Path(path)
    loaded = read_yaml_file(path)
    for problem in loaded.diagnostics:
        where = problem.location.display() if problem.location else str(path)
        raise UsageError(f"{where}: {problem.message}")
    if not isinstance(loaded.data, dict):
        raise UsageError(f"{path}: a column mapping is an object of `field: column` pairs")

    def fail(keys: tuple[Any, ...], message: str, hint: str = "") -> UsageError:
        location = loaded.source.locate(keys)
        where = location.display() if location else str(path)
        return UsageError(f"{where}: {message}" + (f"\n  hint: {hint}" if hint else ""))

    columns: dict[str, str] = {}
    options: dict[str, Any] = {"path": path}
    for name, column in loaded.data.items():
        if name in OPTIONS:
            options[name] = _option(name, column, fail)
        elif not isinstance(column, str) or not column.strip():
            raise fail((name,), f"the column of `{name}` must be a non-empty text, not "
                                f"`{show(column)}`")
        else:
            columns[name] = column
    mapping = MappingFile(columns, **options)
    if fields is not None:
        _check_fields(mapping, fields, fail)
    return mapping


def load_mapping(path: Path) -> dict[str, str]:
    """Read a column mapping file: its `{field_name: column_name}` pairs (options checked)."""
    return dict(read_mapping(path))


def _option(name: str, value: Any, fail: Any) -> Any:
    if name in ("datetime_format", "date_format"):
        return _format(name, value, fail)
    if name == "skip_footer_lines":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail((name,), f"`skip_footer_lines` is a number of lines (0 or more), not "
                                f"`{show(value)}`")
        return value
    if name == "footer":
        if not isinstance(value, str) or not value:
            raise fail((name,), f"`footer` is a pattern the first cell of a footer line "
                                f"matches, not `{show(value)}`")
        try:
            return re.compile(value)
        except re.error as exc:
            raise fail((name,), f"`footer` is not a valid pattern: {exc}") from None
    if not isinstance(value, dict):
        raise fail((name,), "`values` is an object of fields, each an object of "
                            "`\"Export label\": agreement value` pairs")
    for field, table in value.items():
        if not isinstance(table, dict) or not table:
            raise fail((name, field), f"the values of `{field}` are an object of "
                                      "`\"Export label\": agreement value` pairs")
        for label, target in table.items():
            if not isinstance(label, str | int) or isinstance(label, bool):
                raise fail((name, field, label), f"the label `{show(label)}` of `{field}` "
                                                 "must be text")
            if target is None or isinstance(target, dict | list):
                raise fail((name, field, label), f"the value for `{label}` of `{field}` must "
                                                 f"be a single value, not `{show(target)}`")
    return {field: {str(k): v for k, v in table.items()} for field, table in value.items()}


def _format(name: str, value: Any, fail: Any) -> str:
    kind = "datetime" if name == "datetime_format" else "date"
    example = "\"%d/%m/%Y, %H:%M\"" if kind == "datetime" else "\"%d/%m/%Y\""
    if not isinstance(value, str) or "%" not in value:
        raise fail((name,), f"`{name}` is a strptime format such as {example}, not "
                            f"`{show(value)}`")
    sample = _SAMPLE if kind == "datetime" else _SAMPLE.replace(hour=0, minute=0, second=0)
    try:
        written = sample.strftime(value)
        back = datetime.strptime(written, value)
    except ValueError as exc:
        raise fail((name,), f"`{name}` `{value}` is not a strptime format: {exc}",
                   f"write it like {example}") from None
    if back.date() != sample.date():
        raise fail((name,), f"`{name}` `{value}` does not give the year, month and day",
                   f"write it like {example}")
    if kind == "datetime" and (back.hour, back.minute) != (sample.hour, sample.minute):
        raise fail((name,), f"`{name}` `{value}` does not give the hour and minute; use "
                            "`date_format` for dates", f"write it like {example}")
    return value


def _check_fields(mapping: MappingFile, fields: Mapping[str, FieldSpec], fail: Any) -> None:
    for name in mapping:
        if name not in fields:
            hint = did_you_mean(name, fields)
            raise fail((name,), f"the column mapping names `{name}`, which is not a field of "
                                "the agreement" + (f"; {hint}" if hint else ""))
    for name, table in mapping.labels.items():
        spec = fields.get(name)
        if spec is None:
            hint = did_you_mean(name, fields)
            raise fail(("values", name), f"`values` names `{name}`, which is not a field of "
                                         "the agreement" + (f"; {hint}" if hint else ""))
        allowed = spec.enum
        for label, target in table.items():
            if allowed is not None and target not in allowed:
                listed = ", ".join(str(v) for v in allowed)
                raise fail(("values", name, label),
                           f"`{label}` of `{name}` maps to `{show(target)}`, which is not one "
                           f"of its values", f"use one of {listed}")


class Translator:
    """Rewrites the values a mapping's options concern, before they are coerced."""

    def __init__(self, mapping: MappingFile, fields: Mapping[str, FieldSpec],
                 columns: Mapping[str, str]) -> None:
        self.steps: list[tuple[str, str, str, Any]] = []
        for name, spec in fields.items():
            if name in mapping.labels:
                table = mapping.labels[name]
                self.steps.append((name, columns[name], "values", table))
            elif spec.type == "datetime" and (mapping.datetime_format or mapping.date_format):
                # A datetime field may hold a date (midnight): `LastActivityDate` in a report.
                formats = tuple(f for f in (mapping.datetime_format, mapping.date_format) if f)
                self.steps.append((name, columns[name], "datetime", formats))
            elif spec.type == "date" and mapping.date_format:
                self.steps.append((name, columns[name], "date", (mapping.date_format,)))

    def __call__(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[RecordError]]:
        out = dict(raw)
        errors: list[RecordError] = []
        for name, column, kind, how in self.steps:
            key = column if out.get(column) is not None else name
            value = out.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            text = value.strip()
            if kind == "values":
                if text in how:
                    out[key] = how[text]
                continue
            parsed = _parse(text, how)
            if parsed is None:
                if _iso(text, kind):
                    continue
                options = " or ".join(f"`{f}`" for f in how)
                errors.append(RecordError(
                    "invalid-value", f"`{show(text)}` does not match the mapping's "
                    f"{'format' if len(how) == 1 else 'formats'} {options}", name, key, value))
                out[key] = None
                continue
            out[key] = parsed.date().isoformat() if kind == "date" else parsed.isoformat()
        return out, errors


def _parse(text: str, formats: tuple[str, ...]) -> datetime | None:
    for format in formats:
        try:
            return datetime.strptime(text, format)
        except ValueError:
            continue
    return None


def _iso(text: str, kind: str) -> bool:
    try:
        (date.fromisoformat if kind == "date" else datetime.fromisoformat)(text)
    except ValueError:
        return False
    return True


class MappedCoercer(Coercer):
    """A `Coercer` that first rewrites values as the mapping's options say."""

    def __init__(self, fields: Mapping[str, FieldSpec], timezone: Any,
                 mapping: MappingFile) -> None:
        super().__init__(fields, timezone, mapping)
        self.translate = Translator(mapping, fields, self.columns)

    def __call__(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[RecordError]]:
        if not isinstance(raw, Mapping):
            return super().__call__(raw)
        translated, errors = self.translate(raw)
        values, more = super().__call__(translated)
        return values, errors + more if errors else more


class FooterNotes:
    """The lines a mapping's footer option left out of a lead file, told in one warning once
    the file is read: how many, where (the first few runs of records one after another), the
    first and the last text. Its size is constant, however long the footer."""

    _RUNS: Final = 5

    def __init__(self) -> None:
        self.option = ""  # the option that made the footer, as the mapping writes it
        self.count = 0
        self.runs: list[list[int]] = []  # [first, last] line of records one after another
        self.more_runs = 0
        self.lines = True  # CSV records say their line; other records only their number
        self.first: str | None = None
        self.last: str | None = None
        self._row = -1

    def add(self, record: RawRecord) -> None:
        line = getattr(record, "line", None)
        if line is None:
            self.lines, line = False, record.row
        if record.row == self._row + 1 and self.runs and not self.more_runs:
            self.runs[-1][1] = line
        elif len(self.runs) < self._RUNS:
            self.runs.append([line, line])
        elif record.row != self._row + 1:
            self.more_runs += 1
        self._row = record.row
        text = _text(record)
        self.count += 1
        self.first = text if self.count == 1 else self.first
        self.last = text

    def warning(self, where: str) -> str | None:
        """The warning about the lines left out, or None when none were."""
        if not self.count:
            return None
        spans = [f"{a}" if a == b else f"{a} to {b}" for a, b in self.runs]
        one = self.count == 1
        unit = ("line" if self.lines else "record") + ("" if one else "s")
        if self.more_runs:  # the first runs, then how many in all
            listed = ", ".join(spans) + f" and others ({self.count} {unit} in all)"
        else:
            listed = spans[0] if len(spans) == 1 else ", ".join(spans[:-1]) + " and " + spans[-1]
        said = "" if self.first is None else f": `{self.first}`" + (
            f" to `{self.last}`" if not one and self.last is not None else "")
        return (f"{where}: {unit} {listed} {'is' if one else 'are'} the export's footer "
                f"(the mapping's {self.option}) and {'was' if one else 'were'} left out{said}")


def without_footer(records: Iterator[RawRecord], mapping: MappingFile,
                   notes: FooterNotes | None = None) -> Iterator[RawRecord]:
    """The records before a report export's footer: the first record whose first cell matches
    `footer` and all after it are notes, not leads; without such a record, the last
    `skip_footer_lines` records are. Notes are left out (and told to `notes`), but a line
    that looks like a lead (`_like_a_lead`) keeps its place as an unreadable record saying
    why: a mapping that no longer fits its export never drops a lead in silence. Memory: the
    last `skip_footer_lines` records."""
    held: deque[tuple[RawRecord, bool]] = deque()  # (record, whether it is final already)
    keep = mapping.skip_footer_lines
    pattern = mapping.footer
    fix = "make the pattern match the first note only"
    records = iter(records)
    for read in records:
        record, final = read, False
        if pattern is not None:
            first = _first_cell(read)
            if isinstance(first, str) and pattern.search(first.strip()):
                if _like_a_lead(read):  # `Total-Q4-77` under `^Total`: no note starts here
                    record, final = _kept(read, "but its first cell matches the mapping's "
                                          f"`footer` pattern `{pattern.pattern}`", fix), True
                else:
                    yield from (r for r, _ in held)
                    if notes is not None:
                        notes.option = f"`footer: \"{pattern.pattern}\"`"
                    yield from _footer(itertools.chain((record,), records), notes, (
                        f"but it comes after {_place(record)}, where the mapping's `footer` "
                        f"pattern `{pattern.pattern}` starts the footer"), fix)
                    return
        held.append((record, final))
        if len(held) > keep:
            yield held.popleft()[0]
    lines = "line" if keep == 1 else f"{keep} lines"
    if notes is not None:
        notes.option = f"`skip_footer_lines: {keep}`"
    yield from _footer(held, notes, (
        f"but it is one of the last {lines}, which the mapping's `skip_footer_lines: {keep}` "
        "leaves out as notes"), f"check that the export still ends with its {lines} of notes, "
        "or correct `skip_footer_lines`")


def _footer(records: Iterable[RawRecord | tuple[RawRecord, bool]], notes: FooterNotes | None,
            why: str, fix: str) -> Iterator[RawRecord]:
    """The footer's records: a note is left out, a line like a lead kept with an error (and a
    record already made final, kept as it is)."""
    for item in records:
        record, final = item if isinstance(item, tuple) else (item, False)
        if final:
            yield record
        elif _like_a_lead(record):
            yield _kept(record, why, fix)
        elif notes is not None:
            notes.add(record)


def _values(record: RawRecord) -> list[Any]:
    """The values a record holds: its cells that are not blank (a column the header repeats
    holds no value: `Repeated`)."""
    assert record.data is not None
    return [v for v in record.data.values() if v is not None and not isinstance(v, Repeated)
            and not (isinstance(v, str) and not v.strip())]


def _like_a_lead(record: RawRecord) -> bool:
    """A footer note is one text (`"Confidential Information"`), in a row of its own or padded
    to the header's width by a spreadsheet; a record read whole with values in two cells (or
    in its only one) is data. A row of another width is unreadable anyway, and stays a note."""
    if not record.data:
        return False
    return len(_values(record)) >= min(2, len(record.data))


def _place(record: RawRecord) -> str:
    line = getattr(record, "line", None)
    return f"row {record.row} (line {line})" if line is not None else f"record {record.row}"


def _kept(record: RawRecord, why: str, fix: str) -> RawRecord:
    """A footer line that looks like a lead, as an unreadable record that says why."""
    values = _values(record)
    shown = ", ".join(f"`{show(v, 30)}`" for v in values[:3]) + (", ..." if len(values) > 3
                                                                    else "")
    assert record.data is not None
    cells = [None if isinstance(v, Repeated) else v for v in record.data.values()]
    return RawRecord(record.row, None, RecordError(
        "unreadable-record", f"{_place(record)} looks like a lead, not a footer note ({shown}), "
        f"{why}; it is not evaluated: {fix}",
        value=cells if len(show(cells, _SHOWN + 1)) <= _SHOWN else None))


def _text(record: RawRecord) -> str | None:
    """A note's text, for the warning: its cells that are not blank."""
    cells: Any = (record.error.value if record.error is not None else None) \
        if record.data is None else [v for v in record.data.values()
                                     if not isinstance(v, Repeated)]
    if not isinstance(cells, list):
        return None
    text = " ".join(show(c, 10**6) for c in cells if c is not None and str(c).strip())
    return show(text) if text else None


def _first_cell(record: RawRecord) -> Any:
    """The first cell of a record; a footer note is a short row, which the reader keeps as an
    error carrying the cells it read."""
    if record.data:
        return next(iter(record.data.values()), None)
    cells = record.error.value if record.error is not None else None
    return cells[0] if isinstance(cells, list) and cells else None
