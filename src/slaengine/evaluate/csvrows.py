"""The rows of a CSV lead file, every physical line accounted for.

`csv.reader` joins lines while a quoted cell is open. One stray opening quote (`"Acme, Inc`
never closed) would so swallow every line after it into one cell. Here the lines a row took
are remembered: a row that reaches the end of the file, or `MAX_ROW_BYTES`, inside quotes,
and a row spread over several lines whose cell count is wrong (a stray quote closed by
another one further down), is reported as an error at the line where it starts, and the
lines after that one are read again as rows of their own. So each line is part of exactly
one record or one located error, and nothing is lost in silence.

Rows are `(row, first_line, cells, problem)`: `problem` is None or the message of an error.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from typing import Final

from ..agreement.diagnostics import UsageError
from .lines import MAX_LINE_BYTES, too_long

__all__ = ["MAX_ROW_BYTES", "Row", "csv_rows"]

MAX_ROW_BYTES: Final = 4 * MAX_LINE_BYTES  # a quoted cell may span lines, not without end
_MB: Final = 1 << 20

Row = tuple[int, int, list[str], str | None]


class _Feed:
    """The lines handed to `csv.reader`, with those of the row being read kept aside."""

    def __init__(self, lines: Iterator[tuple[int, str]]):
        self.source = lines
        self.replay: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []  # the lines of the current row
        self.size = 0
        self.cut = False  # the row met the end of the input, or the size limit, in quotes

    def lines(self) -> Iterator[str]:
        source, replay, taken = self.source, self.replay, self.taken
        while True:
            if replay:
                item = replay.popleft()
            else:
                found = next(source, None)
                if found is None:
                    self.cut = True
                    return
                item = found
            taken.append(item)
            self.size += len(item[1])
            if self.size > MAX_ROW_BYTES and len(taken) > 1:
                self.cut = True
                return
            yield item[1]

    def again(self, delimiter: str) -> Iterator[list[str]]:
        """A new reader over the lines after the first of the current row, then the rest."""
        self.replay.extendleft(reversed(self.taken[1:]))
        self.cut = False
        return csv.reader(self.lines(), delimiter=delimiter, strict=True)


def _decoded(lines: Iterator[bytes], problems: dict[int, str]) -> Iterator[tuple[int, str]]:
    """Numbered text lines; a line that is not UTF-8, or too long, is noted in `problems`."""
    limit = MAX_LINE_BYTES
    for number, line in enumerate(lines, 1):
        if len(line) > limit and too_long(line):
            problems[number] = f"is longer than {limit // _MB} MB, the limit"
            yield number, "\x00\n"  # one cell, never blank, never quoted
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            problems[number] = "is not UTF-8 text; save the export as UTF-8"
            text = line.decode("utf-8", "replace")
        yield number, text


def csv_rows(lines: Iterator[bytes], first: bytes) -> Iterator[Row]:
    """The rows after the header of CSV `lines` (the header line `first` already read), with
    the header's cells first as row 0; blank lines are skipped."""
    problems: dict[int, str] = {}
    numbered = _decoded(_chain(first, lines), problems)
    head = next(numbered, None)
    text = head[1] if head else ""
    # Spreadsheets in many locales separate cells with `;`: take the header's separator.
    delimiter = max((",", ";", "\t"), key=text.count)
    feed = _Feed(numbered)
    if head is not None:
        feed.replay.append(head)
    # `strict`: text after a closing quote (`"1"200`) is an error, not glued to the cell.
    reader: Iterator[list[str]] = csv.reader(feed.lines(), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    row = 0
    while True:
        feed.taken.clear()
        feed.size = 0
        try:
            cells = next(reader)
            failure = None
        except StopIteration:
            return
        except csv.Error as exc:
            cells, failure = [], _csv_problem(str(exc))
        taken = feed.taken
        start = taken[0][0] if taken else 0
        end = taken[-1][0] if taken else 0
        if header is None and failure is None and not cells and not feed.cut:
            continue
        if header is None:
            if feed.cut or failure or any(n in problems for n, _ in taken):
                raise UsageError(_header_problem(start, feed.cut, failure, problems))
            header = cells
            yield 0, start, header, None
            continue
        problem = failure
        if feed.cut:
            limit = "the end of the file" if feed.size <= MAX_ROW_BYTES else \
                f"{MAX_ROW_BYTES // _MB} MB"
            problem = (f"has a quote that is never closed (the cell runs to {limit}); "
                       "the lines after it are read as rows of their own")
        elif problems and any(n in problems for n, _ in taken):
            problem = next(problems[n] for n, _ in taken if n in problems)
        elif failure is not None and len(taken) > 1 and failure.startswith(_AFTER_QUOTE):
            problem = (f"has a quoted cell that runs on to line {end}, and then the row is not "
                       "valid CSV: is a quote missing? the lines after it are read as rows of "
                       "their own")
        elif failure is not None:
            pass
        elif not cells:
            continue  # a blank line
        elif len(taken) > 1 and len(cells) != len(header):
            problem = (f"has a quoted cell that runs on to line {end}, and then "
                       f"{_cells(len(cells))} where the header has {len(header)}: is a quote "
                       "missing? the lines after it are read as rows of their own")
            feed.cut = True
        elif len(cells) != len(header):
            problem = f"has {_cells(len(cells))} but the header has {len(header)}"
        row += 1
        if problem is not None:
            yield row, start, cells, f"row {row} (line {start}) {problem}"
        else:
            yield row, start, cells, None
        if feed.cut or (failure and len(taken) > 1):
            reader = feed.again(delimiter)


_AFTER_QUOTE: Final = "has text after the closing quote of a cell"


def _cells(n: int) -> str:
    return "1 cell" if n == 1 else f"{n} cells"


def _csv_problem(message: str) -> str:
    """`csv.Error`'s words, said for a person who exported a file from a spreadsheet."""
    if message.startswith("new-line character seen in unquoted field"):
        return ("has a carriage return inside a cell that is not quoted; quote the cell or "
                "remove the carriage return")
    if message.startswith("field larger than field limit"):
        return (f"has a cell longer than {csv.field_size_limit():,} characters, the limit; "
                "is a quote missing?")
    if message.endswith("expected after '\"'"):
        return (f"{_AFTER_QUOTE} (as in `\"1\"200`); quote the whole cell or remove its "
                "quotes")
    return f"is not valid CSV: {message.lower()}"


def _header_problem(line: int, cut: bool, failure: str | None, problems: dict[int, str]) -> str:
    if cut:
        return (f"the CSV header row (line {line}) has a quote that is never closed; "
                "check the export")
    if failure:
        return f"the CSV header row (line {line}) {failure}"
    problem = next(iter(problems.values()))
    if "UTF-8" in problem:
        return "the CSV header row is not UTF-8 text; save the export as UTF-8"
    return f"the CSV header row (line {line}) {problem}"


def _chain(first: bytes, lines: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from lines
