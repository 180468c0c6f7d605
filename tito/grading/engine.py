"""The one grading engine, for students (`tito module test`) and instructors (`tito nbgrader`):
one submission in, one outcome out.

Grading one submission (`grade`) runs nbgrader's own Autograde converter on a private
scratch course generated from the same source: it restores edited or deleted locked cells
from that course's gradebook, executes the notebook in a sandboxed kernel with a per-cell
timeout, re-checks every graded test in the clean room, and scores each graded cell (the
verdict). It needs nothing but a `Setup` and the submission's bytes, so it runs the same in
this process, in a local worker process or on a Dask worker. It never touches the
instructor's course directory: recording grades there is the coordinator's job.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from tito.coursedir.config import TIMESTAMP_FILE, CoursePaths, scratch_overrides
from tito.coursedir.converters import run_converter
from tito.grading import cleanroom, verdict
from tito.grading.pipeline import ENGINE_PREPROCESSORS
from tito.grading.report import CellResult, Flag, FlagKind, GradeReport
from tito.grading.setup import Setup, materialize, run_folder, write_files
from tito.sandbox import bwrap as sandbox
from tito.sandbox import limits
from tito.sandbox.site import RUNNER

SCRATCH_STUDENT = "student"  # the student id inside a scratch course


@dataclass
class Submission:
    """One student's submission, read by the coordinator (workers never read the course)."""

    student: str
    notebook: bytes | None  # None: the expected notebook is not in the submission folder
    timestamp: str | None = None
    found: list[str] = field(default_factory=list)  # other notebooks in the folder
    files: dict[str, bytes] = field(default_factory=dict)  # other files beside the notebook
    flags: list[Flag] = field(default_factory=list)  # what reading it found (tito.intake): refused files...
    refusal: Flag | None = None  # why the notebook itself was not read (it is then None)


@dataclass
class Outcome:
    report: GradeReport
    autograded: str | None  # the autograded notebook (nbformat JSON), None if ungradable
    timestamp: str | None = None


class Watchdog:
    """Kills the sandboxed programs and kernels started during one submission's grading
    once it has run `limit` seconds, and keeps killing any started after that."""

    def __init__(self, limit: float):
        self.limit, self.step = limit, ""
        self._before = set(sandbox.RUNNING)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @property
    def fired(self) -> bool:
        return bool(self.step)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        if self._done.wait(self.limit):
            return
        while True:
            started = [p for p in list(sandbox.RUNNING) if p not in self._before]
            if not self.step:  # the clean room may run beside the kernel: the kernel is then the late one
                clean_rooms = [p for p in started if RUNNER in " ".join(map(str, p.args))]
                self.step = "clean room" if clean_rooms and len(clean_rooms) == len(started) else "notebook run"
            for process in started:
                with contextlib.suppress(OSError):
                    process.kill()  # bwrap's --die-with-parent and PID namespace take its whole tree down
            if self._done.wait(0.5):  # a kernel that was still starting registers itself a little later
                return


def grade(setup: Setup, submission: Submission) -> Outcome:
    """Grade one submission with nbgrader in a private scratch course; never raises for a
    bad submission (the report says what was wrong). At the submission's total limit its
    kernel and clean room are killed."""
    with run_folder():
        template, site = materialize(setup)
        with tempfile.TemporaryDirectory(prefix="tito-grade-") as scratch, \
                Watchdog(setup.submission_timeout) as watchdog:
            root = Path(scratch) / "course"
            shutil.copytree(template, root)
            try:
                outcome = _grade_in(root, site, setup, submission)
            finally:
                cleanroom.discard_early()  # a clean room started beside a notebook run that failed
    if watchdog.fired:
        _past_deadline(outcome.report, watchdog)
    return outcome


def _past_deadline(report: GradeReport, watchdog: Watchdog) -> None:
    """The report of a submission that was stopped at its total limit."""
    message = f"the submission ran past its total limit of {watchdog.limit:g} s (step: {watchdog.step})"
    report.flags = [flag for flag in report.flags if flag.kind != FlagKind.KERNEL_DIED]  # we killed it
    report.flag(FlagKind.TIMEOUT, message)
    if not report.graded:
        report.flags = [flag for flag in report.flags if not flag.message.startswith("nbgrader could not grade")]
        report.cells = [CellResult(c.grade_id, 0.0, c.max_score, "not graded: " + message) for c in report.cells]


