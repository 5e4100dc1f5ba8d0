"""Reading training runs from a CSV file for `scaleplan fit`, defensively: the file is
the user's, and a bad one gets a one-line error that says where, never a traceback, a
silently chosen column, or the whole of a 2 GB line in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import IO

from ..._utils.files import check_regular_file

# Longest line accepted: a row of run data is tens of bytes; a megabyte is not a row.
MAX_LINE_CHARS = 1 << 20
# Runs accepted from one file (each becomes a term of the fitting objective).
MAX_ROWS = 10_000_000


class CsvError(ValueError):
    """A CSV file that cannot be read as runs."""


def _lines(fh: IO[str], path: str) -> Iterator[str]:
    number = 0
    while True:
        line = fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            raise CsvError(f"{path}, line {number}: longer than {MAX_LINE_CHARS} characters")
        yield line


def read_runs(path: str, columns: Sequence[str]) -> dict[str, list[float]]:
    """The named columns of `path` as numbers, one entry per data row."""
    out: dict[str, list[float]] = {c: [] for c in columns}
    check_regular_file(path, "file")
    try:
        # utf-8-sig: a byte-order mark (Excel writes one) is not part of the first name.
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(_lines(fh, path))
            header = next(reader, None)
            if header is None:
                raise CsvError(f"{path} is empty; it needs a header row naming the columns")
            names = [h.strip() for h in header]
            for c in columns:
                if names.count(c) > 1:
                    raise CsvError(f"{path}: column {c!r} appears {names.count(c)} times")
                if c not in names:
                    raise CsvError(f"column {c!r} not in {path}; it has {', '.join(names)}")
            where = {c: names.index(c) for c in columns}
            for row in reader:
                if not row:
                    continue
                if reader.line_num > MAX_ROWS:
                    raise CsvError(f"{path}: more than {MAX_ROWS} rows")
                for c, i in where.items():
                    text = row[i] if i < len(row) else ""
                    try:
                        out[c].append(float(text))
                    except ValueError:
                        raise CsvError(
                            f"{path}, line {reader.line_num}: {c} is not a number: {text[:40]!r}"
                        ) from None
    except UnicodeDecodeError as exc:
        raise CsvError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise CsvError(f"{path}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise CsvError(f"cannot read {path}: {exc.strerror or exc}") from None
    return out
