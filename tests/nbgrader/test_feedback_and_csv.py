"""`tito nbgrader feedback` and `tito nbgrader export` after the autograde batch of
conftest.py: one HTML page per autograded submission, and a CSV with the same scores."""

from __future__ import annotations

import csv
import re

import pytest
from helpers import run_tito

pytestmark = pytest.mark.slow

UNGRADABLE = {"os_exit", "not_json", "no_notebook"}


@pytest.fixture(scope="module")
def feedback(graded_batch):
    return run_tito(graded_batch.root, "nbgrader", "feedback", "03_layers", env=graded_batch.env())


def test_feedback_writes_one_page_per_submission(graded_batch, feedback):
    assert feedback.returncode == 0, feedback.stdout + feedback.stderr
    pages = sorted((graded_batch.course / "feedback").glob("*/03_layers/layers.html"))
    assert [page.parts[-3] for page in pages] == sorted(graded_batch.reports)
    assert f"{len(graded_batch.reports)} feedback page(s) written." in feedback.stdout


def test_an_ungradable_submission_gets_a_page_saying_why(graded_batch, feedback):
    from tito.grading.feedback import page_text

    for student in sorted(UNGRADABLE):
        text = " ".join(page_text((graded_batch.course / "feedback" / student / "03_layers/layers.html")
                                  .read_text()).split())
        assert "could not be graded" in text and graded_batch.reports[student]["reason"][:40] in text, text


def test_feedback_shows_hidden_checks_but_not_their_code(graded_batch, feedback):
    from tito.grading.feedback import page_text

    text = page_text((graded_batch.course / "feedback/hidden_failure/03_layers/layers.html").read_text())
    assert "Hidden checks, run by the grader" in text
    assert "sizes=Linear(np.int32(5),np.uint16(3))" not in " ".join(text.split()).replace(" ", "")  # the hidden line itself
    assert "BEGIN HIDDEN TESTS" not in text


def test_each_feedback_page_names_the_score(graded_batch, feedback):
    for page in sorted((graded_batch.course / "feedback").glob("*/03_layers/layers.html")):
        report = graded_batch.reports[page.parts[-3]]
        if not report["graded"]:
            continue  # its page says why instead
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
        student: report["score"] for student, report in graded_batch.reports.items()}
    for row in rows:
        assert row["assignment"] == "03_layers" and row["timestamp"] == "2026-11-20 10:00:00"
        assert float(row["raw_score"]) == float(row["score"]) and float(row["max_score"]) == 100
        assert bool(row["reason"]) == (row["student_id"] in UNGRADABLE), row
    flags = {row["student_id"]: row["flags"] for row in rows}
    assert "tampered" in flags["tampered_test"] and flags["correct"] == ""


def test_export_never_replaces_a_file_without_force(graded_batch):
    destination = graded_batch.root / "kept.csv"
    destination.write_text("my notes\n")
    refused = run_tito(graded_batch.root, "nbgrader", "export", "--to", str(destination), env=graded_batch.env())
    assert refused.returncode == 1 and "already exists" in refused.stderr and "--force" in refused.stderr
    assert destination.read_text() == "my notes\n"
    folder = run_tito(graded_batch.root, "nbgrader", "export", "--to", str(graded_batch.root), env=graded_batch.env())
    assert folder.returncode == 1 and "is a folder" in folder.stderr and "Traceback" not in folder.stderr
    assert not list(graded_batch.root.glob(".*.tmp"))
    forced = run_tito(graded_batch.root, "nbgrader", "export", "--to", str(destination), "--force",
                      env=graded_batch.env())
    assert forced.returncode == 0 and destination.read_text().startswith("assignment,")
