"""`tito module submit` refuses what it must not hand in (an edited locked cell, a file
that is not a notebook) and keeps the earlier hand-in copy; in the student edition it
grades the visible tests and says which points only the instructor's grading sees."""

from __future__ import annotations

import pytest
from helpers import git, run_tito
from loop_course import MODULE, NOTEBOOK, copy_course, course_env, notebooks

pytestmark = pytest.mark.slow

HAND_IN = f"modules/hand-in/{MODULE}/{NOTEBOOK}"


def test_an_edited_locked_cell_stops_the_hand_in_and_the_earlier_copy_stays(generated, handed_in, tmp_path):
    from factory import edit, write

    root = copy_course(generated, tmp_path / "repo")
    earlier = root / HAND_IN
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(handed_in.files["ada"])
    tampered = edit(notebooks(root)["ada"], "test-dropout", "def test_unit_dropout():\n",
                    "def test_unit_dropout():\n    return  # full marks, surely\n")
    write(tampered, root / "modules" / MODULE / NOTEBOOK)
    run = run_tito(root, "module", "submit", MODULE, env=course_env(root))
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "Nothing was written for hand-in: locked cell edited, restored for grading: test-dropout" in output
    assert "Traceback" not in output
    assert earlier.read_bytes() == handed_in.files["ada"]


def test_a_file_that_is_not_a_notebook_is_not_handed_in(generated, tmp_path):
    root = copy_course(generated, tmp_path / "repo")
    (root / "modules" / MODULE).mkdir(parents=True)
    (root / "modules" / MODULE / NOTEBOOK).write_text('{"cells": [ oops')
    run = run_tito(root, "module", "submit", MODULE, env=course_env(root))
    assert run.returncode == 1 and "is not a valid notebook" in run.stderr, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and not (root / HAND_IN).exists()


def test_the_student_edition_hands_in_what_its_visible_tests_pass(generated, tmp_path):
    from factory import write

    instructor = copy_course(generated, tmp_path / "instructor")
    edition = tmp_path / "tinytorch-student"
    released = run_tito(instructor, "release", "student", "--to", str(edition), "--provide", "01", "02")
    assert released.returncode == 0, released.stdout + released.stderr
    alan = notebooks(instructor)["alan"]  # 88 for the instructor: a hidden check fails
    write(alan, edition / "modules" / MODULE / NOTEBOOK)
    run = run_tito(edition, "module", "submit", MODULE, env=course_env(edition))
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 0, output
    assert f"Ready to hand in: {HAND_IN} (100/100 on the tests you can see)" in output
    assert "points also depend on hidden checks" in output
    assert f"Next: upload {HAND_IN} to your course page" in output
    assert (edition / HAND_IN).is_file()
    assert git(edition, "status", "--porcelain") == "", "the hand-in copy is the student's, untracked"
