"""The instructor's nbgrader workflow on the course directory `nbgrader/`.

generate: source notebook from src/ → nbgrader generate → checks that the release is safe
          (no solutions, no hidden tests) and that the tests tell right from wrong.
autograde: the coordinator. It reads the submissions, has them graded (this process, local
          worker processes, or a Dask cluster) and alone writes the gradebook and autograded/.
feedback / export: from the gradebook and the stored reports; export also writes Canvas's
          and Moodle's own import files (tito.workflows.instructor.lms).
"""

from __future__ import annotations

import enum
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from tito.course import notebooks
from tito.course.paths import Paths
from tito.course.registry import Module
from tito.coursedir import intake
from tito.coursedir.config import TIMESTAMP_FILE, CoursePaths, load_config
from tito.coursedir.database import check as check_gradebook
from tito.coursedir.database import opened
from tito.coursedir.release import generate as generate_release
from tito.coursedir.release import reference_submission
from tito.errors import TitoError
from tito.fileops import atomic_write_text, file_lock
from tito.grading import feedback as pages
from tito.grading import verdict
from tito.grading.engine import Outcome, Submission, grade, grade_or_flag
from tito.grading.report import Flag, FlagKind, GradeReport
from tito.grading.setup import make_setup, plain_config
from tito.workflows.instructor import csvsafe, distributed, gradebook, lms

BATCH = 20  # outcomes written to the gradebook per transaction
TIMING_FILE = "tito-timing.json"  # beside each autograded notebook: how long grading it took


@dataclass
class GenerateResult:
    release: Path
    reference: GradeReport
    untouched: GradeReport


def _course(paths: Paths, **attributes) -> CoursePaths:
    return CoursePaths.of(load_config(paths), **attributes)


def validate_source(paths: Paths, module: Module, source_path: Path) -> None:
    """`nbgrader validate` on the source notebook: every graded cell must pass."""
    from nbgrader.validator import Validator

    results = Validator(config=load_config(paths)).validate(str(source_path))
    problems = results.get("failed") or results.get("type_changed") or results.get("changed")
    if problems:
        first = problems[0].get("raw_error") or problems[0].get("source", "")
        raise TitoError(f"nbgrader validate fails on the {module.slug} source:\n{first[:800]}",
                        f"Fix {module.source.relative_to(paths.root)} and run generate again.")


def generate(paths: Paths, module: Module, sandboxed: bool = True) -> GenerateResult:
    """Generate the release and prove it: validate, no leaks, reference 100, untouched 0."""
    config = load_config(paths)
    course = CoursePaths.of(config)
    check_gradebook(course.db_url)
    source = notebooks.read_source(module)
    release = generate_release(config, module, source)
    release_path = course.release(module.slug, module.notebook_name)
    validate_source(paths, module, course.source(module.slug, module.notebook_name))
    leaks = notebooks.solution_leaks(source, release)
    stray = [p.name for p in release_path.parent.iterdir() if p.suffix == ".py"]
    if leaks or stray:
        raise TitoError(f"The release of {module.slug} leaks solutions: {(leaks + stray)[:3]}",
                        "Check the ### BEGIN/END markers in the source and CourseDirectory.ignore.")

    setup = make_setup(paths, module, source, include_completed=False, sandboxed=sandboxed)
    reference = grade(setup, _submission("reference", reference_submission(module))).report
    if not reference.full_marks:
        failed = [f"{c.grade_id} ({c.reason})" for c in reference.cells if not c.passed]
        raise TitoError(f"The reference solution of {module.slug} does not score full marks: {failed}",
                        "A graded cell fails on the solution: fix the test or the solution.")
    untouched = grade(setup, _submission("untouched", release)).report
    passing = [c.grade_id for c in untouched.cells if c.score > 0]
    if passing:
        raise TitoError(f"The untouched release of {module.slug} already scores points in {passing}",
                        "Those cells cannot tell a right answer from an empty one: strengthen them.")
    return GenerateResult(release_path, reference, untouched)


