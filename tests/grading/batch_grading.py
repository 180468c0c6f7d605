"""Grade many synthetic submissions of one module in one nbgrader batch, in a throw-away
copy of the repository: `tito.instructor.generate` once, every notebook written under
`nbgrader/submitted/<id>/<module>/`, then one `tito.instructor.autograde`."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from helpers import copy_repo, tito_env

TIMESTAMP = "2026-11-20 10:00:00.000000 UTC\n"
CELL_TIMEOUT = "30"


def reason(cell) -> str:
    """The failure text of a graded cell (`error` today, `reason` after the rename)."""
    return getattr(cell, "reason", None) or getattr(cell, "error", "")


@contextlib.contextmanager
def tito_process_env(root: Path):
    """Run tito's Python API in this process as `tito` would run in `root`, then restore
    the environment (grading adds the checkout to PYTHONPATH and the scripts to PATH)."""
    saved = dict(os.environ)
    os.environ.update(tito_env(root) | {"TINYTORCH_CELL_TIMEOUT": CELL_TIMEOUT})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Submission:
    name: str
    notebook: object


def new_repo(parent: Path) -> Path:
    return copy_repo(parent / "repo")


def grade_batch(root: Path, slug: str, build) -> dict:
    """Generate `slug` in `root`, write every notebook `build()` returns ({id: notebook},
    built inside the tito environment of `root`), autograde them all at once; returns
    {id: GradeReport}."""
    from factory import write

    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.coursedir.config import CoursePaths, load_config
    from tito.workflows.instructor import assignments as instructor

    with tito_process_env(root):
        paths = Paths(root)
        module = resolve(paths, slug)
        instructor.generate(paths, module)
        submissions = build()
        for student, notebook in submissions.items():
            folder = CoursePaths.of(load_config(paths)).submitted(student, module.slug)
            write(notebook, folder / module.notebook_name)
            (folder / "timestamp.txt").write_text(TIMESTAMP)
        result = instructor.autograde(paths, module)
    return {report.student: report for report in result.reports}
