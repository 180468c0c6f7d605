"""Synthetic student notebooks built from the real sources: solved, partly solved, broken."""

from __future__ import annotations

import copy
from pathlib import Path

from tito.course import notebooks
from tito.course.paths import Paths
from tito.course.registry import resolve
from tito.coursedir import release


def module(root: Path, name: str = "03_layers"):
    return resolve(Paths(root), name)


def fresh(root: Path, name: str = "03_layers"):
    """The student notebook exactly as `tito module start` creates it."""
    return release.student_version(notebooks.read_source(module(root, name)))


def solved(root: Path, name: str = "03_layers", only: set[str] | None = None, marker: str = ""):
    """A student notebook whose solution cells hold the reference code (all, or `only`),
    each followed by a `marker` comment when given."""
    notebook = release.reference_submission(module(root, name), only)
    if marker:
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source += f"\n\n# {marker}\n"
    return notebook


def cell(notebook, grade_id: str):
    return next(c for c in notebook.cells if notebooks.grade_id(c) == grade_id)


def without(notebook, grade_id: str):
    notebook = copy.deepcopy(notebook)
    notebook.cells = [c for c in notebook.cells if notebooks.grade_id(c) != grade_id]
    return notebook


def edit(notebook, grade_id: str, old: str, new: str):
    """Replace `old` by `new` in one cell (which must contain it)."""
    notebook = copy.deepcopy(notebook)
    target = cell(notebook, grade_id)
    assert old in target.source, f"{old!r} not in {grade_id}"
    target.source = target.source.replace(old, new, 1)
    return notebook


def write(notebook, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    notebooks.write(notebook, path)
    return path
