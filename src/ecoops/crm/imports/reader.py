"""Reading a CSV file as a stream of (physical line, cells): encoding, delimiter, line numbers and caps.

The encoding is settled for the whole file before the first row is read (docs/imports.md
"Encodings"), so a stray byte deep in a large file cannot leave half an import behind, and a
damaged UTF-8 file is refused rather than read as Windows-1252 (`MÃ¼ller`). Rows are read a line at
a time with a cap on their length and on their number of cells, so a 200 MB line costs at most
the cap in memory.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from ecoops.config import get_settings
from ecoops.crm.imports.formats import ImportFileError

CHUNK = 1 << 20
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
}
REEXPORT = "export the file again as CSV UTF-8"
# Bytes Windows-1252 leaves undefined: a file holding them is in neither of the encodings we read.
_CP1252_HOLES = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_HIGH_BYTES = bytes(range(0x80, 0x100))
_ESCAPED = re.compile("[\udc80-\udcff]")  # bytes a UTF-8 decoder refused, under "surrogateescape"


@dataclass(frozen=True)
class ReadLimits:
    """Caps checked while the file streams (settings `ECOOPS_IMPORT_MAX_*`; docs/imports.md)."""

    row_chars: int
    columns: int

    @classmethod
    def configured(cls) -> ReadLimits:
        settings = get_settings()
        return cls(settings.import_max_row_chars, settings.import_max_columns)


@dataclass(frozen=True)
class FileFacts:
    """What the first pass over the bytes found: size, digest, encoding and delimiter."""

    path: Path
    filename: str  # the name the user knows (an upload's original name)
    size: int
    sha256: str
    encoding: str
    delimiter: str
    limits: ReadLimits

    @property
    def encoding_name(self) -> str:
        return ENCODING_NAMES[self.encoding]


class _Utf8Tally:
    """What a UTF-8 decoder makes of the bytes, chunk by chunk: valid multi-byte characters, refused
    bytes, and where the first refused byte is (line, byte offset).

    Strict until the first refused byte (the common, valid file pays for one decode), then
    `surrogateescape`, which turns each refused byte into one character to count.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.multibyte = 0
        self.refused = 0
        self.first_refused: tuple[int, int] | None = None

    def feed(self, chunk: bytes, offset: int, newlines: int, *, final: bool = False) -> None:
        """`offset`: the file position `chunk` starts at; `newlines`: line breaks before it."""
        state = self._decoder.getstate()
        pending = len(state[0])  # bytes of a character split by the last chunk
        if chunk.isascii() and not pending and not final:
            return
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError:
            self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
            self._decoder.setstate(state)
            text = self._decoder.decode(chunk, final)
        refused = len(_ESCAPED.findall(text)) if self._decoder.errors != "strict" else 0
        self.multibyte += len(text) - len(chunk.translate(None, _HIGH_BYTES)) - refused
        self.refused += refused
        if refused and self.first_refused is None:
            first = _ESCAPED.search(text)
            assert first is not None
            at = len(text[: first.start()].encode("utf-8", "surrogateescape")) - pending
            self.first_refused = (newlines + chunk.count(b"\n", 0, max(at, 0)) + 1, offset + at)

    @property
    def valid(self) -> bool:
        return self.refused == 0

    @property
    def damaged(self) -> bool:
        """Not UTF-8, yet mostly read as UTF-8: a UTF-8 file with a few broken bytes, not a legacy one.

        A Windows-1252 file's accented letters are nearly all refused by a UTF-8 decoder (é is one
        byte followed by a plain letter); only rare pairs such as `Ã©` read as valid UTF-8.
        """
        return not self.valid and self.multibyte >= self.refused


def examine(path: Path, filename: str, limits: ReadLimits | None = None) -> FileFacts:
    """Hash the file and settle its encoding and delimiter, or say why it cannot be read."""
    limits = limits or ReadLimits.configured()
    digest, size, newlines = hashlib.sha256(), 0, 0
    utf8 = _Utf8Tally()
    hole: tuple[int, int] | None = None  # (line, offset) of a byte Windows-1252 leaves undefined
    nul: tuple[int, int] | None = None
    line_start = 0  # where the line being read starts
    with path.open("rb") as stream:
        head = stream.read(4)
        stream.seek(0)
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            if (last := chunk.rfind(b"\n")) >= 0:
                line_start = size + last + 1
            elif size + len(chunk) - line_start > 4 * limits.row_chars:  # over the cap in any encoding
                raise ImportFileError(_row_too_long(filename, newlines + 1, limits.row_chars))
            digest.update(chunk)
            if not utf16:
                utf8.feed(chunk, size, newlines)
                if hole is None and (found := _CP1252_HOLES.search(chunk)):
                    hole = (newlines + chunk.count(b"\n", 0, found.start()) + 1, size + found.start())
                if nul is None and (at := chunk.find(b"\0")) >= 0:
                    nul = (newlines + chunk.count(b"\n", 0, at) + 1, size + at)
            newlines += chunk.count(b"\n")
            size += len(chunk)
        utf8.feed(b"", size, newlines, final=True)
    if size == 0:
        raise ImportFileError(f"{filename}: the file is empty")
    if utf16:
        encoding = "utf-16"
        _check_utf16(path, filename)
    elif nul is not None:
        raise ImportFileError(
            f"{filename}: line {nul[0]}, byte {nul[1]:,}: a NUL byte, which no text CSV holds "
            f"(a spreadsheet saved in another format?); {REEXPORT}"
        )
    elif utf8.valid:
        encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    elif utf8.damaged or head.startswith(codecs.BOM_UTF8):
        assert utf8.first_refused is not None
        line, offset = utf8.first_refused
        column = _column_of(path, line, limits)
        raise ImportFileError(
            f"{filename}: line {line}, byte {offset:,}{column}: not UTF-8, in a file otherwise written in "
            f"UTF-8 (bad bytes: {utf8.refused:,}; UTF-8 characters beyond ASCII: {utf8.multibyte:,}), so "
            f"the file is damaged: {REEXPORT}"
        )
    elif hole is not None:
        raise ImportFileError(
            f"{filename}: line {hole[0]}, byte {hole[1]:,}: bytes that are neither UTF-8 nor "
            f"Windows-1252; {REEXPORT}"
        )
    else:
        encoding = "cp1252"
    delimiter = _delimiter(path, encoding, limits.row_chars)
    return FileFacts(path, filename, size, digest.hexdigest(), encoding, delimiter, limits)


