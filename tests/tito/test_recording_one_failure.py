"""The coordinator's recording: one outcome that cannot be stored is that student's
GRADING_ERROR, the others are stored; a bad timestamp never fails the recording; an
unexpected error while grading one submission is that submission's flag (no kernels)."""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config

from tito.coursedir.config import CoursePaths
from tito.grading import engine as grading
from tito.grading.engine import Outcome, Submission
from tito.grading.report import CellResult, FlagKind, GradeReport
from tito.grading.setup import Setup
from tito.workflows.instructor import gradebook

MODULE = "03_layers"


@pytest.fixture
def config(tmp_path) -> Config:
    from nbgrader.api import Gradebook

    from tito.coursedir.converters import speed_up_new_gradebooks

    speed_up_new_gradebooks()  # nbgrader would run the `alembic` command otherwise
    config = Config()
    config.CourseDirectory.root = str(tmp_path / "course")
    config.CourseDirectory.db_url = f"sqlite:///{tmp_path / 'course' / 'gradebook.db'}"
    Path(config.CourseDirectory.root).mkdir()
    with Gradebook(config.CourseDirectory.db_url, "tinytorch") as book:
        book.add_assignment(MODULE)
        book.add_notebook("layers", MODULE)
        book.add_grade_cell("test-linear", "layers", MODULE, max_score=10, cell_type="code")
    return config


def _outcome(student: str, timestamp: str | None = "2026-11-20 10:00:00 UTC") -> Outcome:
    report = GradeReport(student, MODULE, cells=[CellResult("test-linear", 0.0, 10.0, "failed")])
    return Outcome(report, None, timestamp)


def _recorded(config) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(config.CourseDirectory.db_url, "tinytorch") as book:
        return {s.student.id: s.timestamp for s in book.assignment_submissions(MODULE)}


def test_one_outcome_that_cannot_be_stored_does_not_stop_the_others(config, monkeypatch):
    original = gradebook._record_one

    def failing(book, assignment, definition, outcome, penalties):
        if outcome.report.student == "mallory" and outcome.report.graded:  # its zero row can be stored
            raise ValueError("cannot store this one")
        return original(book, assignment, definition, outcome, penalties)

    monkeypatch.setattr(gradebook, "_record_one", failing)
    outcomes = [_outcome("ada"), _outcome("mallory"), _outcome("bob")]
    gradebook.record(config, MODULE, "layers.ipynb", outcomes)
    assert set(_recorded(config)) == {"ada", "bob", "mallory"}  # mallory's row says 0, for the CSV
    mallory = outcomes[1].report
    assert not mallory.graded and mallory.has(FlagKind.GRADING_ERROR) and "cannot store this one" in mallory.reason
    assert outcomes[0].report.flags == [] and outcomes[2].report.flags == []
    stored = gradebook.stored_report(CoursePaths.of(config), MODULE, "mallory")
    assert stored.graded is False and stored.has(FlagKind.GRADING_ERROR)


def test_an_outcome_that_cannot_be_stored_at_all_is_still_reported(config, monkeypatch):
    original = gradebook._record_one

    def failing(book, assignment, definition, outcome, penalties):
        if outcome.report.student == "mallory":
            raise ValueError("never")
        return original(book, assignment, definition, outcome, penalties)

    monkeypatch.setattr(gradebook, "_record_one", failing)
    outcomes = [_outcome("ada"), _outcome("mallory")]
    gradebook.record(config, MODULE, "layers.ipynb", outcomes)
    assert set(_recorded(config)) == {"ada"} and outcomes[1].report.has(FlagKind.GRADING_ERROR)


def test_an_unreachable_database_still_stops_the_run(config, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from tito.errors import TitoError

    def unreachable(*args):
        raise OperationalError("INSERT", {}, Exception("could not connect to server"))

    monkeypatch.setattr(gradebook, "_record_one", unreachable)
    with pytest.raises(TitoError, match="Cannot reach the gradebook"):
        gradebook.record(config, MODULE, "layers.ipynb", [_outcome("ada")])


def test_a_timestamp_nbgrader_cannot_parse_is_recorded_without_a_time(config):
    outcome = _outcome("ada", "last tuesday")
    gradebook.record(config, MODULE, "layers.ipynb", [outcome])
    assert _recorded(config) == {"ada": None}
    assert outcome.report.has(FlagKind.BAD_TIMESTAMP) and outcome.timestamp is None


def test_an_unexpected_grading_error_is_that_submissions_flag(monkeypatch):
    def broken(setup, submission):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(grading, "grade", broken)
    setup = Setup(MODULE, "layers.ipynb", "core.layers", {}, {}, {})
    outcome = grading.grade_or_flag(setup, Submission("ada", b"{}"))
    assert not outcome.report.graded and outcome.report.has(FlagKind.GRADING_ERROR)
    assert "disk on fire" in outcome.report.reason and outcome.autograded is None
