"""Recording outcomes in the instructor's gradebook and course folder: the coordinator is
their only writer.

Workers grade in private scratch courses and return outcomes; `record` stores them the way
nbgrader's own grade-saving steps (Autograde's submission bookkeeping, SaveAutoGrades,
AssignLatePenalties) would, but in one transaction per batch, and writes each student's
`autograded/` folder atomically, so that nbgrader's feedback, formgrader and export see an
ordinary nbgrader course.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import nbformat

from tito.coursedir import intake
from tito.coursedir.config import TIMESTAMP_FILE, CoursePaths
from tito.coursedir.database import opened, shown_url
from tito.errors import TitoError
from tito.fileops import atomic_write_bytes, atomic_write_text
from tito.grading.engine import Outcome
from tito.grading.report import CellResult, FlagKind, GradeReport, mark_for_review


def record(config, module_slug: str, notebook_name: str, outcomes: list[Outcome]) -> float:
    """Store `outcomes` in the gradebook in one transaction and
    write their autograded folders; returns the seconds the database writes took. An
    outcome that cannot be stored (not a database that cannot be reached: that stops the
    run) becomes its student's GRADING_ERROR, and the others are stored one by one."""
    course = CoursePaths.of(config)
    started = time.perf_counter()
    try:
        _store(config, course, module_slug, notebook_name, outcomes)
    except _OutcomeNotStored:
        for outcome in outcomes:
            try:
                _store(config, course, module_slug, notebook_name, [outcome])
            except _OutcomeNotStored as failure:
                _not_recorded(outcome, f"its grades could not be recorded: {failure}")
                with contextlib.suppress(_OutcomeNotStored):  # a row that says 0, if even that can be stored
                    _store(config, course, module_slug, notebook_name, [outcome])
    seconds = time.perf_counter() - started
    for outcome in outcomes:
        try:
            write_autograded(course, module_slug, notebook_name, outcome)
        except OSError as error:
            _not_recorded(outcome, f"its autograded folder could not be written: {error.strerror or error}")
    return seconds


class _OutcomeNotStored(Exception):
    """One outcome could not be stored in the gradebook (its message says why)."""


def _unreachable(error: Exception) -> bool:
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

    return isinstance(error, (OperationalError, InterfaceError, DisconnectionError, TitoError))


def _store(config, course, module_slug: str, notebook_name: str, outcomes: list) -> None:
    from nbgrader.api import MissingEntry

    with opened(course.db_url) as gradebook:
        try:
            assignment = gradebook.find_assignment(module_slug)
        except MissingEntry as error:
            raise TitoError(f"{module_slug} is not in the gradebook {shown_url(course.db_url)}.",
                            f"Run `tito nbgrader generate {module_slug}` first.") from error
        definition = next(n for n in assignment.notebooks if n.name == Path(notebook_name).stem)
        penalties = _late_penalty_plugin(config)
        for outcome in outcomes:
            try:
                _record_one(gradebook, assignment, definition, outcome, penalties)
            except Exception as error:
                if _unreachable(error):
                    raise
                gradebook.db.rollback()
                raise _OutcomeNotStored(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}") from error
        gradebook.db.commit()


def _not_recorded(outcome, reason: str) -> None:
    """The outcome of a submission whose grades could not be stored: 0, and why."""
    report = outcome.report
    report.graded = False
    report.flag(FlagKind.GRADING_ERROR, reason)
    report.cells = [CellResult(c.grade_id, 0.0, c.max_score, "not graded: " + reason) for c in report.cells]
    outcome.autograded = None
    outcome.timestamp = None


def submission_time(outcome):
    """The submission time to record (naive UTC), or None: a timestamp nbgrader cannot
    parse is that student's flag (the intake's), never an error of the recording."""
    if not outcome.timestamp:
        return None
    try:
        return intake.parse_utc(outcome.timestamp)
    except Exception:  # noqa: BLE001  (dateutil raises several types)
        if not outcome.report.has(FlagKind.BAD_TIMESTAMP):
            outcome.report.flag(FlagKind.BAD_TIMESTAMP, f"timestamp {outcome.timestamp[:40]!r} is not a time: "
                                "recorded with no submission time")
        outcome.timestamp = None
        return None


