"""The physical lines of a lead file, bounded in length, whatever ends them.

A line longer than `MAX_LINE_BYTES` is never held whole: its first bytes are handed on with a
NUL after them (no JSON or CSV row ends that way), and the rest is skipped, so `/dev/zero` or
one endless line cannot grow memory. A file whose lines end in a bare carriage return (old
Mac exports) is read as if they ended in a line feed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Final, cast

__all__ = ["MAX_LINE_BYTES", "TOO_LONG", "bounded_lines", "too_long"]

MAX_LINE_BYTES: Final = 1 << 20  # 1 MB: a lead with long notes is a few kB
TOO_LONG: Final = b"\x00"  # what ends the kept start of a line that was too long


def too_long(line: bytes) -> bool:
    """Whether `line` is the kept start of a line longer than the limit."""
    return len(line) > MAX_LINE_BYTES and line.endswith(TOO_LONG)


class _CarriageReturns(io.RawIOBase):
    """A stream whose bare `\\r` line ends read as `\\n` (and `\\r\\n` as one `\\n`)."""

    def __init__(self, stream: BinaryIO, head: bytes):
        self.stream, self.head, self.cr_last = stream, head, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.head or self.stream.read(len(buffer))
        self.head = b""
        if self.cr_last and data.startswith(b"\n"):  # `\r\n` split between two reads
            data = data[1:]
        if not data:
            return 0
        self.cr_last = data.endswith(b"\r")
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not data:  # pragma: no cover - a read of a lone `\n` after a `\r`
            data = b""
        buffer[:len(data)] = data
        return len(data)


def _carriage_return_ends(head: bytes) -> bool:
    """A first line cut at a bare `\\r` before any `\\n`: lines end in carriage returns."""
    cr = head.find(b"\r")
    return cr >= 0 and head[cr + 1:cr + 2] != b"\n" and b"\n" not in head[:cr]


def bounded_lines(stream: BinaryIO | Iterable[bytes], *,
                  carriage_returns: bool = False) -> Iterator[bytes]:
    """The lines of `stream` with their line ends; a too-long line as `too_long` tells.

    With `carriage_returns`, a file whose first line ends in a bare `\\r` is read with `\\r`
    as the line end (CSV); JSON Lines keeps `\\n` as its only line end. Lines already split
    (any iterable of bytes without `readline`) are only bounded.
    """
    limit = MAX_LINE_BYTES
    if not hasattr(stream, "readline"):
        for line in stream:
            yield line if len(line) <= limit else line[:limit + 1] + TOO_LONG
        return
    binary = cast(BinaryIO, stream)
    readline = binary.readline
    head = readline(limit + 1)
    if carriage_returns and _carriage_return_ends(head):
        readline = io.BufferedReader(_CarriageReturns(binary, head), 1 << 16).readline
        head = readline(limit + 1)
    line = head
    while line:
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := readline(limit)) and not rest.endswith(b"\n"):
                pass
            line = line + TOO_LONG
        yield line
        line = readline(limit + 1)
