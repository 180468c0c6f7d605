"""Instructors who run nbgrader's own commands get the same protections as `tito nbgrader`,
through nbgrader_config.py: sandboxed kernels, the clean-room re-check, and feedback that
shows hidden checks' results but not their code; and no false alarms: an untouched test cell
is not reported as changed (nbgrader #1961), while an edited one still is."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from course_batch import MODULE, course_env, generate
from factory import edit, fresh, solved, write
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
    # "tamperer" returns early from a locked test: nbgrader must still say so (and restore it)
    tamperer = edit(solved(root, only={"layer-base"}), "test-dropout", "def test_unit_dropout():\n",
                    "def test_unit_dropout():\n    return  # full marks, surely\n")
    submissions = {"ada": solved(root), "mallory": borrowing, "untouched": fresh(root), "tamperer": tamperer}
    for student, notebook in submissions.items():
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


@pytest.fixture(scope="module")
def autograded(course):
    """`nbgrader autograde 03_layers`, nbgrader's own CLI with the repository's nbgrader_config.py."""
    result = _nbgrader(course, "autograde", MODULE, "--force")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_nbgrader_autograde_runs_student_code_in_the_sandbox(course, autograded):
    assert _scores(course) == {"ada": 100.0, "mallory": 0.0, "untouched": 0.0, "tamperer": 10.0}, \
        "the reference build is out of the kernel's reach, and an early return in a locked test is undone"
    autograded_notebook = (course / "nbgrader/autograded/mallory" / MODULE / "layers.ipynb").read_text()
    assert "No module named 'tinytorch.core.layers'" in autograded_notebook
    for student in ("ada", "mallory", "untouched", "tamperer"):  # its log says where student code ran
        assert f"Running {student}'s layers.ipynb in the bubblewrap sandbox (no network" in autograded, student
        assert f"Clean room (sandboxed): {student}'s layers.ipynb graded tests run again" in autograded, student


def test_only_an_edited_locked_cell_is_reported_as_changed(autograded):
    changed = [line for line in autograded.splitlines() if "has changed!" in line]
    assert len(changed) == 1 and "Attribute 'checksum' for cell test-dropout has changed!" in changed[0], changed


def test_nbgrader_autograde_writes_the_report_tito_writes(course, autograded):
    stored = {student: json.loads((course / "nbgrader/autograded" / student / MODULE / "tito-report.json")
                                  .read_text()) for student in ("ada", "tamperer")}
    assert stored["ada"]["score"] == 100 and stored["ada"]["flags"] == []
    assert [flag["kind"] for flag in stored["tamperer"]["flags"]] == ["tampered"]
    assert "tito: tamperer scores 10/100, flagged: tampered" in autograded
    report = course / "tito-tamperer.json"
    result = run_tito(course, "nbgrader", "autograde", MODULE, "--student", "tamperer", "--json", str(report),
                      env=course_env(course))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(report.read_text()) == [stored["tamperer"]]  # the same verdict, field for field


def test_the_gradebook_marks_flagged_submissions_for_formgrader(course, autograded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'nbgrader/gradebook.db'}", "tinytorch") as book:
        flagged = {nb.student.id: nb.flagged for nb in book.notebook_submissions("layers", MODULE)}
        comment = book.find_comment("layer-base", "layers", MODULE, "tamperer").auto_comment
    flags = {student: [flag["kind"] for flag in json.loads(
        (course / "nbgrader/autograded" / student / MODULE / "tito-report.json").read_text())["flags"]]
        for student in flagged}
    assert flagged == {student: bool(kinds) for student, kinds in flags.items()}, flags
    assert flagged["tamperer"] and not flagged["ada"] and not flagged["untouched"], flags
    assert comment.startswith("tito flags for review:") and "tampered: locked cell edited" in comment


def test_nbgrader_feedback_hides_hidden_tests_and_leads_with_the_reasons(course, autograded):
    from tito.grading.feedback import page_text

    result = _nbgrader(course, "generate_feedback", MODULE, "--force")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not recognized" not in result.stdout + result.stderr  # no unknown-trait warning
    page = (course / "nbgrader/feedback/ada" / MODULE / "layers.html").read_text()
    assert "Hidden checks, run by the grader" in page and "BEGIN HIDDEN TESTS" not in page
    assert "Every graded cell passed." in page_text(page)
    stubbed = " ".join(page_text((course / "nbgrader/feedback/untouched" / MODULE / "layers.html")
                                 .read_text()).split())
    assert "11 of 11 graded cells fell short." in stubbed
    assert stubbed.index("test-layer-base (Score: 0.0 / 8.0): Layer.__call__ is not implemented yet") \
        < stubbed.index("def test_unit_layer_base")
    assert "tito flags for review" not in (course / "nbgrader/feedback/tamperer" / MODULE / "layers.html").read_text()


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
