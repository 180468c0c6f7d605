"""`tito nbgrader feedback` and `tito nbgrader export` after the autograde batch of
conftest.py: one HTML page per autograded submission, and a CSV with the same scores."""

from __future__ import annotations

import csv
import re

import pytest
from conftest import run_tito

pytestmark = pytest.mark.slow

# Files that are not a notebook never reach nbgrader: the gradebook has no grade for them.
NEVER_IN_THE_GRADEBOOK = {"not_json", "no_notebook"}


@pytest.fixture(scope="module")
def feedback(graded_batch):
    return run_tito(graded_batch.root, "nbgrader", "feedback", "03_layers", env=graded_batch.env())


def test_feedback_writes_one_page_per_autograded_submission(graded_batch, feedback):
    assert feedback.returncode == 0, feedback.stdout + feedback.stderr
    graded = sorted(s for s, report in graded_batch.reports.items() if report["graded"])
    assert len(graded) == 10  # all but os_exit, not_json and no_notebook
    pages = sorted((graded_batch.course / "feedback").glob("*/03_layers/layers.html"))
    assert [page.parts[-3] for page in pages] == graded
    assert f"{len(graded)} feedback page(s) written." in feedback.stdout
    for student in graded:
        assert f"nbgrader/feedback/{student}/03_layers/layers.html" in feedback.stdout


def test_each_feedback_page_names_the_score(graded_batch, feedback):
    for page in sorted((graded_batch.course / "feedback").glob("*/03_layers/layers.html")):
        report = graded_batch.reports[page.parts[-3]]
        html = page.read_text()
        assert re.findall(r"<h4>layers \(Score: ([\d.]+) / ([\d.]+)\)</h4>", html) == \
            [(f"{report['score']:.1f}", "100.0")], page
        for cell in report["cells"]:
            assert f'href="#{cell["grade_id"]}">Test cell</a> (Score: {cell["score"]:.1f} / ' \
                   f'{cell["max_score"]:.1f})' in html, (page, cell)


def test_the_grades_csv_matches_the_autograde_results(graded_batch):
    destination = graded_batch.root / "grades.csv"
    result = run_tito(graded_batch.root, "nbgrader", "export", "--to", str(destination), env=graded_batch.env())
    assert result.returncode == 0, result.stdout + result.stderr
    with destination.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["student_id"] for row in rows].count("correct") == 1
    assert {row["student_id"]: float(row["score"]) for row in rows} == {
        student: report["score"] for student, report in graded_batch.reports.items()
        if student not in NEVER_IN_THE_GRADEBOOK}
    assert len(rows) == len(graded_batch.reports) - len(NEVER_IN_THE_GRADEBOOK)
    for row in rows:
        assert row["assignment"] == "03_layers" and row["timestamp"] == "2026-11-20 10:00:00"
        assert float(row["raw_score"]) == float(row["score"]) and float(row["max_score"]) == 100
