"""The one grading engine, for students (`tito module test`) and instructors (`tito nbgrader`).

Grading one submission (`grade`) runs nbgrader's own Autograde converter on a private
scratch course generated from the same source: it restores edited or deleted locked cells
from that course's gradebook, executes the notebook in a sandboxed kernel with a per-cell
timeout, re-checks every graded test in the clean room, and scores each graded cell. It
needs nothing but a `Setup` (the generated course and the sandbox's site folder, as
files) and the submission's bytes, so it runs the same in this process, in a local worker
process or on a Dask worker. It never touches the instructor's course directory: recording
grades there is the coordinator's job (`tito.gradebook`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from traitlets import Float
from traitlets.config import Config, Configurable

from tito import cleanroom, course, export, limits, notebooks, sandbox, scan
from tito.errors import TitoError
from tito.fileops import file_lock
from tito.paths import Paths
from tito.registry import Module, discover
from tito.report import CellResult, Flag, FlagKind, GradeReport

TIMEOUT_ERRORS = {"CellTimeoutError", "KeyboardInterrupt"}
_LINE = re.compile(r"line (\d+)")
_TEST_PREFIX = re.compile(r"^test_\w+: ")  # the inline one-liner names the test; the table names the cell
SCRATCH_STUDENT = "student"  # the student id inside a scratch course


class GradingLimits(Configurable):
    """Limits of one submission's grading, read from nbgrader_config.py (the per-cell limit
    is nbgrader's own c.Execute.timeout)."""

    submission_timeout = Float(600.0, help="Seconds one submission may take in all (notebook run and clean room); "
                                           "past them its kernel and sandboxed programs are killed and the cells "
                                           "not graded score 0.").tag(config=True)


# -- what a worker needs -------------------------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    """Everything needed to grade submissions of one module, as plain data (picklable)."""

    module: str  # slug, e.g. "03_layers" (nbgrader's assignment id)
    notebook: str  # e.g. "layers.ipynb"
    export_target: str  # e.g. "core.layers"
    config: dict  # nbgrader configuration (re-rooted by each worker on its scratch course)
    template: dict[str, bytes]  # the generated scratch course: source/, release/, gradebook.db
    site: dict[str, bytes]  # the sandbox's site folder
    sandboxed: bool = True
    later_modules: tuple[str, ...] = ()  # import names that must not be used (flagged)

    @property
    def key(self) -> str:
        digest = hashlib.sha256()
        for files in (self.template, self.site):
            for name in sorted(files):
                digest.update(name.encode() + b"\0" + files[name])
        return digest.hexdigest()[:20]

    @property
    def timeout(self) -> float:
        return float(self.config.get("Execute", {}).get("timeout") or 60)

    @property
    def limits(self) -> limits.Limits:
        """The resource limits of each sandboxed process tree, from nbgrader_config.py."""
        return sandbox.TinyTorchSandbox(config=Config(json.loads(json.dumps(self.config)))).limits()

    @property
    def submission_timeout(self) -> float:
        return GradingLimits(config=Config(self.config)).submission_timeout


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


# -- preparing: the generated course and the site ----------------------------------------------
def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_files(files: dict[str, bytes], folder: Path) -> Path:
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


def generate(course_root: Path, module: Module, source: NotebookNode, paths: Paths) -> NotebookNode:
    """Write `source` as the nbgrader source notebook of `course_root` and run nbgrader's
    generate step there; returns the release notebook."""
    from nbgrader.converters import GenerateAssignment

    config = course.load_config(paths, None if course_root == paths.course else course_root)
    coursedir = course.directory(config, assignment_id=module.slug)
    notebooks.write(source, course.path(coursedir, coursedir.source_directory, ".", module.slug, module.notebook_name))
    app = GenerateAssignment(coursedir=coursedir, config=config)
    app.force = True
    app.create_assignment = True
    result = course.run_converter(app)
    release = course.path(coursedir, coursedir.release_directory, ".", module.slug, module.notebook_name)
    if not result["success"] or not release.is_file():
        log = course.last_lines(result)
        if "OperationalError" in log or "could not connect" in log:
            from tito.gradebook import database_error

            raise database_error(coursedir.db_url, log)
        raise TitoError(f"nbgrader could not generate {module.slug}:\n{log}",
                        "Check the nbgrader metadata of the source cells (`nbgrader validate`).")
    return nbformat.read(release, as_version=4)