def _check_utf16(path: Path, filename: str) -> None:
    """A file with a UTF-16 byte-order mark must be UTF-16 throughout (Excel's "Unicode text")."""
    decoder = codecs.getincrementaldecoder("utf-16")()
    offset, newlines = 0, 0
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            pending = len(decoder.getstate()[0])
            try:
                newlines += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as exc:  # exc.object: the pending bytes and this chunk
                newlines += exc.object[: exc.start].decode(exc.encoding, "replace").count("\n")
                raise ImportFileError(
                    f"{filename}: line {newlines + 1}, byte {offset - pending + exc.start:,}: not UTF-16, "
                    f"though the file starts as UTF-16; {REEXPORT}"
                ) from None
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError(
            f"{filename}: line {newlines + 1}: the file ends inside a UTF-16 character; {REEXPORT}"
        ) from None


def _column_of(path: Path, line: int, limits: ReadLimits) -> str:
    """`, column 'X'` for the cell of the row on `line` that holds bytes UTF-8 refuses, when it can tell."""
    facts = FileFacts(path, path.name, 0, "", "utf-8", _delimiter(path, "utf-8", limits.row_chars), limits)
    try:
        with CsvRows(facts, errors="surrogateescape") as rows:
            for start, cells in rows:
                if start > line:
                    break
                for position, cell in enumerate(cells):
                    if _ESCAPED.search(cell) and position < len(rows.header):
                        return f", column {rows.header[position]!r}"
    except ImportFileError:
        pass
    return ""


def _row_too_long(filename: str, line: int, limit: int) -> str:
    return (
        f"{filename}: line {line}: a row longer than {limit:,} characters, the most a row may hold "
        "(ECOOPS_IMPORT_MAX_ROW_CHARS)"
    )


def _delimiter(path: Path, encoding: str, row_chars: int) -> str:
    """The header line's most frequent separator outside quotes (Excel in Europe writes `;`)."""
    with path.open(encoding=encoding, newline="", errors="replace") as text:
        first = text.readline(row_chars)
    counts = dict.fromkeys(",;\t|", 0)
    quoted = False
    for char in first:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] else ","


class CsvRows:
    """The header and then each non-blank row with the physical line it starts on.

    Quoted newlines make a row span lines; the line reported is where it starts, counted as an
    editor counts them. Rows whose cells are all empty (Excel leaves some at the end) are skipped.
    A row longer than `limits.row_chars` or with more than `limits.columns` cells refuses the file
    as soon as it is met, before it is read whole.
    """

    def __init__(self, facts: FileFacts, *, errors: str = "strict") -> None:
        self.facts = facts
        self._binary = facts.path.open("rb")
        self._text = io.TextIOWrapper(self._binary, encoding=facts.encoding, errors=errors, newline="")
        self._reader = csv.reader(self._lines(), delimiter=facts.delimiter)
        self._lines_read = 0
        self._last_line = 0  # the last line of the last row read
        self._row_chars = 0  # characters of the row being read so far
        self.header, self.header_line = self._read_header()

    def _lines(self) -> Iterator[str]:
        limit = self.facts.limits.row_chars
        while line := self._text.readline(limit + 1):
            self._lines_read += 1
            self._row_chars += len(line)
            if self._row_chars > limit:
                raise ImportFileError(_row_too_long(self.facts.filename, self._last_line + 1, limit))
            yield line

    def _read_header(self) -> tuple[list[str], int]:
        for line, cells in self._rows():
            header = [cell.strip() for cell in cells]
            while header and not header[-1]:
                header.pop()
            seen: dict[str, int] = {}
            for position, name in enumerate(header, 1):
                if not name:
                    raise ImportFileError(
                        f"{self.facts.filename}: line {line}: column {position} has no name"
                    )
                if name in seen:
                    raise ImportFileError(
                        f"{self.facts.filename}: line {line}: the column {name!r} appears twice "
                        f"(columns {seen[name]} and {position})"
                    )
                seen[name] = position
            return header, line
        raise ImportFileError(f"{self.facts.filename}: the file has no header row")

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        columns = self.facts.limits.columns
        try:
            for cells in self._reader:
                start, self._last_line = self._last_line + 1, self._lines_read
                self._row_chars = 0
                if len(cells) > columns:
                    raise ImportFileError(
                        f"{self.facts.filename}: line {start}: {len(cells):,} columns; at most {columns:,} "
                        "(ECOOPS_IMPORT_MAX_COLUMNS)"
                    )
                if any(cells):
                    yield start, cells
        except csv.Error as exc:
            raise ImportFileError(
                f"{self.facts.filename}: line {self._last_line + 1}: {exc} "
                "(a cell this long usually means a quote that is never closed)"
            ) from None
        except UnicodeDecodeError:  # examine() read the whole file first: only if it changed since
            raise ImportFileError(
                f"{self.facts.filename}: near line {self._last_line + 1}: bytes that are not "
                f"{self.facts.encoding_name}"
            ) from None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows()

    @property
    def bytes_read(self) -> int:
        return self._binary.tell()

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> CsvRows:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()
