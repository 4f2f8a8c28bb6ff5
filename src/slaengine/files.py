"""Files at the edges, opened and written safely: regular files only, writes that stay put.

A FIFO or a device given as an input (`--leads /dev/zero`, a named pipe) would block or grow
memory forever; it is refused before it is read. A write goes to a temporary file in the
target's own folder and is renamed over the target, so a reader never sees half a file, and
it refuses to write through a symbolic link, which could point anywhere.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

__all__ = ["FileRefused", "atomic_write", "check_regular", "open_regular"]


class FileRefused(Exception):
    """A file that cannot or must not be read or written; the CLI exits 2 with the message
    (`slaengine.UsageError` is one too.)"""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: Path | str, what: str) -> None:
    """Raise `UsageError` unless `path` is a readable regular file (`what` names it)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileRefused(f"{path}: {what} not found") from None
    except OSError as exc:
        raise FileRefused(f"{path}: cannot read the {what}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise FileRefused(f"{path}: is {_kind(mode)}, not a {what}; give the path of a file "
                         "(to read a stream, save it to a file first)")


def open_regular(path: Path | str, what: str) -> BinaryIO:
    """Open a regular file for reading in binary; a pipe or device is refused without blocking
    (opened non-blocking, checked, then read normally), a missing file is a `UsageError`."""
    check_regular(path, what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise FileRefused(f"{path}: cannot read the {what}: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # swapped for something else since `check_regular`
            raise FileRefused(f"{path}: is {_kind(mode)}, not a {what}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def atomic_write(path: Path | str, data: bytes | str) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename.

    A symbolic link at `path` is refused (its target could be anywhere), as is a folder; the
    file is either the old one or the new one, never half written.
    """
    target = Path(path)
    if target.is_symlink():
        raise FileRefused(f"{target}: is a symbolic link; refusing to write through it "
                         "(remove the link, or give the real path)")
    if target.exists() and not target.is_file():
        raise FileRefused(f"{target}: is not a regular file; refusing to replace it")
    content = data.encode("utf-8") if isinstance(data, str) else data
    folder = target.parent
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise FileRefused(f"{target}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        if target.exists():  # keep the permissions the file had
            os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise FileRefused(f"{target}: cannot write: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
