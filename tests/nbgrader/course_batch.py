"""The instructor's course, end to end: one generated course and one autograde batch of
thirteen synthetic submissions (good, partial and hostile), shared by the tests of
tests/nbgrader through the `graded_batch` fixture (conftest.py). Generating and grading
cost real kernels, so the batch runs once a session."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from helpers import copy_repo, run_tito, tito_env

# A short cell timeout, so that the infinite loop costs seconds (ordinary cells take well
# under one second, even on a busy machine).
CELL_TIMEOUT = "10"
MODULE = "03_layers"
NOTEBOOK = "layers.ipynb"
TIMESTAMP = "2026-11-20 10:00:00.000000 UTC\n"
# The total each submission must get (test_autograde_batch.py checks every cell).
TOTALS = {"correct": 100, "only_linear": 30, "tampered_test": 40, "deleted_test": 100, "deleted_solution": 80,
          "infinite_loop": 80, "syntax_error": 70, "sys_exit": 80, "os_exit": 0, "huge_output": 100,
          "not_json": 0, "no_notebook": 0, "hidden_failure": 88}


GRADEBOOKS: dict[Path, str] = {}  # repository copy -> its PostgreSQL gradebook, if not sqlite


def course_env(root: Path) -> dict:
    """The environment of a `tito` run in the repository copy `root`."""
    env = tito_env(root) | {"TINYTORCH_CELL_TIMEOUT": CELL_TIMEOUT}
    if root in GRADEBOOKS:
        env["TINYTORCH_GRADEBOOK_URL"] = GRADEBOOKS[root]
    return env


@contextlib.contextmanager
def tito_process_env(root: Path):
    """Run tito's Python API in this process as `tito` would run in `root`, then put the
    environment back (grading adds the checkout to PYTHONPATH and the scripts to PATH)."""
    saved = dict(os.environ)
    os.environ.update(course_env(root))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def generate(root: Path):
    """`tito nbgrader generate 03_layers` through the Python API: a GenerateResult."""
    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.workflows.instructor import assignments as instructor

    with tito_process_env(root):
        paths = Paths(root)
        return instructor.generate(paths, resolve(paths, MODULE))


# -- the submissions ------------------------------------------------------------------------
def _submissions(root: Path) -> dict[str, object]:
    """student id -> a notebook, or raw bytes written as the file, or (file name, notebook)
    for a submission that holds no layers.ipynb."""
    from factory import edit, solved, without

    correct = solved(root)
    partial = solved(root, only={"layer-base", "linear"})  # 40/100: Layer and Linear only
    return {
        "correct": correct,
        "only_linear": solved(root, only={"linear"}),
        # `return` at the top of a locked test: nbgrader restores the cell, the real test fails
        "tampered_test": edit(partial, "test-dropout", "def test_unit_dropout():\n",
                              "def test_unit_dropout():\n    return  # full marks, surely\n"),
        "deleted_test": without(correct, "test-sequential"),
        # Dropout is never defined: only its own test fails (integration allows one part short)
        "deleted_solution": without(correct, "dropout"),
        # never ends, before Sequential is defined: interrupted at the cell timeout
        "infinite_loop": edit(correct, "sequential", "def _check_callable_layers",
                              "while True:  # waiting for inspiration\n    pass\n\n\ndef _check_callable_layers"),
        # the whole Linear cell fails to compile: both Linear tests fail, the rest pass
        "syntax_error": edit(correct, "linear", "class Linear(Layer):", "class Linear(Layer)"),
        # IPython turns SystemExit into a cell error and the kernel carries on: no Dropout
        "sys_exit": edit(correct, "dropout", "def _check_probability",
                         "import sys\n\nsys.exit()\n\n\ndef _check_probability"),
        # the kernel process dies: nbgrader cannot grade the notebook at all
        "os_exit": edit(correct, "sequential", "def _check_callable_layers",
                        "import os\n\nos._exit(1)\n\n\ndef _check_callable_layers"),
        # 100,000 lines of 100 bytes: 10 MB on stdout, truncated by nbgrader
        "huge_output": edit(correct, "layer-base", "class Layer:",
                            "for _ in range(100_000):\n    print('#' * 99)\n\n\nclass Layer:"),
        "not_json": b'{"cells": [ this is not json',
        "no_notebook": ("layers (1).ipynb", correct),
        # passes every visible check (np.int64 sizes too), but the hidden check's
        # Linear(np.int32(5), np.uint16(3)) is refused: unsigned integers are left out
        "hidden_failure": edit(correct, "linear", "not isinstance(value, numbers.Integral)",
                               "not isinstance(value, (int, np.signedinteger))"),
    }


def write_submissions(root: Path, only: set[str] | None = None) -> list[str]:
    """Each submission (or those in `only`) in nbgrader/submitted/<student>/03_layers/, with
    nbgrader's timestamp."""
    from factory import write

    with tito_process_env(root):
        submissions = {k: v for k, v in _submissions(root).items() if only is None or k in only}
    for student, content in submissions.items():
        folder = root / "nbgrader" / "submitted" / student / MODULE
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (folder / NOTEBOOK).write_bytes(content)
        elif isinstance(content, tuple):
            name, notebook = content
            write(notebook, folder / name)
        else:
            write(content, folder / NOTEBOOK)
        (folder / "timestamp.txt").write_text(TIMESTAMP)
    return sorted(submissions)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class Batch:
    root: Path  # the repository copy
    course: Path  # its nbgrader/ course directory
    generated: object  # tito.instructor.GenerateResult
    students: list[str]  # every submission written
    submitted: dict[str, bytes]  # every file under submitted/, before grading
    cli: object  # subprocess.CompletedProcess of `tito nbgrader autograde --json`
    reports: dict[str, dict]  # student -> the --json report

    def env(self) -> dict:
        return course_env(self.root)


def grade_batch(base: Path, gradebook_url: str | None = None) -> Batch:
    """A repository copy with 03_layers generated and thirteen submissions autograded in
    one `tito nbgrader autograde 03_layers --json FILE` run."""
    root = copy_repo(base / "repo")
    if gradebook_url:
        GRADEBOOKS[root] = gradebook_url
    generated = generate(root)
    course = root / "nbgrader"
    students = write_submissions(root)
    before = snapshot(course / "submitted")
    report_file = root / "autograde.json"
    cli = run_tito(root, "nbgrader", "autograde", MODULE, "--json", str(report_file), env=course_env(root))
    reports = {r["student"]: r for r in json.loads(report_file.read_text())} if report_file.is_file() else {}
    return Batch(root, course, generated, students, before, cli, reports)