def _submission(student: str, notebook) -> Submission:
    return Submission(student, notebooks.dumps(notebook).encode("utf-8"))


def ensure_generated(paths: Paths, module: Module) -> None:
    course = _course(paths)
    if not course.release(module.slug, module.notebook_name).is_file():
        raise TitoError(f"{module.slug} has not been generated in {course.root}.",
                        f"Run `tito nbgrader generate {module.slug}` first.")


# -- autograde: the coordinator ----------------------------------------------------------------------
@dataclass
class AutogradeResult:
    reports: list[GradeReport]
    waited_for: str = ""  # the other run this one waited for, if any
    write_seconds: float = 0.0  # time spent in gradebook transactions
    seconds: dict[str, float] = field(default_factory=dict)  # student -> grading time (on its worker)


@dataclass
class Timed:
    """An outcome and the time its grading took, measured where it ran."""

    outcome: Outcome
    seconds: float


def grade_timed(setup, submission: Submission) -> Timed:
    """`grade_or_flag`, timed: what the workers run for autograde."""
    started = time.perf_counter()
    outcome = grade_or_flag(setup, submission)
    return Timed(outcome, time.perf_counter() - started)


def read_submission(course: CoursePaths, module: Module, student: str,
                    limits: intake.IntakeLimits = intake.IntakeLimits()) -> Submission:
    """A student's submission, read through the intake (read only; submitted/ is never
    written): what it refused and why, a bad timestamp and an odd id become flags."""
    found = intake.read_submission(course.submitted(student, module.slug), module.notebook_name, limits,
                                   top=course.submitted_root)
    refusal = Flag(FlagKind.REFUSED_FILE, found.notebook_problem) if found.notebook_refused else None
    return Submission(student, found.notebook, found.timestamp.text, found.other_notebooks, found.files,
                      verdict.intake_flags(student, found), refusal)


def _read_or_flag(course: CoursePaths, module: Module, student: str, limits: intake.IntakeLimits) -> Submission:
    """read_submission, where an unexpected error is this student's GRADING_ERROR (never the batch's)."""
    try:
        return read_submission(course, module, student, limits)
    except Exception as error:  # noqa: BLE001  (one submission's problem: reported, the batch goes on)
        return Submission(student, None, refusal=Flag(
            FlagKind.GRADING_ERROR, f"the submission could not be read: {type(error).__name__}: {error}"[:300]))


def select_students(course: CoursePaths, module: Module, wanted: list[str] | None) -> list[str]:
    everyone = course.submitted_students(module.slug)
    where = course.submitted_root
    if wanted:
        unknown = [s for s in wanted if s not in everyone]
        if unknown:
            raise TitoError(f"No submission of {module.slug} by {', '.join(repr(s) for s in unknown)} in {where}.",
                            f"Submissions go in {where}/<student>/{module.slug}/{module.notebook_name}.")
        return list(dict.fromkeys(wanted))
    if not everyone:
        raise TitoError(f"No submissions of {module.slug} in {where}.",
                        f"Put them in {where}/<student>/{module.slug}/{module.notebook_name}.")
    return everyone


