"""`tito nbgrader feedback` and `tito nbgrader export` after the autograde batch of
conftest.py: one HTML page per autograded submission, and a CSV with the same scores."""

from __future__ import annotations

import csv
import html
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
    hidden_line = "sizes=Linear(np.int32(5),np.uint16(3))"
    assert hidden_line not in " ".join(text.split()).replace(" ", "")  # the hidden line itself
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
            assert f'href="#tito-cell-{cell["grade_id"]}">Test cell</a> (Score: {cell["score"]:.1f} / ' \
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


# -- the page leads with the reasons ----------------------------------------------------------------
def _flat(page_html: str) -> str:
    from tito.grading.feedback import page_text

    return " ".join(page_text(page_html).split())


def test_each_page_leads_with_the_reasons_of_the_terminal_table(graded_batch, feedback):
    for page in sorted((graded_batch.course / "feedback").glob("*/03_layers/layers.html")):
        report = graded_batch.reports[page.parts[-3]]
        if not report["graded"]:
            continue
        text = _flat(page.read_text())
        first_code = text.index("def test_unit_")
        failed = [cell for cell in report["cells"] if not cell["passed"]]
        if not failed:
            assert text.index("Every graded cell passed.") < first_code, page
            assert "fell short" not in text, page
        for cell in failed:  # one summary line each, with the reason the terminal table gives
            line = f"{cell['grade_id']} (Score: {cell['score']:.1f} / {cell['max_score']:.1f}): {cell['reason']}"
            assert line in text and text.index(line) < first_code, (page, line)
        passed = [cell["grade_id"] for cell in report["cells"] if cell["passed"]]
        summary = text[:text.index("Every graded cell")]
        assert not [name for name in passed if f"{name} (Score:" in summary], (page, summary)


def test_the_root_cause_is_carried_through_to_the_page(graded_batch, feedback):
    text = _flat((graded_batch.course / "feedback/syntax_error/03_layers/layers.html").read_text())
    assert re.search(r"test-linear-creation \(Score: 0\.0 / 12\.0\): NameError: name 'Linear' is not defined, "
                     r"because of an earlier problem: SyntaxError in your cell 'linear', line \d+", text), text[:800]


def test_the_result_comes_first_under_each_test_cell_heading(graded_batch, feedback):
    page = (graded_batch.course / "feedback/syntax_error/03_layers/layers.html").read_text()
    for cell in graded_batch.reports["syntax_error"]["cells"]:
        heading = page.index(f'<span class="nbgrader-label">Grade cell: <code>{cell["grade_id"]}</code>')
        result = page.index('class="tito-result', heading)
        code = page.index('<details class="tito-test-code">', heading)
        assert result < code < page.index('<div class="highlight', heading), cell["grade_id"]
        shown = "✅ Passed." if cell["passed"] else f"❌ <strong>{html.escape(cell['reason'], quote=False)}"
        assert page[result:code].count(shown) == 1, (cell, page[result:code])


def test_reasons_are_escaped_and_never_quote_hidden_code(graded_batch):
    """A reason is student text (an exception message of their code): escaped, and dropped if it
    quotes a hidden check's code."""
    from course_batch import tito_process_env

    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.coursedir.config import CoursePaths, load_config
    from tito.grading import feedback as pages
    from tito.grading.setup import plain_config
    from tito.workflows.instructor import assignments

    hidden_line = "sizes = Linear(np.int32(5), np.uint16(3))"
    with tito_process_env(graded_batch.root):
        paths = Paths(graded_batch.root)
        config = load_config(paths)
        [job] = assignments._feedback_jobs(CoursePaths.of(config), resolve(paths, "03_layers"), ["syntax_error"])
        job.resources["reasons"] = {"test-linear-creation": '<img src=x onerror="alert(1)"> and </p><script>x</script>',
                                    "test-linear-forward": f"my code read the test: {hidden_line}"}
        page = pages.render(plain_config(config), job)
    assert "<img src=x" not in page and "<script>x" not in page
    assert '<img src=x onerror="alert(1)"> and </p><script>x</script>' in _flat(page)  # shown as text
    assert hidden_line not in page and "its message is not shown: it quotes the hidden checks" in page
