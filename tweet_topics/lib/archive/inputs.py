"""Reading archive files as bounded lines: plain or gzip, local or any file-like stream (an S3 body).

Lines are bytes, read with a length limit, so a 50 MB line costs at most ``MAX_LINE_BYTES`` of memory and becomes
an oversize item (a reject) instead of a parse attempt; a truncated or corrupt gzip stream is an
:class:`ArchiveError` naming the file and the line where it broke, raised before anything is written.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

MAX_LINE_BYTES = 16 * 1024 * 1024  # a twarc2 page of 500 tweets with includes stays well below this
HEAD_KEPT = 64 * 1024  # what the rejects file keeps of an oversize line
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20


class ArchiveError(ValueError):
    """An input that cannot be imported at all; the message is one line naming the file and the line."""


@dataclass(frozen=True)
class Line:
    number: int
    data: bytes  # without the line ending; only the head when ``oversize``
    oversize: int = 0  # the full length when the line was longer than MAX_LINE_BYTES


class _StreamRaw(io.RawIOBase):
    """A file-like with only ``read(n)`` (a botocore StreamingBody) as a raw stream for BufferedReader."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


Opener = Callable[[str], IO[bytes]]


def open_binary(name: str, opener: Opener | None = None) -> IO[bytes]:
    """``name`` opened for reading, gunzipped when it starts with the gzip magic (whatever its suffix)."""
    if name.startswith("s3://"):
        if opener is None:
            raise ArchiveError(f"{name}: s3:// inputs need AWS access (run through the CLI or the job)")
        raw: IO[bytes] = io.BufferedReader(_StreamRaw(opener(name)), CHUNK)  # type: ignore[arg-type]
    else:
        path = Path(name)
        if not path.is_file():
            raise ArchiveError(f"{name}: no such file")
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the returned stream
    head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


BOM = b"\xef\xbb\xbf"
READ_FAILURES = (EOFError, gzip.BadGzipFile, zlib.error, OSError)  # a cut or corrupt gzip stream, as it is read


def gzip_failure(name: str, number: int, exc: Exception) -> ArchiveError:
    what = "truncated gzip stream" if isinstance(exc, EOFError) else f"corrupt gzip stream ({exc})"
    return ArchiveError(f"{name}:{number}: {what}; nothing was imported")


def read_lines(name: str, stream: IO[bytes]) -> Iterator[Line]:
    """Every line of ``stream`` (blank ones included, so numbers match the file), each at most MAX_LINE_BYTES."""
    number = 0
    while True:
        number += 1
        try:
            data = stream.readline(MAX_LINE_BYTES + 1)
        except READ_FAILURES as exc:
            raise gzip_failure(name, number, exc) from None
        if not data:
            return
        if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
            head, total = data[:HEAD_KEPT], len(data)
            while data and not data.endswith(b"\n"):  # skip the rest of the line without keeping it
                try:
                    data = stream.readline(CHUNK)
                except READ_FAILURES as exc:
                    raise gzip_failure(name, number, exc) from None
                total += len(data)
            yield Line(number, head, oversize=total)
            continue
        if number == 1 and data.startswith(BOM):  # an editor's byte-order mark: format detection skips it too
            data = data[len(BOM) :]
        yield Line(number, data.rstrip(b"\r\n"))
