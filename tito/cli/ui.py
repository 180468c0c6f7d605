"""Terminal output with rich: tables of grades and module states, and messages.

Text is text. Only tito's own constant styles are markup; everything else (student ids,
reasons, flag messages, file names, paths, exception messages) is passed as plain `str`
and shown verbatim: rich would read `[/]` in it as markup (and crash), `[bold]` as a style
and `:smile:` as an emoji. The functions here take plain text and build `rich.text.Text`
themselves, so a caller cannot forget to escape: `say("Created ", path)` or
`say(("Created", "green"), " ", path)`, a `(text, style)` pair for colour.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from tito.grading.report import GradeReport

def _console(stderr: bool = False) -> Console:
    """A console for plain text. Off a terminal (a log file, a pipe) and with no COLUMNS set,
    tables get 160 columns instead of rich's 80, so that reasons are not cut to a sliver."""
    made = Console(stderr=stderr, highlight=False, emoji=False)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made = Console(stderr=stderr, highlight=False, emoji=False, width=160)
    return made


console = _console()
errors = _console(stderr=True)

Part = str | tuple[str, str]  # plain text, or (plain text, rich style)

# Terminal control characters (Unicode category Cc) other than newline and tab, shown as
# \xNN: rich passes ESC through, and an escape sequence in a reason could clear or rewrite
# the instructor's terminal, or hide a line.
_VISIBLE_CONTROLS = {code: f"\\x{code:02x}" for code in range(0xA0)
                     if unicodedata.category(chr(code)) == "Cc" and chr(code) not in "\n\t"}
# Bidirectional overrides and invisible characters would reorder or hide what a line says
# (`notes\u202etxt.exe`): shown as \uNNNN.
_VISIBLE_CONTROLS |= {code: f"\\u{code:04x}" for code in [0x061C, *range(0x200B, 0x2010), *range(0x202A, 0x202F),
                                                          *range(0x2060, 0x206A), 0xFEFF]}


def plain(text: object) -> Text:
    """`text` exactly as written: never markup, never an emoji code, control characters shown."""
    return Text(str(text).translate(_VISIBLE_CONTROLS))


def line(*parts: Part) -> Text:
    """One line of plain strings and (plain string, style) pairs."""
    result = Text()
    for part in parts:
        text, style = part if isinstance(part, tuple) else (part, "")
        result.append(str(text).translate(_VISIBLE_CONTROLS), style=style or None)
    return result


def say(*parts: Part) -> None:
    console.print(line(*parts), soft_wrap=True)  # a message is never cut into lines: paths and commands stay whole


def say_error(*parts: Part) -> None:
    errors.print(line(*parts), soft_wrap=True)


@contextmanager
def status(*parts: Part) -> Iterator[None]:
    """A spinner with a plain-text message while a long step runs."""
    with console.status(line(*parts)):
        yield


def table(title: str, columns: list[str], right: tuple[str, ...] = ()) -> Table:
    """An empty table with a plain-text title; the `right` columns are right-aligned (numbers)."""
    result = Table(title=plain(title), title_justify="left")
    for column in columns:
        result.add_column(column, justify="right" if column in right else "left")
    return result


def grade_table(report: GradeReport, title: str) -> Table:
    result = table(title, ["test cell", "points", "result", "why it failed"], right=("points",))
    for cell in report.cells:
        mark = Text("✅ pass", style="green") if cell.passed else Text("❌ fail", style="red")
        result.add_row(plain(cell.grade_id), plain(f"{cell.score:g}/{cell.max_score:g}"), mark, plain(cell.reason))
    colour = "green" if report.full_marks else "red"
    result.add_section()
    result.add_row(Text("total", style="bold"), Text(f"{report.score:g}/{report.max_score:g}", style=f"bold {colour}"),
                   "", "")
    return result


def show_flags(report: GradeReport) -> None:
    for flag in report.flags:
        say((f"⚠ {flag.kind.value}:", "yellow"), " ", flag.message)


def batch_table(reports: list[GradeReport], title: str) -> Table:
    result = table(title, ["student", "score", "failed cells: why", "flags"], right=("score",))
    for report in reports:
        if not report.graded:
            failed = f"(not graded) {report.reason}"
        else:
            failed = "\n".join(f"{c.grade_id}: {c.reason}" for c in report.cells if not c.passed) or "—"
        flags = "\n".join(f"{flag.kind.value}: {flag.message}" for flag in report.flags) or "—"
        result.add_row(plain(report.student), plain(f"{report.score:g}/{report.max_score:g}"), plain(failed),
                       plain(flags))
    return result


def error(message: str, hint: str = "") -> None:
    """`message` (what is wrong) and `hint` (what to do), both plain text, on stderr."""
    say_error(("Error:", "bold red"), " ", message)
    if hint:
        say_error(("What to do:", "cyan"), " ", hint)


def warning(message: str) -> None:
    say_error(("Warning:", "bold yellow"), " ", message)
