"""`evaluate` on several processes: JSON Lines in, JSON Lines out, in input order.

The parent reads the file in blocks of whole lines and hands them out in order; each worker
parses, coerces, evaluates and serialises its block with the same code as the one-process
path (`jsonl_records` numbered from the block's first line, `Engine.records`, `write_jsonl`'s
options), so the output is byte-for-byte the same. Given the output's file descriptor, each
worker writes its block there itself when the block before it has been written (a shared
turn counter): output never passes through the parent, which on two cores was 3.5 s of CPU
per million leads taken from the workers. Otherwise the parent writes the blocks it gets
back, in order. At most a few blocks are in flight, so memory stays flat however large the
file is. Workers are forked: they inherit the compiled agreement instead of compiling it.
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
from typing import Any, BinaryIO, Final

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


class _Turns:
    """Whose block is written next, shared by the forked workers: block `i` is written once
    blocks `0 .. i-1` have been. A worker that fails still takes its turn (writing nothing)
    and marks the run failed, so no other worker waits for it forever."""

    def __init__(self, context: Any):
        self.next = context.Value("q", 0, lock=False)
        self.failed = context.Value("b", 0, lock=False)
        self.changed = context.Condition()

    def write_in_turn(self, index: int, output: bytes | None, fd: int) -> None:
        """Write block `index` in its turn; `output` None: the block failed, write nothing
        from here on."""
        with self.changed:
            while self.next.value != index:
                self.changed.wait()
            try:
                if output is None:
                    self.failed.value = 1
                elif not self.failed.value:
                    _write_all(fd, output)
            except BaseException:
                self.failed.value = 1
                raise
            finally:
                self.next.value = index + 1
                self.changed.notify_all()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# Set by `_start_worker`: the engine, `now`, the input's descriptor (None for a pipe) and,
# when workers write the output themselves, its descriptor and the turns.
_worker_state: list[tuple[Engine, datetime, int | None, int | None, _Turns | None]] = []


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
    engine, now, fd, _, _ = _worker_state[0]
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


def _evaluate_and_write(task: tuple[Task, int]) -> tuple[bytes, Tally]:
    """`_evaluate_block`, the output written by the worker itself in its turn."""
    _, _, _, out_fd, turns = _worker_state[0]
    assert out_fd is not None and turns is not None
    block, index = task
    try:
        output, tally = _evaluate_block(block)
    except BaseException:
        turns.write_in_turn(index, None, out_fd)
        raise
    turns.write_in_turn(index, output, out_fd)
    return b"", tally


def _start_worker(engine: Engine, now: datetime, fd: int | None, out_fd: int | None,
                  turns: _Turns | None) -> None:
    # Forked, so the engine arrives as it is, not pickled, and the file descriptors are
    # shared (`pread` does not move the input's position, so workers never disturb each
    # other; the output is written by one worker at a time, in block order).
    _worker_state[:] = [(engine, now, fd, out_fd, turns)]
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
                      block_bytes: int = BLOCK_BYTES, out_fd: int | None = None) -> None:
    """Evaluate JSON Lines from `stream` on `jobs` forked processes, writing in input order:
    through `write`, or, given `out_fd` (with nothing of the caller's left unwritten in a
    buffer before it), by the workers straight to that descriptor."""
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
    turns = _Turns(context) if out_fd is not None else None
    with context.Pool(jobs, initializer=_start_worker,
                      initargs=(engine, now, fd, out_fd, turns)) as pool:
        for index, task in enumerate(tasks_of(stream, block_bytes, fd is not None)):
            pending.append(pool.apply_async(_evaluate_block, (task,)) if turns is None
                           else pool.apply_async(_evaluate_and_write, ((task, index),)))
            if len(pending) >= 2 * jobs + 1:
                finish_oldest()
        while pending:
            finish_oldest()
