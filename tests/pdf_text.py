"""The text lines of a PDF ecoops writes (fpdf2, core fonts), read back without a PDF library.

Each content stream is inflated (zlib) and the strings its `Tj` operators show are unescaped, one line of
the page each, in the order drawn. Enough to check what a statement says; not a general PDF reader.
"""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")
_ESCAPE = re.compile(rb"\\([nrtbf()\\]|[0-7]{1,3})")
_CONTROL = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> str:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code.isdigit():
            return bytes([int(code, 8)])
        return _CONTROL.get(code, code)

    return _ESCAPE.sub(one, raw).decode("latin-1")


def pdf_lines(document: bytes) -> list[str]:
    assert document.startswith(b"%PDF-"), "not a PDF"
    assert document.rstrip().endswith(b"%%EOF"), "a PDF cut short"
    lines: list[str] = []
    for stream in _STREAM.finditer(document):
        try:
            content = zlib.decompress(stream.group(1))
        except zlib.error:
            continue  # not a deflated stream (fonts are not embedded, so none is expected)
        lines += [_unescape(shown.group(1)) for shown in _SHOWN.finditer(content)]
    return lines


def pdf_page_count(document: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", document))