def _config(setup: Setup, root: Path, site: Path):
    from traitlets.config import Config

    config = Config(json.loads(json.dumps(setup.config)))
    config.merge(scratch_overrides(root))
    config.TinyTorchSandbox.site = str(site)
    config.TinyTorchSandbox.enabled = setup.sandboxed
    config.CleanRoomCheck.export_target = setup.export_target
    config.Autograde.autograde_preprocessors = ENGINE_PREPROCESSORS
    config.Autograde.create_student = True
    return config


def _grade_in(root: Path, site: Path, setup: Setup, submission: Submission) -> Outcome:
    from nbgrader.converters import Autograde

    config = _config(setup, root, site)
    # nbgrader globs and strips the student id: the scratch course uses a plain one
    course = CoursePaths.of(config, assignment_id=setup.module, student_id=SCRATCH_STUDENT)
    release = nbformat.read(course.release(setup.module, setup.notebook), as_version=4)
    report = GradeReport(submission.student, setup.module, sandboxed=setup.sandboxed)
    if not setup.sandboxed:
        report.flag(FlagKind.UNSANDBOXED, "graded with --no-sandbox: student code ran without isolation")
    report.flags.extend(submission.flags)
    limits.EVENTS.clear()  # the limits reached by this submission's runs, from here on
    verdict.flag_missing_limits(report)
    submitted, problem = _read_submission(submission, setup.notebook)
    if submitted is None:
        report.graded = False
        report.flags.append(submission.refusal or Flag(FlagKind.UNREADABLE, problem))
        verdict.not_graded(report, release, problem)
        return Outcome(report, None, submission.timestamp)

    folder = course.submitted(SCRATCH_STUDENT, setup.module)
    folder.mkdir(parents=True, exist_ok=True)
    write_files(submission.files, folder)
    (folder / setup.notebook).write_bytes(submission.notebook)
    if submission.timestamp:
        (folder / TIMESTAMP_FILE).write_text(submission.timestamp)
    verdict.static_flags(report, submitted, release, setup)
    app = Autograde(coursedir=course.coursedir, config=config)
    app.force = True
    result = run_converter(app)
    autograded_path = course.autograded(SCRATCH_STUDENT, setup.module, setup.notebook)
    autograded = nbformat.read(autograded_path, as_version=4) if autograded_path.is_file() else None
    if not result.success or autograded is None:
        report.graded = False
        report.flag(*verdict.failure(result, setup))
        verdict.flag_limits_reached(report, setup, skip_kernel_memory=True)
        verdict.not_graded(report, release, report.flags[-1].message)
        return Outcome(report, None, submission.timestamp)
    verdict.score(report, autograded, release, setup)
    verdict.flag_limits_reached(report, setup)
    return Outcome(report, nbformat.writes(autograded), submission.timestamp)


def _read_submission(submission: Submission, notebook_name: str) -> tuple[NotebookNode | None, str]:
    if submission.refusal is not None:
        return None, submission.refusal.message
    if submission.notebook is None:
        found = f" (found {', '.join(submission.found)})" if submission.found else ""
        return None, f"no {notebook_name} in the submission{found}"
    try:
        return nbformat.reads(submission.notebook.decode("utf-8"), as_version=4), ""
    except Exception as error:  # noqa: BLE001  (nbformat raises several types for malformed files)
        detail = str(error).strip().splitlines()[0][:120] if str(error).strip() else ""
        return None, f"not a valid notebook ({type(error).__name__}{': ' + detail if detail else ''})"


def grade_or_flag(setup: Setup, submission: Submission) -> Outcome:
    """`grade`, where an unexpected error is this submission's GRADING_ERROR (score 0), never
    the batch's: what the coordinator and its workers run."""
    try:
        return grade(setup, submission)
    except Exception as error:  # noqa: BLE001  (any error of one submission: reported, the batch goes on)
        return failed_outcome(setup, submission, f"grading failed: {type(error).__name__}: {verdict.first_line(error)}")


def failed_outcome(setup: Setup, submission: Submission, reason: str) -> Outcome:
    """An ungraded outcome (every graded cell 0) with a GRADING_ERROR flag saying `reason`."""
    report = GradeReport(submission.student, setup.module, sandboxed=setup.sandboxed, graded=False)
    report.flags.extend(submission.flags)
    report.flag(FlagKind.GRADING_ERROR, reason)
    try:
        release = nbformat.reads(setup.template[f"release/{setup.module}/{setup.notebook}"].decode(), as_version=4)
        verdict.not_graded(report, release, reason)
    except Exception:  # noqa: BLE001  (no release to list the cells from: the report says why all the same)
        pass
    return Outcome(report, None, None)


