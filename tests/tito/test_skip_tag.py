"""A student cannot use the grader's skip tag to switch off a test or a solution."""

from __future__ import annotations

import nbformat

from tito.grading.preprocessors import keep_graded_cells_running

TAG = "skip-when-grading"


def _cell(nbgrader: dict | None):
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["tags"] = [TAG, "other"]
    if nbgrader is not None:
        cell.metadata["nbgrader"] = {"schema_version": 3, "locked": True, "grade_id": "g", **nbgrader}
    return cell


def test_only_demonstration_cells_keep_the_skip_tag():
    test = _cell({"grade": True, "solution": False, "points": 10})
    solution = _cell({"grade": False, "solution": True})
    demonstration = _cell(None)
    notebook = nbformat.v4.new_notebook(cells=[test, solution, demonstration])
    keep_graded_cells_running(notebook, TAG)
    assert test.metadata["tags"] == ["other"] and solution.metadata["tags"] == ["other"]
    assert demonstration.metadata["tags"] == [TAG, "other"]
