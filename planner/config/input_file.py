"""Reading an input file's bytes: only a regular file or stdin, never more than a cap.

Service configurations, fleet files and capacity files are read here alike. Each is a few
kilobytes. Reading is bounded so that no input can make planner
hang or grow without end (docs/configuration.md §1):

* what is not a regular file (a FIFO, a device such as ``/dev/zero``, a socket, a directory) is
  refused before it is read. The file is opened with ``O_NONBLOCK``, so even a FIFO swapped in
  after the first check cannot block the open, and the open file is checked again with ``fstat``;
* at most ``MAX_FILE_BYTES`` are read, from a file or from stdin; a larger input is an error.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from planner.errors import ConfigError, Problem

# A real service configuration is a few kilobytes; reading and composing 1 MiB of YAML takes a
# few seconds at most, so the cap bounds the time of every input and leaves room for any real file.
MAX_FILE_BYTES = 1024 * 1024
_CHUNK_BYTES = 64 * 1024


def read_input_bytes(
    path: str | os.PathLike[str],
    name: str,
    *,
    stdin: BinaryIO | None = None,
    kind: str = "configuration",
) -> bytes:
    """The bytes of the regular file ``path`` (or of ``stdin`` when given), at most the cap.

    ``name`` is how the file is called in messages, ``kind`` what it should be ("configuration",
    "fleet or capacity file"). Raises ``ConfigError`` for a missing, unreadable, oversized or
    non-regular file.
    """
    if stdin is not None:
        return _read_bounded(stdin, name, kind)
    try:
        _check_regular(os.stat(path).st_mode, name, kind)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(Problem("no such file", file=name)) from None
    except PermissionError:
        raise ConfigError(Problem("permission denied: cannot read the file", file=name)) from None
    except OSError as error:
        raise ConfigError(Problem(f"cannot read the file: {_reason(error)}", file=name)) from None
    try:
        # The path may have been replaced between stat and open: check what was opened.
        _check_regular(os.fstat(descriptor).st_mode, name, kind)
        os.set_blocking(descriptor, True)
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            return _read_bounded(handle, name, kind)
    except OSError as error:
        raise ConfigError(Problem(f"cannot read the file: {_reason(error)}", file=name)) from None
    finally:
        os.close(descriptor)


def _check_regular(mode: int, name: str, kind: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        what = "a directory"
    elif stat.S_ISFIFO(mode):
        what = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    else:
        what = "something other than a regular file"
    raise ConfigError(
        Problem(
            f"is {what}, not a {kind} file; give a regular file"
            + (", or - to read stdin" if kind == "configuration" else ""),
            file=name,
        )
    )


def _read_bounded(handle: BinaryIO, name: str, kind: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_FILE_BYTES:
        chunk = handle.read(min(_CHUNK_BYTES, MAX_FILE_BYTES + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise ConfigError(
        Problem(
            f"the file is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB "
            f"({MAX_FILE_BYTES} bytes), far more than a {kind}; planner reads no further",
            file=name,
        )
    )


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__
