"""Metadata is the grader's, not the student's. One flipped nbgrader flag (`grade` off on a
locked test, `solution` on, `grade` on an answer cell) made nbgrader's OverwriteCells raise,
and a notebook-level `tito` entry that is not a mapping made the clean-room step fail: either
way the whole submission was "not graded", with no word of tampering. In ONE autograde batch
beside an honest, fully solved submission that keeps 100/100 and no flag: each flip is put
back, the (correct) submission is graded, and flagged `tampered`; the forged `tito` entry is
dropped and the submission graded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "grading"))
from batch_grading import grade_batch, new_repo  # noqa: E402

pytestmark = pytest.mark.slow

FLIPS = {"grade-off": ("test-dropout", {"grade": False}),
         "solution-on": ("test-sequential", {"solution": True}),
         "answer-graded": ("linear", {"grade": True, "points": 100})}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = new_repo(tmp_path_factory.mktemp("flips"))

    def build():
        from factory import cell, solved

        notebooks = {"ada": solved(root)}
        for student, (grade_id, flags) in FLIPS.items():
            notebook = solved(root)
            cell(notebook, grade_id).metadata["nbgrader"].update(flags)
            notebooks[student] = notebook
        forged = solved(root)
        forged.metadata["tito"] = "not a mapping"
        notebooks["forged-tito-metadata"] = forged
        return notebooks

    return grade_batch(root, "03_layers", build)


def test_the_honest_submission_keeps_full_marks_and_no_flag(reports):
    assert reports["ada"].score == 100 and reports["ada"].flags == [], reports["ada"]


@pytest.mark.parametrize("student", list(FLIPS))
def test_a_flipped_flag_is_put_back_graded_and_flagged(reports, student):
    report = reports[student]
    assert report.graded and report.score == 100, (report.score, report.flags)
    tampered = [flag for flag in report.flags if flag.kind.value == "tampered"]
    assert tampered and FLIPS[student][0] in tampered[0].message, report.flags


def test_a_notebooks_own_tito_metadata_is_dropped(reports):
    report = reports["forged-tito-metadata"]
    assert report.graded and report.score == 100, (report.score, report.flags)
