"""Notebooks from instructor sources: reading, the student version, loading and checks.

jupytext turns the percent-format source into a notebook; nbgrader's own preprocessors
strip solutions and hidden tests, lock graded cells and add checksums, exactly as
`nbgrader generate_assignment` does (minus the gradebook, which grading adds).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jupytext
import nbformat
from nbformat import NotebookNode

from tito.errors import TitoError
from tito.fileops import atomic_write_text
from tito.paths import Paths
from tito.registry import Module

KERNEL_ENV = "TITO_KERNEL_NAME"
_SOLUTION_MARKERS = re.compile(r"^\s*#{3} (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def kernel_name() -> str:
    """The Jupyter kernel that runs course notebooks (python3 unless overridden)."""
    return os.environ.get(KERNEL_ENV, "python3")


def grade_id(cell: NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def read_source(module: Module) -> NotebookNode:
    """The instructor notebook (with solutions), with deterministic ids and metadata."""
    notebook = jupytext.read(module.source, fmt="py:percent")
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    notebook.metadata = NotebookNode(
        kernelspec=NotebookNode(display_name="Python 3 (ipykernel)", language="python", name=kernel_name()),
        language_info=NotebookNode(name="python"),
    )
    for index, cell in enumerate(notebook.cells):
        cell.id = grade_id(cell) or f"cell-{index:03d}"
        cell.metadata.pop("lines_to_next_cell", None)  # a jupytext layout hint for the .py only
    return notebook


def student_version(source: NotebookNode, paths: Paths | None = None) -> NotebookNode:
    """Strip solutions and hidden tests, lock graded cells, add checksums (nbgrader)."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    from tito.course import load_config
    from tito.paths import get_paths

    config = load_config(paths or get_paths())
    notebook = nbformat.from_dict(json.loads(json.dumps(source)))
    resources: dict = {}
    steps = [LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums,
             ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata]
    try:
        for step in steps:
            notebook, resources = step(config=config).preprocess(notebook, resources)
    except RuntimeError as error:  # nbgrader's word for a badly marked source cell
        raise TitoError(f"nbgrader cannot strip the source: {error}",
                        "Every ### BEGIN/END SOLUTION block must sit in a cell with "
                        '"solution": true in its nbgrader header.') from error
    leaks = solution_leaks(source, notebook)
    if leaks:
        raise TitoError(f"Student notebook would contain solution lines: {leaks[:3]}")
    return notebook


def reference_submission(module: Module, only: set[str] | None = None) -> NotebookNode:
    """The student notebook with the reference code in its solution cells (all of them, or
    those whose grade_id is in `only`): a correct (or partly correct) submission."""
    source = {grade_id(cell): cell for cell in read_source(module).cells}
    notebook = student_version(read_source(module), module.paths)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and (only is None or meta["grade_id"] in only):
            cell.source = source[meta["grade_id"]].source
    return notebook


def solution_lines(source: NotebookNode) -> set[str]:
    """Non-trivial lines found only inside solution or hidden-test blocks of the source."""
    inside_lines, outside_lines, inside = set(), set(), False
    for cell in source.cells:
        for line in cell.source.splitlines():
            if _SOLUTION_MARKERS.match(line):
                inside = "BEGIN" in line
                continue
            stripped = line.strip()
            (inside_lines if inside else outside_lines).add(stripped)
    return {line for line in inside_lines - outside_lines
            if len(line) > 12 and not line.startswith("#")}


def solution_leaks(source: NotebookNode, notebook: NotebookNode) -> list[str]:
    """Solution lines of `source` (and marker lines) that appear in `notebook`."""
    secret = solution_lines(source)
    shown = {line.strip() for cell in notebook.cells for line in cell.source.splitlines()}
    markers = [line for line in shown if _SOLUTION_MARKERS.match(line)]
    return sorted(secret & shown) + markers


def dumps(notebook: NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def write(notebook: NotebookNode, path: Path) -> None:
    atomic_write_text(path, dumps(notebook))


def load(path: Path, module: Module) -> NotebookNode:
    """Read a student's notebook, or say clearly why it cannot be read."""
    reset = f"`tito module reset {module.slug}` backs it up and gives you a fresh copy."
    if not path.is_file():
        raise TitoError(f"{path} does not exist.", f"Create it with `tito module start {module.slug}`.")
    try:
        text = path.read_text(encoding="utf-8")
        notebook = nbformat.reads(text, as_version=4)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TitoError(f"{path} is not a valid notebook ({error}).", reset) from error
    except Exception as error:  # nbformat raises several types for malformed notebooks
        raise TitoError(f"{path} is not a valid notebook: {error}.", reset) from error
    return notebook


def missing_graded_cells(notebook: NotebookNode, reference: NotebookNode) -> list[str]:
    """grade_ids of graded cells in `reference` that `notebook` no longer has."""
    present = {grade_id(cell) for cell in notebook.cells}
    return [grade_id(cell) for cell in reference.cells
            if cell.metadata.get("nbgrader", {}).get("grade") and grade_id(cell) not in present]
