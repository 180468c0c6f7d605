"""Module 03's notebook ends by saying how to hand in (issue 21, item 1): the command, the
file it writes (the path tito really uses) and the two ways that file goes on."""

from __future__ import annotations

from pathlib import Path

from tito.course import notebooks
from tito.course.paths import Paths
from tito.course.registry import resolve
from tito.coursedir import release
from tito.workflows.student import hand_in_path

ROOT = Path(__file__).resolve().parents[2]


def last_cell(student: bool) -> str:
    module = resolve(Paths(ROOT), "03_layers")
    notebook = notebooks.read_source(module)
    if student:
        notebook = release.student_version(notebook)
    return notebook.cells[-1].source


def test_the_last_cell_says_how_to_hand_in_in_both_editions():
    module = resolve(Paths(ROOT), "03_layers")
    written = hand_in_path(Paths(ROOT), module).relative_to(ROOT).as_posix()
    for student in (False, True):
        text = " ".join(last_cell(student).split())
        assert "## Handing in" in last_cell(student)
        assert "tito module submit 03_layers" in text
        assert f"`{written}`" in text, written
        assert "course page" in text and "nbgrader submit" in text
