"""The student version of a source notebook, by nbgrader's own steps: in memory
(`student_version`: strip solutions and hidden tests, lock graded cells, add checksums,
exactly as `nbgrader generate_assignment` does, minus the gradebook), or generated into a
course with its gradebook (`generate`)."""

from __future__ import annotations

import json

import nbformat
from nbformat import NotebookNode

from tito.course import notebooks
from tito.course.paths import Paths, get_paths
from tito.course.registry import Module
from tito.coursedir.config import CoursePaths, load_config
from tito.coursedir.converters import run_converter
from tito.coursedir.database import database_error
from tito.errors import TitoError


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
    leaks = notebooks.solution_leaks(source, notebook)
    if leaks:
        raise TitoError(f"Student notebook would contain solution lines: {leaks[:3]}")
    return notebook


def reference_submission(module: Module, only: set[str] | None = None) -> NotebookNode:
    """The student notebook with the reference code in its solution cells (all of them, or
    those whose grade_id is in `only`): a correct (or partly correct) submission."""
    source = {notebooks.grade_id(cell): cell for cell in notebooks.read_source(module).cells}
    notebook = student_version(notebooks.read_source(module), module.paths)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and (only is None or meta["grade_id"] in only):
            cell.source = source[meta["grade_id"]].source
    return notebook


def generate(config, module: Module, source: NotebookNode) -> NotebookNode:
    """Write `source` as the nbgrader source notebook of the course of `config` and run
    nbgrader's generate step there; returns the release notebook."""
    from nbgrader.converters import GenerateAssignment

    course = CoursePaths.of(config, assignment_id=module.slug)
    notebooks.write(source, course.source(module.slug, module.notebook_name))
    app = GenerateAssignment(coursedir=course.coursedir, config=config)
    app.force = True
    app.create_assignment = True
    result = run_converter(app)
    release = course.release(module.slug, module.notebook_name)
    if not result.success or not release.is_file():
        log = result.last_lines()
        if "OperationalError" in log or "could not connect" in log:
            raise database_error(course.db_url, log)
        raise TitoError(f"nbgrader could not generate {module.slug}:\n{log}",
                        "Check the nbgrader metadata of the source cells (`nbgrader validate`).")
    return nbformat.read(release, as_version=4)
