"""Reading a CSV file as a stream of (physical line, cells): encoding, delimiter and line numbers.

The encoding is settled before the first row is read (UTF-8 with or without BOM, UTF-16 with a
BOM, else Windows-1252), so a stray byte deep in a large file cannot leave half an import behind.
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

from ecoops.crm.imports.formats import ImportFileError

CHUNK = 1 << 20
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
}
# Bytes Windows-1252 leaves undefined: a file holding them is in neither of the encodings we read.
_CP1252_HOLES = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


@dataclass(frozen=True)
class FileFacts:
    """What the first pass over the bytes found: size, digest, encoding and delimiter."""

    path: Path
    filename: str  # the name the user knows (an upload's original name)
    size: int
    sha256: str
    encoding: str
    delimiter: str

    @property
    def encoding_name(self) -> str:
        return ENCODING_NAMES[self.encoding]


def examine(path: Path, filename: str) -> FileFacts:
    """Hash the file and settle its encoding and delimiter, or say why it cannot be read."""
    digest, size, newlines = hashlib.sha256(), 0, 0
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok, bad_cp1252_line = True, 0
    with path.open("rb") as stream:
        head = stream.read(4)
        stream.seek(0)
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if not bad_cp1252_line:
                hole = _CP1252_HOLES.search(chunk)
                if hole is not None:
                    bad_cp1252_line = newlines + chunk.count(b"\n", 0, hole.start()) + 1
            newlines += chunk.count(b"\n")
            size += len(chunk)
    if size == 0:
        raise ImportFileError(f"{filename}: the file is empty")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif utf8_ok:
        try:
            utf8.decode(b"", final=True)
            encoding = "utf-8"
        except UnicodeDecodeError:  # the file ends inside a multi-byte character
            encoding = "cp1252"
    else:
        encoding = "cp1252"
    if encoding == "cp1252" and bad_cp1252_line:
        raise ImportFileError(
            f"{filename}: line {bad_cp1252_line} holds bytes that are neither UTF-8 nor Windows-1252; "
            "export the file again as CSV UTF-8"
        )
    if encoding == "utf-8-sig" and not utf8_ok:
        raise ImportFileError(f"{filename}: the file starts as UTF-8 but holds bytes that are not UTF-8")
    return FileFacts(path, filename, size, digest.hexdigest(), encoding, _delimiter(path, encoding))


def _delimiter(path: Path, encoding: str) -> str:
    """The header line's most frequent separator outside quotes (Excel in Europe writes `;`)."""
    with path.open(encoding=encoding, newline="", errors="replace") as text:
        first = text.readline()
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
    """

    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self._binary = facts.path.open("rb")
        self._text = io.TextIOWrapper(self._binary, encoding=facts.encoding, newline="")
        self._reader = csv.reader(self._text, delimiter=facts.delimiter)
        self._last_line = 0
        self.header, self.header_line = self._read_header()

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
        try:
            for cells in self._reader:
                start, self._last_line = self._last_line + 1, self._reader.line_num
                if any(cells):
                    yield start, cells
        except csv.Error as exc:
            raise ImportFileError(
                f"{self.facts.filename}: line {self._last_line + 1}: {exc} "
                "(a cell this long usually means a quote that is never closed)"
            ) from None
        except UnicodeDecodeError:
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