_TEMPLATE_LAYOUT = "release+gradebook"  # part of the cache key: caches that also kept source/ are rebuilt


def template_course(paths: Paths, module: Module, source: NotebookNode) -> Path:
    """A scratch course generated from `source`, cached under .tito/cache by the hash of
    what generation depends on. Built in a temporary folder under a lock, then renamed, so
    two graders starting at once never see (or delete) each other's half-built course.
    It keeps only what grading needs, the release and the gradebook (mode 0700): the
    generated source/ holds the solutions (nbgrader's Autograde copies only non-notebook
    files from it, and the course has none)."""
    import nbgrader

    digest = hashlib.sha256()
    for part in (notebooks.dumps(source), paths.nbgrader_config.read_text(encoding="utf-8"), nbgrader.__version__,
                 _TEMPLATE_LAYOUT):
        digest.update(part.encode("utf-8"))
    cached = paths.cache / f"{module.slug}-{digest.hexdigest()[:16]}"
    ready = cached / "release" / module.slug / module.notebook_name
    if ready.is_file():
        return cached
    with file_lock(paths.cache / f"{module.slug}.lock"):
        if ready.is_file():  # another grader built it while we waited
            return cached
        building = Path(tempfile.mkdtemp(prefix=f".{module.slug}-", dir=paths.cache))
        try:
            generate(building, module, source, paths)
            shutil.rmtree(building / "source")
            for stale in paths.cache.glob(f"{module.slug}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(building, cached)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return cached


def site_files(paths: Paths, module: Module, include_completed: bool) -> dict[str, bytes]:
    """The sandbox's site folder for grading `module`, as files."""
    spec = sandbox.site_spec_for(paths.root, module.slug, include_completed)
    with tempfile.TemporaryDirectory(prefix="tito-site-") as folder:
        return _files(sandbox.build_site(spec, Path(folder) / "site"))


def plain_config(config) -> dict:
    """A traitlets Config as nested plain dicts (picklable, JSON-able)."""
    return json.loads(json.dumps({section: dict(values) for section, values in config.items()}, default=str))


def make_setup(paths: Paths, module: Module, source: NotebookNode, *, include_completed: bool,
               sandboxed: bool = True) -> Setup:
    """Prepare grading `module` against `source` (the notebook nbgrader generates from)."""
    course.require_kernel()
    if sandboxed:
        sandbox.check_available()
    template = template_course(paths, module, source)
    later = tuple(m.import_name for m in discover(paths) if m.number > module.number)
    return Setup(module.slug, module.notebook_name, module.export_target, plain_config(course.load_config(paths)),
                 _files(template), site_files(paths, module, include_completed), sandboxed, later)


# -- the run folder: nothing of a grading run outlives it -----------------------------------------
_RUN_FOLDER: dict = {"path": None, "users": 0, "saved": None}
_RUN_LOCK = threading.Lock()


def _run_folder_base() -> str | None:
    """On a Dask worker, its own local directory (which Dask cleans); else the system's."""
    if "distributed" in sys.modules:
        try:
            return sys.modules["distributed"].get_worker().local_directory
        except (AttributeError, ValueError):  # not running inside a Dask task
            pass
    return None


@contextlib.contextmanager
def run_folder() -> Iterator[Path]:
    """A private folder (mode 0700) that is this process's `tempfile.tempdir` while any
    grading runs in it, so that every folder grading and its libraries make (scratch
    courses, kernel run folders, clean-room sites, nbdev's export scratch) is under it; the
    last user removes it, with everything in it, also on an error or Ctrl-C (after killing
    what is still running there)."""
    with _RUN_LOCK:
        if _RUN_FOLDER["path"] is None:
            _RUN_FOLDER["path"] = Path(tempfile.mkdtemp(prefix="tito-run-", dir=_run_folder_base()))
            _RUN_FOLDER["saved"], tempfile.tempdir = tempfile.tempdir, str(_RUN_FOLDER["path"])
        _RUN_FOLDER["users"] += 1
        folder = _RUN_FOLDER["path"]
    try:
        yield folder
    except BaseException:
        sandbox.stop_all()  # nothing may keep writing there once it is gone
        raise
    finally:
        with _RUN_LOCK:
            _RUN_FOLDER["users"] -= 1
            if _RUN_FOLDER["users"] == 0 and _RUN_FOLDER["path"] == folder:
                tempfile.tempdir, _RUN_FOLDER["path"] = _RUN_FOLDER["saved"], None
                for key in [k for k, (template, _) in _MATERIALIZED.items() if template.is_relative_to(folder)]:
                    del _MATERIALIZED[key]
                shutil.rmtree(folder, ignore_errors=True)


def use_run_folder(folder: str) -> None:
    """Initializer of a local worker process: everything it makes goes under the
    coordinator's run folder (which the coordinator removes, even if this worker is killed)."""
    _RUN_FOLDER.update(path=Path(folder), users=1, saved=tempfile.tempdir)
    tempfile.tempdir = folder


# -- grading one submission (in any process) -------------------------------------------------------
_MATERIALIZED: dict[str, tuple[Path, Path]] = {}


def _materialize(setup: Setup) -> tuple[Path, Path]:
    """The template course and site folder on this machine's disk, once per run folder."""
    if setup.key not in _MATERIALIZED:
        base = Path(tempfile.mkdtemp(prefix=f"tito-grading-{setup.key[:8]}-"))
        _MATERIALIZED[setup.key] = (_write_files(setup.template, base / "template"),
                                    _write_files(setup.site, base / "site"))
    return _MATERIALIZED[setup.key]


class _Watchdog:
    """Kills the sandboxed programs and kernels started during one submission's grading
    once it has run `limit` seconds, and keeps killing any started after that."""

    def __init__(self, limit: float):
        self.limit, self.step = limit, ""
        self._before = set(sandbox._RUNNING)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @property
    def fired(self) -> bool:
        return bool(self.step)

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        if self._done.wait(self.limit):
            return
        while True:
            started = [p for p in list(sandbox._RUNNING) if p not in self._before]
            if not self.step:
                running_clean_room = any(cleanroom.RUNNER in " ".join(map(str, p.args)) for p in started)
                self.step = "clean room" if running_clean_room else "notebook run"
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
        template, site = _materialize(setup)
        with tempfile.TemporaryDirectory(prefix="tito-grade-") as scratch, \
                _Watchdog(setup.submission_timeout) as watchdog:
            root = Path(scratch) / "course"
            shutil.copytree(template, root)
            outcome = _grade_in(root, site, setup, submission)
    if watchdog.fired:
        _past_deadline(outcome.report, watchdog)
    return outcome


def _past_deadline(report: GradeReport, watchdog: _Watchdog) -> None:
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
    config.merge(course.scratch_overrides(root))
    config.TinyTorchSandbox.site = str(site)
    config.TinyTorchSandbox.enabled = setup.sandboxed
    config.CleanRoomCheck.export_target = setup.export_target
    config.Autograde.autograde_preprocessors = course.AUTOGRADE_PREPROCESSORS
    config.Autograde.create_student = True
    return config


def _grade_in(root: Path, site: Path, setup: Setup, submission: Submission) -> Outcome:
    from nbgrader.converters import Autograde

    config = _config(setup, root, site)
    # nbgrader globs and strips the student id: the scratch course uses a plain one
    coursedir = course.directory(config, assignment_id=setup.module, student_id=SCRATCH_STUDENT)
    release = nbformat.read(course.path(coursedir, coursedir.release_directory, ".", setup.module, setup.notebook),
                            as_version=4)
    report = GradeReport(submission.student, setup.module, sandboxed=setup.sandboxed)
    if not setup.sandboxed:
        report.flag(FlagKind.UNSANDBOXED, "graded with --no-sandbox: student code ran without isolation")
    report.flags.extend(submission.flags)
    limits.EVENTS.clear()  # the limits reached by this submission's runs, from here on
    _flag_missing_limits(report)
    submitted, problem = _read_submission(submission, setup.notebook)
    if submitted is None:
        report.graded = False
        report.flags.append(submission.refusal or Flag(FlagKind.UNREADABLE, problem))
        report.cells = [CellResult(c.grade_id, 0.0, c.max_score, "not graded: " + problem) for c in _graded(release)]
        return Outcome(report, None, submission.timestamp)

    folder = course.path(coursedir, coursedir.submitted_directory, SCRATCH_STUDENT, setup.module)
    folder.mkdir(parents=True, exist_ok=True)
    _write_files(submission.files, folder)
    (folder / setup.notebook).write_bytes(submission.notebook)
    if submission.timestamp:
        (folder / "timestamp.txt").write_text(submission.timestamp)
    _static_flags(report, submitted, release, setup)
    app = Autograde(coursedir=coursedir, config=config)
    app.force = True
    result = course.run_converter(app)
    autograded_path = course.path(coursedir, coursedir.autograded_directory, SCRATCH_STUDENT, setup.module,
                                  setup.notebook)
    autograded = nbformat.read(autograded_path, as_version=4) if autograded_path.is_file() else None
    if not result["success"] or autograded is None:
        report.graded = False
        report.flag(*_failure(result, setup))
        _flag_limits_reached(report, setup, skip_kernel_memory=True)
        reason = "not graded: " + report.flags[-1].message
        report.cells = [CellResult(c.grade_id, 0.0, c.max_score, reason) for c in _graded(release)]
        return Outcome(report, None, submission.timestamp)
    _score(report, autograded, release, setup)
    _flag_limits_reached(report, setup)
    return Outcome(report, nbformat.writes(autograded), submission.timestamp)


def _flag_missing_limits(report: GradeReport) -> None:
    missing = limits.missing()
    if missing:
        report.flag(FlagKind.LIMITS_NOT_IN_FORCE, "resource limits not in force on this grader: "
                    + "; ".join(f"{m.name} ({m.how})" for m in missing))


def _flag_limits_reached(report: GradeReport, setup: Setup, skip_kernel_memory: bool = False) -> None:
    """Limits the sandbox's cgroups saw reached (the out-of-memory killer, refused forks)."""
    seen = {flag.message for flag in report.flags}
    for event in limits.EVENTS:
        if skip_kernel_memory and event.step == "notebook run" and event.resource == "memory":
            continue  # already the reason the submission could not be graded
        message = f"{event.step}: {event.message}"
        if message not in seen and event.step in ("notebook run", "clean room"):
            report.flag(FlagKind.RESOURCE_LIMIT, message)
            seen.add(message)


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


def _failure(result: dict, setup: Setup) -> tuple[FlagKind, str]:
    text = (result.get("error") or "") + (result.get("log") or "")
    killed = [e for e in limits.EVENTS if e.step == "notebook run" and e.resource == "memory"]
    if killed:
        return FlagKind.RESOURCE_LIMIT, f"{killed[0].message}: the kernel was stopped, nothing could be graded"
    if "CellTimeoutError" in text and "Timeout waiting for IOPub output" in text:  # nbclient gave up on the kernel
        return (FlagKind.TIMEOUT, f"a cell ran past the cell time limit of {setup.timeout:g} s and ignored the "
                                  "interrupt: its kernel was stopped and nothing could be graded")
    if any(word in text for word in ("DeadKernelError", "Kernel died", "kernel died", "UnresponsiveKernelError",
                                     "unresponsive")):
        return (FlagKind.KERNEL_DIED, "the kernel died or stopped answering (os._exit, a crash, or running out "
                                      "of memory): nothing could be graded")
    last = (text.strip().splitlines() or ["unknown error"])[-1][:200]
    return FlagKind.UNREADABLE, f"nbgrader could not grade it: {last}"


def grade_or_flag(setup: Setup, submission: Submission) -> Outcome:
    """`grade`, where an unexpected error is this submission's GRADING_ERROR (score 0), never
    the batch's: what the coordinator and its workers run."""
    try:
        return grade(setup, submission)
    except Exception as error:  # noqa: BLE001  (any error of one submission: reported, the batch goes on)
        return failed_outcome(setup, submission, f"grading failed: {type(error).__name__}: {_first_line(error)}")


def failed_outcome(setup: Setup, submission: Submission, reason: str) -> Outcome:
    """An ungraded outcome (every graded cell 0) with a GRADING_ERROR flag saying `reason`."""
    report = GradeReport(submission.student, setup.module, sandboxed=setup.sandboxed, graded=False)
    report.flags.extend(submission.flags)
    report.flag(FlagKind.GRADING_ERROR, reason)
    try:
        release = nbformat.reads(setup.template[f"release/{setup.module}/{setup.notebook}"].decode(), as_version=4)
        report.cells = [CellResult(c.grade_id, 0.0, c.max_score, "not graded: " + reason) for c in _graded(release)]
    except Exception:  # noqa: BLE001  (no release to list the cells from: the report says why all the same)
        pass
    return Outcome(report, None, None)


# -- the report -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _GradedCell:
    grade_id: str
    max_score: float


def _graded(notebook: NotebookNode) -> list[_GradedCell]:
    return [_GradedCell(notebooks.grade_id(c), float(c.metadata["nbgrader"]["points"])) for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("grade")]


def _static_flags(report: GradeReport, submitted: NotebookNode, release: NotebookNode, setup: Setup) -> None:
    """Flags from reading the submission: edited or deleted locked cells, suspicious code."""
    by_id = {notebooks.grade_id(c): c for c in submitted.cells if notebooks.grade_id(c)}
    tampered, missing = [], []
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id")
        if not name:
            continue
        mine = by_id.get(name)
        if mine is None:
            if meta.get("grade") or meta.get("solution"):
                missing.append(name)
        elif meta.get("locked") and mine.source.strip() != cell.source.strip():
            tampered.append(name)
    if tampered:
        report.flag(FlagKind.TAMPERED, "locked cell edited, restored for grading: " + ", ".join(tampered), tampered)
    if missing:
        report.flag(FlagKind.MISSING, "cells missing from the submission: " + ", ".join(missing)
                    + " (graded cells were put back)", missing)
    student_cells = [(notebooks.grade_id(c) or c.get("id") or f"cell {i}", c.source) for i, c in
                     enumerate(submitted.cells) if c.cell_type == "code" and not (
                         c.metadata.get("nbgrader", {}).get("locked") and notebooks.grade_id(c) in by_id
                         and notebooks.grade_id(c) not in tampered)]
    graded_package = f"tinytorch.{setup.export_target}"
    findings = scan.suspicious_code(student_cells, graded_package)
    for later in setup.later_modules:
        findings += [f for f in scan.suspicious_code(student_cells, later) if later in f.what]
    if findings:
        report.flag(FlagKind.SUSPICIOUS_CODE, "review: " + _listed(findings), sorted({f.cell for f in findings}))
    try:
        exported = export.split_cells(export.render_target(submitted, setup.export_target, "submission.ipynb"))
    except Exception:  # noqa: BLE001  (nothing exportable: grading says what is wrong)
        exported = []
    at_import = scan.import_time_work(exported)
    if at_import:
        report.flag(FlagKind.IMPORT_TIME_CODE, "exported code does work when imported: " + _listed(at_import),
                    sorted({f.cell for f in at_import}))


def _listed(findings: list) -> str:
    return "; ".join(str(f) for f in findings[:6]) + (f"; and {len(findings) - 6} more" if len(findings) > 6 else "")


def _score(report: GradeReport, autograded: NotebookNode, release: NotebookNode, setup: Setup) -> None:
    """Per-cell scores exactly as nbgrader's SaveAutoGrades computes them, the reason of
    each failure, and the flags the run itself raised."""
    from nbgrader import utils

    causes = _root_causes(report, autograded, setup)
    by_id = {notebooks.grade_id(c): c for c in autograded.cells if notebooks.grade_id(c)}
    for graded in _graded(release):
        cell = by_id.get(graded.grade_id)
        score = 0.0
        if cell is not None:
            auto, _ = utils.determine_grade(cell)
            score = float(auto or 0.0)
        reason = "" if score >= graded.max_score else _reason(cell, causes)
        report.cells.append(CellResult(graded.grade_id, score, graded.max_score, reason))
    clean_room = autograded.metadata.get("tito", {}).get("clean_room", {})
    if clean_room.get("mismatched"):
        report.flag(FlagKind.CLEAN_ROOM_MISMATCH, "passes in the notebook but fails against the exported code "
                    "alone: " + ", ".join(clean_room["mismatched"]), clean_room["mismatched"])
    if clean_room.get("tampering"):
        report.flag(FlagKind.SUSPICIOUS_CODE, "the exported code changed NumPy or Python while the clean-room "
                    "tests ran: " + ", ".join(clean_room["tampering"][:4]))
    stopped = clean_room.get("stopped")
    if stopped:
        report.flag(FlagKind.TIMEOUT, "clean room: " + stopped["message"], [stopped["name"]] if stopped["name"] else [])
    elif clean_room and not clean_room.get("ran", True):
        report.flag(FlagKind.CLEAN_ROOM_MISMATCH, "the clean-room run stopped early: " + clean_room.get("problem", ""))


def _root_causes(report: GradeReport, autograded: NotebookNode, setup: Setup) -> dict[str, str]:
    """Problems that make later cells fail for a reason of their own: a syntax error, a
    missing prerequisite, a timeout. Flags them, and returns {"NameError": cause} so that
    a graded cell failing with a NameError names the cause instead."""
    causes: dict[str, str] = {}
    timed_out = []
    for index, cell in enumerate(autograded.cells):
        if cell.cell_type != "code":
            continue
        name = notebooks.grade_id(cell) or cell.get("id") or f"cell {index}"
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            ename, evalue = output.get("ename", ""), output.get("evalue", "")
            if ename in ("SyntaxError", "IndentationError", "TabError") and "syntax" not in causes:
                line = _LINE.search(evalue)
                where = f"your cell '{name}'" + (f", line {line[1]}" if line else "")
                causes["syntax"] = f"{ename} in {where}: {evalue.split('(')[0].strip()}"
                report.flag(FlagKind.SYNTAX_ERROR, causes["syntax"], [name])
            elif ename in ("ModuleNotFoundError", "ImportError") and "tinytorch" in evalue and "import" not in causes:
                causes["import"] = f"a module this one builds on cannot be imported ({evalue})"
                report.flag(FlagKind.MISSING_PREREQUISITE, causes["import"] + ": complete the earlier modules first "
                            "(`tito module complete NN`)", [name])
            elif ename in TIMEOUT_ERRORS:
                timed_out.append(name)
            elif limits.resource_of_error(ename, evalue):
                resource = limits.resource_of_error(ename, evalue)
                reached = f"{setup.limits.named(resource)} reached"
                causes.setdefault(f"limit:{resource}", reached)
                causes.setdefault("limit", f"{reached} in your cell '{name}'")
                report.flag(FlagKind.RESOURCE_LIMIT, f"{reached} in your cell '{name}' ({ename}: "
                            f"{_first_line(evalue)[:120]})", [name])
    if timed_out:
        limit = f"{setup.timeout:g} s"
        causes["timeout"] = f"interrupted after {limit} (the time limit of a cell)"
        causes["timeout_cell"] = f"your cell '{timed_out[0]}' was interrupted after {limit} (the time limit of a cell)"
        report.flag(FlagKind.TIMEOUT, f"cell(s) ran longer than {limit} and were interrupted: "
                    + ", ".join(timed_out), timed_out)
    return causes


def _reason(cell: NotebookNode | None, causes: dict[str, str]) -> str:
    """First line of why a graded cell failed."""
    if cell is None:
        return "the cell is missing"
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "error":
            ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
            if ename in TIMEOUT_ERRORS:
                return causes.get("timeout", "interrupted: the cell ran too long")
            resource = limits.resource_of_error(ename, evalue)
            if resource:
                return f"{causes.get('limit:' + resource, resource + ' limit reached')} ({ename}: " \
                       f"{_first_line(evalue)[:120]})"
            earlier = causes.get("syntax") or causes.get("import") or causes.get("timeout_cell") or causes.get("limit")
            if ename == "NameError" and earlier:
                return f"{ename}: {evalue}, because of an earlier problem: {earlier}"
            lines = [line for line in output.get("traceback", []) if line.startswith("❌")]
            text = lines[-1][2:] if lines else f"{ename}: {evalue}"
            return _TEST_PREFIX.sub("", _first_line(text)) or ename
        if kind == "stream" and output.get("name") == "stderr":
            return "wrote to stderr (a warning counts as a failure): " + _first_line(output.get("text", ""))
    return "failed"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0][:300] if lines else ""
