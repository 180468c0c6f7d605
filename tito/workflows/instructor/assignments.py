"""The instructor's nbgrader workflow on the course directory `nbgrader/`.

generate: source notebook from src/ → nbgrader generate → checks that the release is safe
          (no solutions, no hidden tests) and that the tests tell right from wrong.
autograde: the coordinator. It reads the submissions, has them graded (this process, local
          worker processes, or a Dask cluster) and alone writes the gradebook and autograded/.
feedback / export: from the gradebook and the stored reports.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from tito.grading.engine import Outcome, Submission, grade, grade_or_flag
from tito.grading.report import Flag, FlagKind, GradeReport
from tito.grading.setup import make_setup, plain_config
from tito.workflows.instructor import csvsafe, distributed, gradebook

BATCH = 20  # outcomes written to the gradebook per transaction


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


def _ensure_generated(paths: Paths, module: Module) -> None:
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


def read_submission(course: CoursePaths, module: Module, student: str,
                    limits: intake.IntakeLimits = intake.IntakeLimits()) -> Submission:
    """A student's submission, read through the intake (read only; submitted/ is never
    written): what it refused and why, a bad timestamp and an odd id become flags."""
    found = intake.read_submission(course.submitted(student, module.slug), module.notebook_name, limits,
                                   top=course.submitted_root)
    flags = []
    odd = intake.odd_student_id(student)
    if odd:
        flags.append(Flag(FlagKind.ODD_STUDENT_ID, odd + ": check it where the id is used (CSV, LMS)"))
    if found.refused:
        flags.append(Flag(FlagKind.REFUSED_FILE, "left out of grading: " + found.refused_text()))
    refusal = Flag(FlagKind.REFUSED_FILE, found.notebook_problem) if found.notebook_refused else None
    if found.timestamp.problem and not found.notebook_refused:
        flags.append(Flag(FlagKind.BAD_TIMESTAMP, found.timestamp.problem + ": graded with no submission time "
                          "(so not late)"))
    return Submission(student, found.notebook, found.timestamp.text, found.other_notebooks, found.files,
                              flags, refusal)


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
    _ensure_generated(paths, module)
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
        for _, outcome in _flag_open_cluster(scheduler, distributed.run(
                grade_or_flag, setup, submissions, jobs=jobs or default_jobs(), scheduler=scheduler,
                key=lambda s: s.student)):
            pending.append(outcome)
            result.reports.append(outcome.report)
            if progress:
                progress(outcome.report)
            if len(pending) >= BATCH:
                result.write_seconds += gradebook.record(config, module.slug, module.notebook_name, pending)
                pending = []
        if pending:
            result.write_seconds += gradebook.record(config, module.slug, module.notebook_name, pending)
    order = {student: index for index, student in enumerate(chosen)}
    result.reports.sort(key=lambda report: order[report.student])
    return result


def _flag_open_cluster(scheduler, results: Iterator) -> Iterator:
    """The coordinator marks every outcome graded through --insecure-cluster (scores unchanged)."""
    open_cluster = isinstance(scheduler, distributed.Cluster) and scheduler.insecure and scheduler.is_open
    for item, outcome in results:
        if open_cluster:
            outcome.report.flag(FlagKind.INSECURE_CLUSTER, f"graded on the open Dask cluster {scheduler.address} "
                                "(tcp://, no TLS: --insecure-cluster)")
        yield item, outcome


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
            resources = names | {"score": submitted.score - penalty, "max_score": submitted.max_score,
                                 "late_penalty": penalty}
            jobs.append(pages.FeedbackJob(student, nbformat.writes(notebook), resources))
    return jobs


def feedback(paths: Paths, module: Module, students: list[str] | None = None, *, jobs: int | None = None,
             scheduler: str | distributed.Cluster | None = None) -> list[Path]:
    """A feedback page for every autograded submission, ungradable ones included (a page
    saying why). Pages are rendered by workers and written here, atomically."""
    _ensure_generated(paths, module)
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


def grades_csv(paths: Paths) -> str:
    """nbgrader's CSV export (every assignment × student in the gradebook), with two more
    columns: why a submission could not be graded, and the flags for review. Every cell goes
    through `csvsafe.writer`: ids, names, reasons and flags are student text, never a formula."""
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
                    if stored is not None:
                        row["reason"] = stored.reason
                        row["flags"] = "; ".join(f"{flag.kind.value}: {flag.message}" for flag in stored.flags)
                writer.writerow(row[column] for column in CSV_COLUMNS)
    return buffer.getvalue()


def export_csv(paths: Paths, destination: Path, force: bool = False) -> Path:
    """Write the grades CSV to `destination`: never over an existing file without `force`,
    and never half-written (a temporary file in the same folder, then a rename)."""
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
    text = grades_csv(paths)
    try:
        atomic_write_text(destination, text)
    except OSError as error:
        raise TitoError(f"Cannot write {destination}: {error.strerror or error}.",
                        "Choose a path you can write to.") from error
    return destination
