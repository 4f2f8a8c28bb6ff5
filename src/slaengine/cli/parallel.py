"""`evaluate` on several processes: JSON Lines in, JSON Lines out, in input order.

The parent reads the file in blocks of whole lines and writes the workers' output blocks in
the order it read them; each worker parses, coerces, evaluates and serialises its block with
the same code as the one-process path (`jsonl_records` numbered from the block's first
line, `Engine.records`, `write_jsonl`'s options), so the output is byte-for-byte the same.
At most a few blocks are in flight, so memory stays flat however large the file is.
Workers are forked: they inherit the compiled agreement instead of compiling it again.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import stat
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime
from multiprocessing.pool import AsyncResult
from typing import BinaryIO, Final

import orjson

from ..evaluate.evaluator import Engine
from ..evaluate.leads import json_array_hint, jsonl_blocks, jsonl_records
from ..evaluate.lines import MAX_LINE_BYTES, TOO_LONG
from ..evaluate.records import JSONL_OPTIONS, Tally

BLOCK_BYTES: Final = 1 << 20
PARALLEL_FROM_BYTES: Final = 8 << 20  # below this, starting workers costs more than it saves
MAX_JOBS: Final = 8

# A task is a block of lines and the number of its first line. A block of a regular file is
# sent as (offset, length) and read by the worker itself, so the input never passes through
# a pipe; a block of a pipe is sent as bytes. (A memory map would be simpler, but its pages
# count towards every process's resident memory, which then grows with the file.)
Task = tuple[bytes | tuple[int, int], int]
_worker_state: list[tuple[Engine, datetime, int | None]] = []  # set by `_start_worker`


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def auto_jobs(size: int | None) -> int:
    """Processes for `--jobs auto`: every core for a large file, one for a small one."""
    if size is None or size < PARALLEL_FROM_BYTES or not can_fork():
        return 1
    return min(available_cores(), MAX_JOBS)


def _read_at(fd: int, offset: int, length: int) -> bytes:
    parts = []
    while length > 0:
        part = os.pread(fd, length, offset)
        if not part:
            break
        parts.append(part)
        offset += len(part)
        length -= len(part)
    return b"".join(parts)


def _evaluate_block(task: Task) -> tuple[bytes, Tally]:
    engine, now, fd = _worker_state[0]
    where, first = task
    if isinstance(where, bytes):
        block = where
    else:
        assert fd is not None
        block = _read_at(fd, *where)
    lines = block.split(b"\n")
    if lines[-1] == b"":  # the block ends its last line; that is not one more blank line
        lines.pop()
    tally = Tally()
    dumps, option = orjson.dumps, JSONL_OPTIONS
    output = b"".join([dumps(record, option=option) for record in
                       tally.count(engine.records(jsonl_records(lines, first), now))])
    return output, tally


def _start_worker(engine: Engine, now: datetime, fd: int | None) -> None:
    # Forked, so the engine arrives as it is, not pickled, and the file descriptor is shared
    # (`pread` does not move its position, so workers never disturb each other).
    _worker_state[:] = [(engine, now, fd)]
    # Nothing a worker allocates outlives its block: keep the collector off what it inherited.
    gc.freeze()


def _regular_file(stream: BinaryIO) -> int | None:
    try:
        fd = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None


def tasks_of(stream: BinaryIO, size: int, by_offset: bool) -> Iterator[Task]:
    """The blocks of a stream as tasks: by offset and length, or as the bytes themselves."""
    for block, first, offset in jsonl_blocks(stream, size):
        # A line too long to keep is sent as the start `jsonl_blocks` kept of it.
        whole = by_offset and not (len(block) > MAX_LINE_BYTES + 1
                                   and block.endswith(TOO_LONG + b"\n"))
        yield ((offset, len(block)) if whole else block), first


def evaluate_parallel(engine: Engine, stream: BinaryIO, now: datetime, jobs: int,
                      write: Callable[[bytes], object], tally: Tally,
                      name: str = "-", progress: Callable[[int], None] | None = None,
                      block_bytes: int = BLOCK_BYTES) -> None:
    """Evaluate JSON Lines from `stream` on `jobs` forked processes, writing in input order."""
    if name != "-" and hasattr(stream, "peek"):
        # The first line only, as the one-process reader looks at it.
        json_array_hint(name, stream.peek(64).removeprefix(b"\xef\xbb\xbf").split(b"\n")[0])
    fd = _regular_file(stream)
    pending: deque[AsyncResult[tuple[bytes, Tally]]] = deque()

    def finish_oldest() -> None:
        output, part = pending.popleft().get()
        write(output)
        tally.add(part)
        if progress is not None:
            progress(tally.records)

    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_start_worker, initargs=(engine, now, fd)) as pool:
        for task in tasks_of(stream, block_bytes, fd is not None):
            pending.append(pool.apply_async(_evaluate_block, (task,)))
            if len(pending) >= 2 * jobs + 1:
                finish_oldest()
        while pending:
            finish_oldest()
