"""`evaluate` on several processes: JSON Lines in, JSON Lines out, in input order.

The parent reads the file in blocks of whole lines and writes the workers' output blocks in
the order it read them; each worker parses, coerces, evaluates and serialises its block with
the same code as the one-process path (`jsonl_records` numbered from the block's first
line, `Engine.records`, `write_jsonl`'s options), so the output is byte-for-byte the same.
At most a few blocks are in flight, so memory stays flat however large the file is.
Workers are forked: they inherit the compiled agreement instead of compiling it again.
"""

from __future__ import annotations

import contextlib
import gc
import io
import mmap
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from multiprocessing.pool import AsyncResult
from typing import BinaryIO, Final

import orjson

from ..evaluator import Engine
from ..leads import BOM, json_array_hint, jsonl_blocks, jsonl_records
from .outputs import JSONL_OPTIONS, Tally

BLOCK_BYTES: Final = 1 << 20
PARALLEL_FROM_BYTES: Final = 8 << 20  # below this, starting workers costs more than it saves
MAX_JOBS: Final = 8

Buffer = bytes | mmap.mmap
_worker_state: list[tuple[Engine, datetime, Buffer]] = []  # set in each worker by `_start_worker`


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


def _evaluate_block(task: tuple[bytes | tuple[int, int], int]) -> tuple[bytes, Tally]:
    engine, now, source = _worker_state[0]
    where, first = task
    # A block of a file is read here, from the worker's own map of it, so the input never
    # passes through a pipe; a block of stdin comes as bytes.
    block = where if isinstance(where, bytes) else source[where[0]:where[1]]
    lines = block.split(b"\n")
    if lines[-1] == b"":  # the block ends its last line; that is not one more blank line
        lines.pop()
    tally = Tally()
    dumps, option = orjson.dumps, JSONL_OPTIONS
    output = b"".join([dumps(record, option=option) for record in
                       tally.count(engine.records(jsonl_records(lines, first), now))])
    return output, tally


def _start_worker(engine: Engine, now: datetime, source: Buffer) -> None:
    # Forked, so the engine and the file's map arrive as they are, not pickled.
    _worker_state[:] = [(engine, now, source)]
    # Nothing a worker allocates outlives its block: keep the collector off what it inherited.
    gc.freeze()


def file_blocks(source: Buffer, size: int = BLOCK_BYTES
                ) -> Iterator[tuple[tuple[int, int], int]]:
    """(start, end) offsets of blocks of whole lines of a mapped file, with their first line."""
    start = len(BOM) if source[:len(BOM)] == BOM else 0
    line, total = 1, len(source)
    while start < total:
        cut = source.find(b"\n", min(start + size, total - 1))
        end = total if cut < 0 else cut + 1
        yield (start, end), line
        line += source[start:end].count(b"\n")
        start = end


def evaluate_parallel(engine: Engine, stream: BinaryIO, now: datetime, jobs: int,
                      write: Callable[[bytes], object], tally: Tally,
                      name: str = "-", progress: Callable[[int], None] | None = None,
                      block_bytes: int = BLOCK_BYTES) -> None:
    """Evaluate JSON Lines from `stream` on `jobs` forked processes, writing in input order.

    A regular file is mapped into memory and each worker reads its own blocks from the map;
    anything else (a pipe) is read by this process and sent to the workers block by block.
    """
    if name != "-" and hasattr(stream, "peek"):
        json_array_hint(name, stream.peek(64))
    source: Buffer = b""
    tasks: Iterable[tuple[bytes | tuple[int, int], int]]
    with contextlib.ExitStack() as stack:
        try:
            source = stack.enter_context(mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ))
            tasks = file_blocks(source, block_bytes)
        except (OSError, ValueError, io.UnsupportedOperation):  # a pipe, or an empty file
            tasks = jsonl_blocks(stream, block_bytes)
        pending: deque[AsyncResult[tuple[bytes, Tally]]] = deque()

        def finish_oldest() -> None:
            output, part = pending.popleft().get()
            write(output)
            tally.add(part)
            if progress is not None:
                progress(tally.records)

        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_start_worker, initargs=(engine, now, source)) as pool:
            for task in tasks:
                pending.append(pool.apply_async(_evaluate_block, (task,)))
                if len(pending) >= 2 * jobs + 1:
                    finish_oldest()
            while pending:
                finish_oldest()
