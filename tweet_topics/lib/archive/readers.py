"""Per-format streaming readers: each yields batches of results (``convert.Result``) in input order.

Line formats (twarc2 pages, twarc2 flattened, v1.1) are cut into batches of lines that worker processes convert
(``convert_lines`` is the picklable unit of work); the X archive's ``tweets.js`` (one JavaScript array) is decoded
element by element from a bounded buffer; twarc-csv rows go through ``csv.DictReader``. Nothing reads a whole file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tweet_topics.lib.archive.convert import Converted, Reject, Result, convert_all, parse_json, raw_text
from tweet_topics.lib.archive.fast_pages import FAST_FORMATS, Claimed, fast_line
from tweet_topics.lib.archive.formats import LINE_FORMATS, csv_payload, x_archive_payload
from tweet_topics.lib.archive.inputs import MAX_LINE_BYTES, READ_FAILURES, ArchiveError, Line, gzip_failure
from tweet_topics.lib.archive.vector import Unit, convert_units, one_tweet

BATCH_BYTES = 2 * 1024 * 1024  # lines handed to a worker at once: IPC per batch, not per line
BATCH_LINES = 400
CSV_BATCH = 2000


def _fast(number: int, claims: list[Claimed], latest: str) -> Iterator[Result]:
    """The fast path's claims as results; a tweet it left goes through the per-tweet path (its reject reason)."""
    for claim in claims:
        if isinstance(claim, Converted):
            yield ("ok", number, claim)
        else:
            yield one_tweet(number, claim, latest)


def convert_lines(fmt: str, lines: list[Line], latest: str) -> list[Result]:
    """A batch of input lines of format ``fmt`` -> one result per tweet (or per unreadable line).

    twarc2 pages and flattened lines take the fast path (``fast_pages``) line by line; what it does not claim takes
    the general path, results in input order either way."""
    expand = LINE_FORMATS[fmt]
    out: list[Result] = []
    units: list[Unit] = []
    for line in lines:
        claims = fast_line(fmt, line.data, latest) if fmt in FAST_FORMATS and not line.oversize else None
        if claims is not None:
            out.extend(convert_units(units, latest))
            units = []
            out.extend(_fast(line.number, claims, latest))
            continue
        try:
            if line.oversize:
                raise Reject("oversize_line", f"{line.oversize} bytes")
            obj = parse_json(line.data)
        except Reject as exc:
            out.extend(convert_units(units, latest))  # the tweets before this line first: results in input order
            units = []
            out.append(("reject", line.number, exc.reason, exc.detail, raw_text(line.data)))
            continue
        units.append((line.number, _lazy(expand, obj), line.data))
    out.extend(convert_units(units, latest))
    return out


def _lazy(expand: Any, obj: Any) -> Iterator[Any]:
    yield from expand(obj)


def line_batches(lines: Iterator[Line]) -> Iterator[list[Line]]:
    """Non-blank lines grouped into batches of about BATCH_BYTES."""
    batch: list[Line] = []
    size = 0
    for line in lines:
        if not line.oversize and not line.data.strip():
            continue
        batch.append(line)
        size += len(line.data)
        if size >= BATCH_BYTES or len(batch) >= BATCH_LINES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _account(tweets_js: str) -> dict[str, Any]:
    """``account.js`` beside ``tweets.js``: the archive owner, the author of every tweet in it."""
    path = Path(tweets_js).with_name("account.js")
    if not path.is_file():
        raise ArchiveError(f"{tweets_js}:1: an X archive's tweets need account.js beside them (the author)")
    text = path.read_text("utf-8", errors="replace")
    try:
        elements = json.loads(text[text.index("=") + 1 :])
        return elements[0]["account"]
    except (ValueError, IndexError, KeyError, TypeError):
        raise ArchiveError(f"{path}:1: not an X archive account.js (window.YTD.account.part0 = [...])") from None


def _js_elements(name: str, stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """The elements of ``window.YTD.<x>.partN = [ ... ]`` one at a time, with the line each starts on."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")  # a byte-order mark is skipped
    parser = json.JSONDecoder()
    buffer, line, started, eof = "", 1, False, False

    def fill() -> bool:
        nonlocal buffer
        try:
            chunk = stream.read(1 << 20)
        except READ_FAILURES as exc:
            raise gzip_failure(name, line, exc) from None
        try:
            buffer += decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise ArchiveError(f"{name}:{line}: not UTF-8; an X archive is one JavaScript array") from None
        return bool(chunk)

    while True:
        stripped = buffer.lstrip(" \t\r\n,")
        line += buffer[: len(buffer) - len(stripped)].count("\n")
        buffer = stripped
        if not started and "[" in buffer:
            line += buffer[: buffer.index("[")].count("\n")
            buffer, started = buffer[buffer.index("[") + 1 :], True
            continue
        if started and buffer.startswith("]"):
            return
        if started and buffer:
            try:
                element, end = parser.raw_decode(buffer)
            except RecursionError:
                raise ArchiveError(f"{name}:{line}: X archive element nested too deep to read") from None
            except ValueError:
                if eof or len(buffer) > MAX_LINE_BYTES:
                    raise ArchiveError(f"{name}:{line}: broken X archive element (cut off or not JSON)") from None
                eof = not fill()
                continue
            yield line, element
            line += buffer[:end].count("\n")
            buffer = buffer[end:]
            continue
        if eof:
            raise ArchiveError(f"{name}:{line}: X archive ended before its closing ']'")
        eof = not fill()


def x_archive_results(name: str, stream: IO[bytes], latest: str) -> Iterator[list[Result]]:
    account = _account(name)
    units: list[Unit] = []
    for number, element in _js_elements(name, stream):
        units.append((number, _lazy(lambda e: [x_archive_payload(e, account)], element), None))
        if len(units) >= CSV_BATCH:
            yield convert_units(units, latest)
            units = []
    if units:
        yield convert_units(units, latest)


def csv_results(name: str, stream: IO[bytes], latest: str) -> Iterator[list[Result]]:
    """twarc-csv rows; a row with bytes that are not UTF-8 is a reject (``invalid_utf8``)."""
    csv.field_size_limit(min(sys.maxsize, MAX_LINE_BYTES))
    # utf-8-sig: a spreadsheet's byte-order mark is not part of the first column's name.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")  # type: ignore[arg-type]
    reader = csv.DictReader(text)
    batch: list[Result] = []
    try:
        for row in reader:
            number = reader.line_num
            values = "".join(v for v in row.values() if isinstance(v, str))
            if any("\udc80" <= c <= "\udcff" for c in values):
                raw = raw_text(values.encode("utf-8", "surrogateescape"))
                batch.append(("reject", number, "invalid_utf8", "bytes that are not UTF-8", raw))
            elif None in row or None in row.values():
                batch.append(("reject", number, "format_mismatch:csv", "column count differs", raw_text(row)))
            else:
                batch.extend(convert_all(number, _lazy(lambda r: [csv_payload(r)], row), latest))
            if len(batch) >= CSV_BATCH:
                yield batch
                batch = []
    except csv.Error as exc:
        raise ArchiveError(f"{name}:{reader.line_num}: unreadable CSV ({exc})") from None
    except READ_FAILURES as exc:
        raise gzip_failure(name, reader.line_num + 1, exc) from None
    if batch:
        yield batch
