"""Reading a user's file without trusting it: regular files only (a FIFO or a device would
block or never end), a size cap, UTF-8, and for JSON a nesting cap and no NaN or Infinity
tokens. Every failure is a `ScaleplanError` naming the argument the path came in.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ScaleplanError

# Far above any config.json (kilobytes) or table of training runs (a few MB).
MAX_FILE_BYTES = 64 * 2**20
# Far above any real config (depth 3 or 4); far below Python's recursion limit.
MAX_JSON_DEPTH = 64
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def check_regular_file(path: str | Path, argument: str) -> None:
    """A `ScaleplanError` unless `path` is a regular file (not a FIFO, device, socket or
    directory, which would block a reader or never end)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise ScaleplanError(f"{argument}: cannot read {path}: {e.strerror}",
                             argument) from e  # fmt: skip
    if not stat.S_ISREG(mode):
        raise ScaleplanError(f"{argument}: {str(path)!r} is not a regular file", argument)


def read_text_file(path: str | Path, argument: str, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a regular file of at most `limit` bytes, decoded as UTF-8."""
    shown = str(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever; the
        # fstat below then refuses it (and devices, sockets, directories) before any read.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise ScaleplanError(f"{argument}: cannot read {shown}: {e.strerror}", argument) from e
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ScaleplanError(f"{argument}: {shown!r} is not a regular file", argument)
        if info.st_size > limit:
            raise ScaleplanError(
                f"{argument}: {shown!r} is {info.st_size} bytes, over the {limit}-byte limit",
                argument,
            )
        data = os.read(fd, limit + 1)
        chunks = [data]
        while data and sum(map(len, chunks)) <= limit:  # a file still growing
            data = os.read(fd, limit + 1)
            chunks.append(data)
        raw = b"".join(chunks)
    except OSError as e:
        raise ScaleplanError(f"{argument}: cannot read {shown}: {e.strerror}", argument) from e
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise ScaleplanError(f"{argument}: {shown!r} is over the {limit}-byte limit", argument)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScaleplanError(f"{argument}: {shown!r} is not UTF-8 text ({e.reason})",
                             argument) from None  # fmt: skip


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON `text` (brackets inside strings
    do not count)."""
    raw = _STRING.sub(b'""', text.encode("utf-8"))
    codes = np.frombuffer(raw, dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
    steps -= np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max()) if steps.size else 0


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_json_file(path: str | Path, argument: str) -> Any:
    """The JSON value in a file (see `read_text_file`), nested at most `MAX_JSON_DEPTH`."""
    text = read_text_file(path, argument)
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ScaleplanError(
            f"{argument}: {str(path)!r} nests deeper than {MAX_JSON_DEPTH} levels", argument
        )
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise ScaleplanError(f"{argument}: {str(path)!r} is not valid JSON: {e}",
                             argument) from None  # fmt: skip