def autograde(paths: Paths, module: Module, students: list[str] | None = None, *, jobs: int | None = None,
              scheduler: str | distributed.Cluster | None = None, sandboxed: bool = True,
              progress: Callable[[GradeReport], None] | None = None,
              waiting: Callable[[str], None] | None = None) -> AutogradeResult:
    """Grade submissions of `module` and record them. One run per course and module at a
    time: a second run waits for the first (and says so through `waiting`)."""
    ensure_generated(paths, module)
    config = load_config(paths)
    course = CoursePaths.of(config)
    check_gradebook(course.db_url)
    chosen = select_students(course, module, students)
    lock = course.root / f".tito-autograde-{module.slug}.lock"
    result = AutogradeResult([])
    with file_lock(lock, wait=False) as free:
        if not free:
            result.waited_for = _lock_owner(lock)
            if waiting:
                waiting(result.waited_for)
    with file_lock(lock):
        source = nbformat.read(course.source(module.slug, module.notebook_name), as_version=4)
        setup = make_setup(paths, module, source, include_completed=False, sandboxed=sandboxed)
        limits = intake.SubmissionIntake(config=config).limits()
        submissions = [_read_or_flag(course, module, student, limits) for student in chosen]
        pending: list[Outcome] = []
        for _, timed in _flag_open_cluster(scheduler, distributed.run(
                grade_timed, setup, submissions, jobs=jobs or default_jobs(), scheduler=scheduler,
                key=lambda s: s.student)):
            outcome = timed.outcome
            pending.append(outcome)
            result.reports.append(outcome.report)
            result.seconds[outcome.report.student] = timed.seconds
            if progress:
                progress(outcome.report)
            if len(pending) >= BATCH:
                result.write_seconds += _record(config, course, module, pending, result.seconds)
                pending = []
        if pending:
            result.write_seconds += _record(config, course, module, pending, result.seconds)
    order = {student: index for index, student in enumerate(chosen)}
    result.reports.sort(key=lambda report: order[report.student])
    return result


def _record(config, course: CoursePaths, module: Module, outcomes: list[Outcome], seconds: dict[str, float]) -> float:
    """Record a batch of outcomes, then each one's grading time beside its autograded notebook."""
    spent = gradebook.record(config, module.slug, module.notebook_name, outcomes)
    for outcome in outcomes:
        student = outcome.report.student
        path = course.autograded(student, module.slug, TIMING_FILE)
        try:
            atomic_write_text(path, json.dumps({"seconds": round(seconds[student], 3)}) + "\n")
        except OSError:  # a time is a nicety of the class report: never a reason to stop the batch
            pass
    return spent


