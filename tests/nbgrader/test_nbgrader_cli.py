"""Instructors who run nbgrader's own commands get the same protections as `tito nbgrader`,
through nbgrader_config.py: sandboxed kernels, the clean-room re-check, and feedback that
shows hidden checks' results but not their code."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from course_batch import MODULE, course_env, generate
from factory import fresh, solved, write
from helpers import copy_repo, run_tito

pytestmark = pytest.mark.slow

# Stubs everywhere, and a cell that takes the answers from the reference build next door.
BORROWED = "from tinytorch.core.layers import Layer, Linear, Dropout, Sequential  # the reference build\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = copy_repo(tmp_path_factory.mktemp("cli") / "repo")
    generate(root)
    borrowing = fresh(root)
    first_test = next(i for i, c in enumerate(borrowing.cells) if c.metadata.get("nbgrader", {}).get("grade"))
    borrowing.cells.insert(first_test, nbformat.v4.new_code_cell(BORROWED))
    for student, notebook in {"ada": solved(root), "mallory": borrowing}.items():
        folder = root / "nbgrader/submitted" / student / MODULE
        write(notebook, folder / "layers.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    return root


def _nbgrader(root, *args):
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=course_env(root),
                          capture_output=True, text=True, timeout=900)


def _scores(root) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'nbgrader/gradebook.db'}", "tinytorch") as book:
        return {s.student.id: s.score for s in book.assignment_submissions(MODULE)}


def test_nbgrader_autograde_runs_student_code_in_the_sandbox(course):
    result = _nbgrader(course, "autograde", MODULE, "--force")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _scores(course) == {"ada": 100.0, "mallory": 0.0}, "the reference build is out of the kernel's reach"
    autograded = (course / "nbgrader/autograded/mallory" / MODULE / "layers.ipynb").read_text()
    assert "No module named 'tinytorch.core.layers'" in autograded


def test_nbgrader_feedback_hides_hidden_tests(course):
    result = _nbgrader(course, "generate_feedback", MODULE, "--force")
    assert result.returncode == 0, result.stdout + result.stderr
    page = (course / "nbgrader/feedback/ada" / MODULE / "layers.html").read_text()
    assert "Hidden checks, run by the grader" in page and "BEGIN HIDDEN TESTS" not in page


def test_no_sandbox_warns_and_is_recorded(course):
    report = course / "unsandboxed.json"
    result = run_tito(course, "nbgrader", "autograde", MODULE, "--student", "ada", "--no-sandbox",
                      "--json", str(report), env=course_env(course))
    assert result.returncode == 0, result.stderr
    assert "--no-sandbox" in result.stderr and "WITHOUT isolation" in result.stderr
    assert '"kind": "unsandboxed"' in report.read_text() and '"sandboxed": false' in report.read_text()


def test_a_missing_sandbox_stops_grading_with_the_fix(course, tmp_path):
    env = course_env(course) | {"PATH": str(tmp_path)}  # no bwrap on PATH (the venv's python is absolute)
    result = run_tito(course, "nbgrader", "autograde", MODULE, "--student", "ada", env=env)
    assert result.returncode == 1 and "bubblewrap" in result.stderr and "apt-get install bubblewrap" in result.stderr
    assert "Traceback" not in result.stderr
