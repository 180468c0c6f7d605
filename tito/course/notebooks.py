"""Notebooks: the instructor's source read with jupytext, a student's notebook loaded
(or why it cannot be), writing, and which source lines must never reach a student."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from tito.course import markers
from tito.course.registry import Module
from tito.errors import TitoError
from tito.fileops import atomic_write_text

KERNEL_ENV = "TITO_KERNEL_NAME"


def kernel_name() -> str:
    """The Jupyter kernel that runs course notebooks (python3 unless overridden)."""
    return os.environ.get(KERNEL_ENV, "python3")


def grade_id(cell: NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def read_source(module: Module) -> NotebookNode:
    """The instructor notebook (with solutions), with deterministic ids and metadata."""
    import jupytext  # 0.2 s to import: only reading a source needs it, not every tito command

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


def solution_lines(source: NotebookNode) -> set[str]:
    """Non-trivial lines found only inside solution or hidden-test blocks of the source."""
    cells = [cell.source for cell in source.cells]
    inside = markers.block_lines(cells, markers.SOLUTION) | markers.block_lines(cells, markers.HIDDEN_TESTS)
    return {line for line in inside - markers.block_lines(cells, None) if len(line) > 12 and not line.startswith("#")}


def solution_leaks(source: NotebookNode, notebook: NotebookNode) -> list[str]:
    """Solution lines of `source` (and marker lines) that appear in `notebook`."""
    secret = solution_lines(source)
    shown = {line.strip() for cell in notebook.cells for line in cell.source.splitlines()}
    marker_lines = [line for line in shown if markers.MARKER_LINE.match(line)]
    return sorted(secret & shown) + marker_lines


def dumps(notebook: NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def write(notebook: NotebookNode, path: Path) -> None:
    atomic_write_text(path, dumps(notebook))


def load(path: Path, module: Module) -> NotebookNode:
    """Read a student's notebook, or say clearly why it cannot be read."""
    checkpoint = path.parent / ".ipynb_checkpoints" / f"{path.stem}-checkpoint.ipynb"
    reset = (f"JupyterLab's last checkpoint may still be whole: {checkpoint} (copy it over the notebook). Or "
             if checkpoint.is_file() else "") + \
        f"`tito module reset {module.slug}` backs the notebook up and gives you a fresh copy."
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