def grading_seconds(course: CoursePaths, module_slug: str, student: str) -> float | None:
    """How long grading `student`'s submission took (autograde's record), or None."""
    try:
        text = course.autograded(student, module_slug, TIMING_FILE).read_text(encoding="utf-8")
        seconds = json.loads(text)["seconds"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(seconds) if isinstance(seconds, (int, float)) and seconds >= 0 else None


def _flag_open_cluster(scheduler, results: Iterator) -> Iterator:
    """The coordinator marks every outcome graded through --insecure-cluster (scores unchanged)."""
    open_cluster = isinstance(scheduler, distributed.Cluster) and scheduler.insecure and scheduler.is_open
    for item, timed in results:
        if open_cluster:
            timed.outcome.report.flag(FlagKind.INSECURE_CLUSTER, f"graded on the open Dask cluster "
                                      f"{scheduler.address} (tcp://, no TLS: --insecure-cluster)")
        yield item, timed


def _lock_owner(lock: Path) -> str:
    try:
        pid = lock.read_text().strip()
    except OSError:
        pid = ""
    return f"another autograde run (process {pid})" if pid else "another autograde run"


def default_jobs() -> int:
    """One worker per core: grading is mostly the kernel's CPU time."""
    return max(1, os.cpu_count() or 1)


# -- feedback ----------------------------------------------------------------------------------------
def _feedback_jobs(course: CoursePaths, module: Module, students: list[str]) -> list[pages.FeedbackJob]:
    """GetGrades, done once for all students in one gradebook session: each autograded
    notebook with its grades attached, or the stored reason it could not be graded."""
    from nbgrader import utils
    from nbgrader.api import MissingEntry

    jobs = []
    notebook_id = Path(module.notebook_name).stem
    with opened(course.db_url) as book:
        max_score = book.find_assignment(module.slug).max_score
        for student in students:
            path = course.autograded(student, module.slug, module.notebook_name)
            names = {"student": student, "assignment": module.slug, "notebook": notebook_id}
            if not path.is_file():
                stored = gradebook.stored_report(course, module.slug, student)
                if stored is not None and not stored.graded:
                    jobs.append(pages.FeedbackJob(student, None, names | {"max_score": max_score},
                                                  stored.reason or "it could not be graded"))
                continue
            try:
                submitted = book.find_submission_notebook(notebook_id, module.slug, student)
            except MissingEntry:
                continue
            grades = {grade.name: grade for grade in submitted.grades}
            comments = {comment.name: comment for comment in submitted.comments}
            notebook = nbformat.read(path, as_version=4)
            for cell in notebook.cells:
                name = cell.metadata.get("nbgrader", {}).get("grade_id")
                if (utils.is_solution(cell) or utils.is_task(cell)) and name in comments:
                    cell.metadata.nbgrader["comment"] = comments[name].comment
                if (utils.is_grade(cell) or utils.is_task(cell)) and name in grades:
                    cell.metadata.nbgrader["score"] = grades[name].score
                    cell.metadata.nbgrader["points"] = grades[name].max_score
            penalty = submitted.late_submission_penalty or 0
            stored = gradebook.stored_report(course, module.slug, student)
            resources = names | {"score": submitted.score - penalty, "max_score": submitted.max_score,
                                 "late_penalty": penalty,  # and the reasons of the terminal table:
                                 "reasons": {c.grade_id: c.reason for c in stored.cells} if stored else {}}
            jobs.append(pages.FeedbackJob(student, nbformat.writes(notebook), resources))
    return jobs


def feedback(paths: Paths, module: Module, students: list[str] | None = None, *, jobs: int | None = None,
             scheduler: str | distributed.Cluster | None = None) -> list[Path]:
    """A feedback page for every autograded submission, ungradable ones included (a page
    saying why). Pages are rendered by workers and written here, atomically."""
    ensure_generated(paths, module)
    config = load_config(paths)
    course = CoursePaths.of(config)
    autograded = course.root / course.coursedir.autograded_directory
    everyone = sorted(p.parent.name for p in autograded.glob(f"*/{module.slug}")) if autograded.is_dir() else []
    chosen = [s for s in everyone if not students or s in students]
    work = _feedback_jobs(course, module, chosen)
    if not work:
        raise TitoError(f"No autograded submissions of {module.slug} to write feedback for.",
                        f"Run `tito nbgrader autograde {module.slug}` first.")
    written = []
    plain = plain_config(config)
    for job, page in distributed.run(pages.render, plain, work, jobs=jobs or default_jobs(), scheduler=scheduler,
                                     key=lambda j: j.student):
        folder = course.feedback(job.student, module.slug)
        target = folder / module.notebook_name.replace(".ipynb", ".html")
        atomic_write_text(target, page)
        stamp = course.autograded(job.student, module.slug, TIMESTAMP_FILE)
        if stamp.is_file():
            atomic_write_text(folder / TIMESTAMP_FILE, stamp.read_text(encoding="utf-8"))
        written.append(target)
    return sorted(written)


# -- export ------------------------------------------------------------------------------------------
CSV_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email", "raw_score",
               "late_submission_penalty", "score", "max_score", "reason", "flags"]


class ExportFormat(str, enum.Enum):  # noqa: UP042  (the value is the --format option)
    NBGRADER = "nbgrader"  # nbgrader's CSV, with reason and flags
    CANVAS = "canvas"  # Canvas's gradebook import
    MOODLE = "moodle"  # Moodle's grading worksheet


def late_note(submission) -> str:
    """'' or what a late submission (nbgrader's `total_seconds_late`) is, for the flags to review."""
    seconds = submission.total_seconds_late
    if not seconds or seconds <= 0:
        return ""
    return (f"late: submitted {submission.timestamp:%Y-%m-%d %H:%M:%S} UTC, "
            f"{_duration(seconds)} after the due date")