def _late_penalty_plugin(config):
    from nbgrader.preprocessors import AssignLatePenalties

    assigner = AssignLatePenalties(config=config)
    assigner.init_plugin()
    return assigner


def _record_one(gradebook, assignment, definition, outcome, penalties) -> None:
    from nbgrader import utils
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    db = gradebook.db
    student_id = outcome.report.student
    student = db.get(Student, student_id)
    if student is None:
        student = Student(id=student_id)
        db.add(student)
    submission = db.query(SubmittedAssignment).filter_by(assignment=assignment, student=student).one_or_none()
    if submission is None:  # mirror the assignment's structure, as nbgrader's add_submission does
        with db.no_autoflush:
            submission = SubmittedAssignment(assignment=assignment, student=student)
            for notebook in assignment.notebooks:
                submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
                for cell in notebook.grade_cells:
                    Grade(cell=cell, notebook=submitted)
                for cell in [*notebook.solution_cells, *notebook.task_cells]:
                    Comment(cell=cell, notebook=submitted)
                for cell in notebook.task_cells:
                    Grade(cell=cell, notebook=submitted)
            db.add(submission)
        db.flush()
    submission.timestamp = submission_time(outcome)
    notebook = next(n for n in submission.notebooks if n.notebook_id == definition.id)
    grades = {grade.cell.name: grade for grade in notebook.grades}
    comments = {comment.cell.name: comment for comment in notebook.comments}
    scores = {cell.grade_id: cell.score for cell in outcome.report.cells}  # the verdict's, computed once
    for name, grade in grades.items():  # SaveAutoGrades._add_score; ungradable: zero, as nbgrader does
        grade.auto_score = scores.get(name, 0.0)
        grade.needs_manual_grade = grade.manual_score is not None
    cells = nbformat.reads(outcome.autograded, as_version=4).cells if outcome.autograded is not None else []
    # the flags' comment goes to the first answer cell (in notebook order; the gradebook's otherwise)
    solutions = [c.metadata.nbgrader["grade_id"] for c in cells if utils.is_solution(c)] or \
        [cell.name for cell in definition.solution_cells]
    for cell in cells:
        name = cell.metadata.get("nbgrader", {}).get("grade_id")
        if (utils.is_solution(cell) or utils.is_task(cell)) and name in comments:  # SaveAutoGrades._add_comment
            unchanged = cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell)
            comments[name].auto_comment = "No response." if unchanged and not utils.is_task(cell) else None
    mark_for_review(notebook, outcome.report, solutions)  # formgrader's "Flagged?" column and comment box
    db.flush()
    notebook.late_submission_penalty = None  # AssignLatePenalties
    if submission.total_seconds_late > 0:
        penalty = penalties.plugin_inst.late_submission_penalty(student_id, notebook.score,
                                                                submission.total_seconds_late)
        if penalty is not None:
            notebook.late_submission_penalty = penalties._check_late_penalty(notebook, penalty)


def write_autograded(course: CoursePaths, module_slug: str, notebook_name: str, outcome: Outcome) -> None:
    """The student's autograded/ folder: the notebook, timestamp.txt and tito's report, each
    written atomically; an ungradable submission keeps only its report."""
    folder = course.autograded(outcome.report.student, module_slug)
    atomic_write_text(course.report(outcome.report.student, module_slug),
                      json.dumps(outcome.report.to_dict(), indent=2) + "\n")
    if outcome.timestamp:
        atomic_write_text(folder / TIMESTAMP_FILE, outcome.timestamp)
    target = folder / notebook_name
    if outcome.autograded is None:
        target.unlink(missing_ok=True)
    else:
        atomic_write_bytes(target, outcome.autograded.encode("utf-8"))


def stored_report(course: CoursePaths, module_slug: str, student: str) -> GradeReport | None:
    """The report autograde stored for `student`, or None (none, or unreadable)."""
    try:
        return GradeReport.from_dict(json.loads(course.report(student, module_slug).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
