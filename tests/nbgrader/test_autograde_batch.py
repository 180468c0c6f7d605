"""`tito nbgrader autograde 03_layers`: thirteen submissions, good, partial and hostile, graded
in one batch with real nbgrader and real kernels (the `graded_batch` fixture, conftest.py).
Every graded cell's score is asserted, not just the totals."""

from __future__ import annotations

import nbformat
import pytest
from course_batch import TOTALS, snapshot

pytestmark = pytest.mark.slow


def flag_text(report: dict) -> str:
    """Everything a report's flags say (`kind: message` each), as one lower-case text."""
    return "\n".join(f"{flag['kind']}: {flag['message']}" for flag in report["flags"]).lower()


CELLS = ("test-layer-base", "test-layer-base-errors", "test-linear-creation", "test-linear-creation-errors",
         "test-linear-forward", "test-linear-forward-errors", "test-dropout", "test-dropout-errors",
         "test-sequential", "test-sequential-errors", "test-integration")
POINTS = (8, 2, 12, 3, 12, 3, 16, 4, 17, 3, 20)

# Each cell's expected score (in CELLS order), whether nbgrader graded the notebook at all,
# and what the flags must mention: all of these words; () means no flag at all (honest work);
# None means not checked. Each part's behaviour cell is followed by its errors cell.
ALL = POINTS  # full marks in every cell
NONE = (0,) * len(CELLS)
EXPECTED = {
    #                    scores per cell, in CELLS order            graded  flags mention
    "correct":          (ALL, True, ()),   # 100
    "only_linear":      ((0, 0, 12, 3, 12, 3, 0, 0, 0, 0, 0), True, ()),        # 30
    "tampered_test":    ((8, 2, 12, 3, 12, 3, 0, 0, 0, 0, 0), True, ("locked cell edited", "restored", "test-dropout")),
    "deleted_test":     (ALL, True, ("missing", "test-sequential")),  # 100
    # 80: Dropout's cells only
    "deleted_solution": ((8, 2, 12, 3, 12, 3, 0, 0, 17, 3, 20), True, ("missing", "dropout")),
    "infinite_loop":    ((8, 2, 12, 3, 12, 3, 16, 4, 0, 0, 20), True, ("timeout", "sequential", "10 s")),  # 80
    "syntax_error":     ((8, 2, 0, 0, 0, 0, 16, 4, 17, 3, 20), True,  # 70
                         ("syntax_error", "your cell 'linear'", "line")),
    "sys_exit":         ((8, 2, 12, 3, 12, 3, 0, 0, 17, 3, 20), True, None),   # 80
    "os_exit":          (NONE, False, ("kernel_died", "kernel died")),  # 0
    "huge_output":      (ALL, True, ("import_time_code", "runs at import")),  # 100: prints at import
    "not_json":         (NONE, False, ("not a valid notebook",)),  # 0
    "no_notebook":      (NONE, False, ("no layers.ipynb", "layers (1).ipynb")),  # 0
    "hidden_failure":   ((8, 2, 0, 3, 12, 3, 16, 4, 17, 3, 20), True, ()),     # 88: the hidden check costs 12
}


def test_expectations_add_up():
    assert sum(POINTS) == 100 and set(EXPECTED) == set(TOTALS)
    for student, (scores, _, _) in EXPECTED.items():
        assert sum(scores) == TOTALS[student], student
        assert all(score in (0, points) for score, points in zip(scores, POINTS, strict=True)), student


def test_the_batch_grades_every_submission(graded_batch):
    """One bad submission (an endless loop, a dead kernel, a file that is not a notebook)
    never stops the rest: the command succeeds and reports on all thirteen."""
    assert graded_batch.cli.returncode == 0, graded_batch.cli.stdout + graded_batch.cli.stderr
    assert "Traceback" not in graded_batch.cli.stdout + graded_batch.cli.stderr
    assert "13 submission(s)" in graded_batch.cli.stdout
    assert sorted(graded_batch.reports) == graded_batch.students == sorted(EXPECTED)


@pytest.mark.parametrize("student", list(EXPECTED))
def test_every_graded_cell_scores_exactly(graded_batch, student):
    report = graded_batch.reports[student]
    scores, graded, _ = EXPECTED[student]
    assert [cell["grade_id"] for cell in report["cells"]] == list(CELLS)
    assert [cell["max_score"] for cell in report["cells"]] == list(POINTS)
    assert {c["grade_id"]: c["score"] for c in report["cells"]} == dict(zip(CELLS, scores, strict=True))
    assert (report["score"], report["max_score"]) == (TOTALS[student], 100)
    assert report["graded"] is graded
    for cell in report["cells"]:  # a failed cell says why
        assert cell["passed"] == (cell["score"] == cell["max_score"])
        assert bool(cell["reason"]) == (not cell["passed"]), cell


@pytest.mark.parametrize("student", [s for s, (_, _, flags) in EXPECTED.items() if flags is not None])
def test_flags_name_what_happened(graded_batch, student):
    text = flag_text(graded_batch.reports[student])
    mentions = EXPECTED[student][2]
    if not mentions:
        assert text == "", f"honest work must not be flagged: {text!r}"
    for words in mentions:
        assert words in text, f"{student}: {words!r} not in the flags {text!r}"


def test_failed_cells_give_the_real_reason(graded_batch):
    reasons = {s: {c["grade_id"]: c["reason"] for c in r["cells"]} for s, r in graded_batch.reports.items()}
    assert "uint16" in reasons["hidden_failure"]["test-linear-creation"]  # the hidden test's own failure
    assert "Dropout.__init__ is not implemented yet" in reasons["tampered_test"]["test-dropout"]  # restored test ran
    assert "interrupted after 10 s" in reasons["infinite_loop"]["test-sequential"]  # the cause of its NameError
    assert "Dropout" in reasons["sys_exit"]["test-dropout"]
    # the root cause, not the NameError that follows from it
    assert "SyntaxError in your cell 'linear'" in reasons["syntax_error"]["test-linear-creation"]
    assert reasons["not_json"]["test-layer-base"].startswith("not graded: not a valid notebook")


def test_ungradable_submissions_say_why(graded_batch):
    for student in ("os_exit", "not_json", "no_notebook"):
        report = graded_batch.reports[student]
        assert not report["graded"] and report["reason"], report


def test_submitted_files_are_never_changed(graded_batch):
    assert snapshot(graded_batch.course / "submitted") == graded_batch.submitted


def test_huge_output_is_truncated_in_the_autograded_notebook(graded_batch):
    path = graded_batch.course / "autograded" / "huge_output" / "03_layers" / "layers.ipynb"
    assert path.stat().st_size < 1_000_000, "10 MB of print output should have been cut"
    printed = "".join(output.get("text", "") for cell in nbformat.read(path, as_version=4).cells
                      if cell.cell_type == "code" for output in cell.get("outputs", []))
    assert "#" * 99 in printed  # the output is cut, not dropped


def test_demonstration_cells_are_skipped_but_every_graded_cell_runs(graded_batch):
    """Cells tagged skip-when-grading (timing and memory demonstrations) are not run by the
    grader; the graded cells all are."""
    path = graded_batch.course / "autograded" / "correct" / "03_layers" / "layers.ipynb"
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    skipped = [cell for cell in cells if "skip-when-grading" in cell.metadata.get("tags", [])]
    assert len(skipped) == 3 and all(cell.execution_count is None and not cell.outputs for cell in skipped)
    graded = [cell for cell in cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert len(graded) == len(CELLS) and all(cell.execution_count for cell in graded)