def _duration(seconds: float) -> str:
    minutes, _ = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts) or f"{int(round(seconds))} s"


def _flags_text(stored: GradeReport | None, late: str) -> str:
    flags = [f"{flag.kind.value}: {flag.message}" for flag in stored.flags] if stored is not None else []
    return "; ".join(flags + [late] * bool(late))


def grades_csv(paths: Paths) -> str:
    """nbgrader's CSV export (every assignment × student in the gradebook), with two more
    columns: why a submission could not be graded, and the flags for review (a late
    submission says so there too). Every cell goes through `csvsafe.writer`: ids, names,
    reasons and flags are student text, never a formula."""
    from nbgrader.api import MissingEntry

    course = _course(paths)
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    with opened(course.db_url) as book:
        for assignment in book.assignments:
            for student in sorted(book.students, key=lambda s: s.id):
                row = {"assignment": assignment.name, "duedate": assignment.duedate or "", "student_id": student.id,
                       "last_name": student.last_name or "", "first_name": student.first_name or "",
                       "email": student.email or "", "max_score": assignment.max_score, "reason": "", "flags": ""}
                try:
                    submission = book.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row |= {"timestamp": "", "raw_score": 0.0, "late_submission_penalty": 0.0, "score": 0.0,
                            "reason": "no submission"}
                else:
                    penalty = submission.late_submission_penalty
                    row |= {"timestamp": submission.timestamp or "", "raw_score": submission.score,
                            "late_submission_penalty": penalty, "score": max(0.0, submission.score - penalty)}
                    stored = gradebook.stored_report(course, assignment.name, student.id)
                    row["reason"] = stored.reason if stored is not None else ""
                    row["flags"] = _flags_text(stored, late_note(submission))
                writer.writerow(row[column] for column in CSV_COLUMNS)
    return buffer.getvalue()


@dataclass
class ExportResult:
    destination: Path
    format: ExportFormat
    module: str = ""  # the assignment (LMS formats: one)
    rows: int = 0  # students written
    late: list[str] = field(default_factory=list)  # students written whose submission is late
    left_out: list[str] = field(default_factory=list)  # "student: why" (no id in this LMS, not graded yet)


def lms_rows(paths: Paths, module: Module, target: lms.Lms) -> tuple[list[lms.GradeRow], list[str]]:
    """The grade of every student of `module` who has an id in `target` (kept by collect, or
    the gradebook's `lms_user_id`), and the students left out, each with why."""
    from nbgrader.api import MissingEntry

    course = _course(paths)
    roster = lms.load_roster(course, module.slug)
    rows, left_out = [], []
    with opened(course.db_url) as book:
        try:
            max_score = book.find_assignment(module.slug).max_score
        except MissingEntry as error:
            raise TitoError(f"{module.slug} is not in the gradebook.",
                            f"Run `tito nbgrader generate {module.slug}` first.") from error
        students = {student.id: student for student in book.students}
        for student_id in sorted(set(students) | set(roster)):
            identity = roster.get(student_id)
            student = students.get(student_id)
            if identity is not None and identity.lms is not target:
                left_out.append(f"{student_id}: collected from {identity.lms.title}, not {target.title}")
                continue
            lms_id = identity.lms_id if identity else (student.lms_user_id if student else None)
            try:
                submission = book.find_submission(module.slug, student_id)
            except MissingEntry:
                submission = None
            if submission is None:
                if identity is not None:
                    left_out.append(f"{student_id}: collected, not autograded yet")
                continue
            if not lms_id:
                left_out.append(f"{student_id}: no {target.title} id (collect it from a {target.title} download, "
                                "or set lms_user_id in the gradebook)")
                continue
            rows.append(_grade_row(course, module, student_id, student, identity, lms_id, submission, max_score))
    return rows, left_out


