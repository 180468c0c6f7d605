"""The markers a course source is written with, in one place: nbgrader's solution and
hidden-test blocks, and nbdev's `default_exp` line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

SOLUTION, HIDDEN_TESTS = "SOLUTION", "HIDDEN TESTS"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ALL = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS)
MARKER_LINE = re.compile(r"^\s*#{3} (?P<end>BEGIN|END) (?P<kind>SOLUTION|HIDDEN TESTS)\s*$")
DEFAULT_EXP = re.compile(r"^#\|\s*default_exp\s+(?P<target>[\w.]+)\s*$", re.MULTILINE)


def default_exp(source: str) -> str:
    """The export target a source's `#| default_exp` line names (e.g. core.layers), or ""."""
    match = DEFAULT_EXP.search(source)
    return match["target"] if match else ""


def has_hidden_tests(source: str) -> bool:
    return BEGIN_HIDDEN_TESTS in source


def blocks(lines: Iterable[str]) -> Iterator[tuple[str | None, str]]:
    """(kind, stripped line) for every line that is not a marker: kind is SOLUTION or
    HIDDEN_TESTS inside such a block, None outside all."""
    inside = None
    for line in lines:
        marker = MARKER_LINE.match(line)
        if marker:
            inside = marker["kind"] if marker["end"] == "BEGIN" else None
        else:
            yield inside, line.strip()


def block_lines(sources: Iterable[str], kind: str | None) -> set[str]:
    """Stripped lines inside the `kind` blocks of `sources` (cells), or outside all with None."""
    return {line for source in sources for inside, line in blocks(source.splitlines()) if inside == kind}