def _grade_row(course: CoursePaths, module: Module, student_id: str, student, identity, lms_id: str, submission,
               max_score: float) -> lms.GradeRow:
    penalty = submission.late_submission_penalty or 0.0
    stored = gradebook.stored_report(course, module.slug, student_id)
    notes = [f"not graded: {stored.reason}"] if stored is not None and stored.reason else []
    notes += [f"{flag.kind.value}: {flag.message}" for flag in stored.flags] if stored is not None else []
    late = late_note(submission)
    if late:
        notes.append(late)
    names = [student.last_name, student.first_name] if student is not None else []
    name = ", ".join(part for part in names if part) or (identity.name if identity else "")
    return lms.GradeRow(student_id, name, lms_id, max(0.0, submission.score - penalty), max_score,
                        submission.timestamp, tuple(notes))


def only_assignment(paths: Paths) -> str:
    """The one assignment of the gradebook (an LMS file holds one), or an error asking which."""
    course = _course(paths)
    with opened(course.db_url) as book:
        names = [assignment.name for assignment in book.assignments]
    if len(names) != 1:
        raise TitoError("Which assignment? A Canvas or Moodle grade file holds one, and the gradebook has "
                        + (", ".join(names) if names else "none") + ".",
                        "Add --module, e.g. --module 03_layers.")
    return names[0]


def export_grades(paths: Paths, destination: Path, format: ExportFormat = ExportFormat.NBGRADER,
                  module: Module | None = None, column: str | None = None, force: bool = False) -> ExportResult:
    """Write the grades in `format` to `destination` (checked first, written atomically):
    nbgrader's CSV of every assignment, or one assignment in Canvas's or Moodle's import format."""
    check_destination(destination, force)
    if format is ExportFormat.NBGRADER:
        write_text(destination, grades_csv(paths))
        course = _course(paths)
        with opened(course.db_url) as book:
            count = len(book.students)
        return ExportResult(destination, format, rows=count)
    if module is None:
        from tito.course.registry import resolve

        module = resolve(paths, only_assignment(paths))
    target = lms.Lms(format.value)
    rows, left_out = lms_rows(paths, module, target)
    if target is lms.Lms.CANVAS:
        text = lms.canvas_csv(rows, column or module.slug)
    else:
        text = lms.moodle_csv(rows, datetime.now(UTC).replace(tzinfo=None))
    write_text(destination, text)
    late = [row.student for row in rows if any(note.startswith("late:") for note in row.notes)]
    return ExportResult(destination, format, module.slug, len(rows), late, left_out)


def export_csv(paths: Paths, destination: Path, force: bool = False) -> Path:
    """Write nbgrader's grades CSV to `destination`: never over an existing file without
    `force`, and never half-written (a temporary file in the same folder, then a rename)."""
    return export_grades(paths, destination, force=force).destination


def check_destination(destination: Path, force: bool) -> None:
    """A file tito may write its output to: not a folder, in a writable folder that exists,
    and not an existing file unless `force`."""
    if destination.is_dir():
        raise TitoError(f"{destination} is a folder: give a file name for the grades.",
                        f"For example: --to {destination / 'grades.csv'}")
    if not destination.parent.is_dir():
        raise TitoError(f"Cannot write {destination}: the folder {destination.parent} does not exist.",
                        "Create it first, or give --to a path in an existing folder.")
    if destination.exists() and not force:
        raise TitoError(f"{destination} already exists; it was left as it is.",
                        "Give another file name, or add --force to replace it.")
    if not os.access(destination.parent, os.W_OK):
        raise TitoError(f"Cannot write in {destination.parent}: permission denied.",
                        "Choose a folder you can write to.")


def write_text(destination: Path, text: str) -> None:
    """`text` to `destination`, atomically; a failure is a TitoError naming the path."""
    try:
        atomic_write_text(destination, text)
    except OSError as error:
        raise TitoError(f"Cannot write {destination}: {error.strerror or error}.",
                        "Choose a path you can write to.") from error
