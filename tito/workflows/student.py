"""A student's use cases: start, test, complete, submit and reset a module, and its status.

A student's notebooks (`modules/`) and builds (`tinytorch/core/_completed/`) are their own:
untracked by git, never overwritten without a backup, and replaced only atomically. Progress
(`.tito/progress.json`) is recorded only when a command finishes: an interrupted run
records nothing. The notebook and grading machinery is imported inside the functions that
need it, so that `tito module list` answers at once.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tito.course import progress
from tito.course.paths import Paths
from tito.course.registry import Module, discover, prerequisites
from tito.errors import TitoError
from tito.fileops import atomic_write_bytes, atomic_write_text, backup_file
from tito.workflows import lab

if TYPE_CHECKING:
    from tito.grading.report import GradeReport


# -- state ------------------------------------------------------------------------------------------
def sources_digest(notebook: dict) -> str:
    """What a student wrote: the cells' sources (running cells changes nothing here)."""
    cells = [cell.get("source", "") for cell in notebook.get("cells", [])]
    text = json.dumps(["".join(s) if isinstance(s, list) else s for s in cells])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class ModuleState(enum.Enum):
    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    COMPLETED = "completed"
    PROVIDED = "provided (instructor's build)"  # a student edition shipped with the reference build


@dataclass
class ModuleStatus:
    module: Module
    state: ModuleState
    score: float | None  # completed: the grade it was completed with; else the last test
    max_score: float | None
    note: str = ""


def status(paths: Paths) -> list[ModuleStatus]:
    """The truth about each module: completed only while the build `complete` wrote is still
    in place; in progress only once the student changed the notebook."""
    records = progress.load(paths)
    return [_status(module, records.get(module.slug, {})) for module in discover(paths)]


def _status(module: Module, record: dict) -> ModuleStatus:
    completed = record.get("completed") or {}
    build = module.completed_file
    if completed and build.is_file() and file_digest(build) == completed.get("build_sha256"):
        return ModuleStatus(module, ModuleState.COMPLETED, completed["score"], completed["max_score"])
    note = "your completed build was removed or changed: complete it again" if completed else ""
    notebook = module.student_notebook
    tested = record.get("tested") or {}
    if not notebook.exists() and (tested or record.get("fresh_sha256")):
        backups = module.paths.backups / module.slug
        note = (f"your notebook {notebook.relative_to(module.paths.root)} is missing: `tito module start "
                f"{module.slug}` makes a fresh one" + (f" (backups are in {backups.relative_to(module.paths.root)}/)"
                                                       if backups.is_dir() else ""))
    if notebook.is_file() and _edited(module, record, notebook):
        return ModuleStatus(module, ModuleState.IN_PROGRESS, tested.get("score"), tested.get("max_score"), note)
    if module.info.get("provided") and module.package_file.is_file():
        return ModuleStatus(module, ModuleState.PROVIDED, None, None, note)
    return ModuleStatus(module, ModuleState.NOT_STARTED, tested.get("score"), tested.get("max_score"), note)


def _edited(module: Module, record: dict, notebook: Path) -> bool:
    try:
        current = sources_digest(json.loads(notebook.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return True  # something is there, and it is not a fresh copy
    fresh = record.get("fresh_sha256")
    if fresh is None:  # not created by `start`: compare with a fresh copy now
        fresh = sources_digest(fresh_notebook(module))
    return current != fresh


# -- the package and prerequisites ---------------------------------------------------------------
def importable(paths: Paths, module: Module) -> str:
    """'' if the module imports cleanly (your completed build, or the one shipped), else the
    error's last line. The import runs in the sandbox: it runs your code."""
    import tempfile

    from tito.grading.setup import site_spec_for
    from tito.sandbox import bwrap as sandbox
    from tito.sandbox.site import build_site

    if not (module.completed_file.is_file() or module.package_file.is_file()):
        return f"{module.import_name} is not built yet"
    spec = site_spec_for(paths.root, module.slug, include_completed=True, include_module=True)
    with tempfile.TemporaryDirectory(prefix="tito-import-") as folder:
        site = build_site(spec, Path(folder) / "site")
        result = sandbox.run(site, [sys.executable, "-c", f"import {module.import_name}"], timeout=120,
                             sandboxed=sandbox_available())
    if result.returncode == 0:
        return ""
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {result.returncode}"


def sandbox_available() -> bool:
    from tito.sandbox import bwrap as sandbox

    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable:
        return False
    return True


def check_prerequisites(paths: Paths, module: Module) -> None:
    for earlier in prerequisites(paths, module):
        problem = importable(paths, earlier)
        if problem:
            fix = (f"Finish it with `tito module complete {earlier.slug}`" +
                   ("." if paths.is_student_edition else
                    f", or use the shipped build again with `tito module reset {earlier.slug} --package`."))
            raise TitoError(f"{module.slug} needs {earlier.slug}, but {earlier.import_name} cannot be imported: "
                            f"{problem}", fix)


# -- start --------------------------------------------------------------------------------------
def fresh_notebook(module: Module):
    """The notebook a student starts from: the release copy in a student edition, else made
    from the source (solutions stripped by nbgrader)."""
    from tito.course import notebooks
    from tito.coursedir.release import student_version

    if module.paths.is_student_edition:
        import nbformat

        return nbformat.read(module.release_notebook, as_version=4)
    return student_version(notebooks.read_source(module), module.paths)


def start(paths: Paths, module: Module, check: bool = True) -> tuple[Path, bool]:
    """Create the student's notebook if missing; returns (path, created). Never overwrites."""
    if paths.is_student_edition:
        lab.switch_off_instructor_tools()
    if check:
        check_prerequisites(paths, module)
    path = module.student_notebook
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    from tito.course import notebooks

    notebook = fresh_notebook(module)
    payload = notebooks.dumps(notebook).encode("utf-8")
    # O_EXCL: if the file appeared meanwhile, we still do not overwrite it.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return path, False
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(payload)
    progress.record(paths, module.slug, fresh_sha256=sources_digest(json.loads(payload)))
    return path, True


# -- test ---------------------------------------------------------------------------------------
def grading_source(module: Module):
    """What the student's notebook is graded against: the instructor source (hidden tests
    included) here, the release notebook (visible tests) in a student edition."""
    from tito.course import notebooks

    if module.paths.is_student_edition:
        import nbformat

        return nbformat.read(module.release_notebook, as_version=4)
    return notebooks.read_source(module)


def hidden_points(module: Module) -> float:
    """Points of cells with checks that only the instructor runs (student edition)."""
    return float(module.info.get("hidden_points", 0)) if module.paths.is_student_edition else 0.0


def grade(paths: Paths, module: Module, notebook, *, sandboxed: bool = True, student: str = "you") -> GradeReport:
    """Grade a notebook of `module` with the instructor's engine, against this checkout's
    package (your completed builds of earlier modules first)."""
    from tito.course import notebooks
    from tito.grading.setup import make_setup, run_folder
    from tito.sandbox import kernel

    with run_folder():  # everything grading makes, in one folder removed at the end
        try:
            # the kernel boots while nbgrader is imported and the course prepared
            if sandboxed and not kernel.started_ahead():
                _start_kernel_ahead(paths, module)
            from tito.grading.engine import Submission
            from tito.grading.engine import grade as grade_submission

            setup = make_setup(paths, module, grading_source(module), include_completed=True, sandboxed=sandboxed)
            report = grade_submission(setup, Submission(student, notebooks.dumps(notebook).encode("utf-8"))).report
        finally:
            kernel.discard_warm()
    report.hidden_points = hidden_points(module)
    return report


def _start_kernel_ahead(paths: Paths, module: Module) -> None:
    """Launch the sandboxed kernel on the site that grading will use (the same files, hence
    the same folder), before the slow imports and the setup; grading takes it over."""
    from tito.course import notebooks
    from tito.grading.setup import materialize_files, site_files
    from tito.sandbox import bwrap, kernel

    try:
        bwrap.check_available()
        kernel.start_warm(materialize_files(site_files(paths, module, include_completed=True), "site"),
                          notebooks.kernel_name())
    except Exception:  # noqa: BLE001  (no sandbox, no kernel: grading itself says so, with the fix)
        return


def test_reference(paths: Paths, module: Module, sandboxed: bool = True) -> GradeReport:
    """Grade the instructor's reference solution, as a student's notebook would be."""
    from tito.coursedir.release import reference_submission

    return grade(paths, module, reference_submission(module), sandboxed=sandboxed, student="reference")


def test(paths: Paths, module: Module, sandboxed: bool = True) -> GradeReport:
    """Grade the student's notebook; the score is recorded once grading has finished."""
    from tito.course import notebooks

    notebook = notebooks.load(module.student_notebook, module)
    report = grade(paths, module, notebook, sandboxed=sandboxed)
    progress.record(paths, module.slug, tested={"score": report.score, "max_score": report.max_score,
                                                "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return report


@dataclass(frozen=True)
class StartHere:
    """The first part of a notebook that still holds a stub, for a student who is stuck."""

    part: str  # the heading of the part, e.g. "Part 1: the `Layer` base class"
    cell: str  # the grade_id of its first unfinished solution cell


def start_here(module: Module) -> StartHere | None:
    """Where the student's notebook is first still a stub (None if nowhere, or unreadable)."""
    import nbformat

    from tito.inline import STUB_MESSAGE

    try:
        notebook = nbformat.read(module.student_notebook, as_version=4)
    except Exception:  # noqa: BLE001  (no pointer for a notebook that cannot be read: test says why)
        return None
    part = ""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            headings = [line.lstrip("#").strip() for line in cell.source.splitlines() if line.startswith("## ")]
            part = headings[-1] if headings else part
        elif cell.metadata.get("nbgrader", {}).get("solution") and STUB_MESSAGE in cell.source:
            return StartHere(part or "the first part", cell.metadata["nbgrader"].get("grade_id", ""))
    return None


def newer_copies(module: Module) -> list[Path]:
    """Other notebooks beside the student's, saved after it (JupyterLab's Duplicate or Save
    As): only the course notebook is graded, so the student should hear of them."""
    notebook = module.student_notebook
    if not notebook.is_file():
        return []
    saved = notebook.stat().st_mtime
    return sorted(p for p in notebook.parent.glob("*.ipynb") if p != notebook and p.stat().st_mtime > saved)


def first_problem(report: GradeReport) -> str:
    """A problem that makes later cells fail for its own reason (a syntax error, a module this
    one builds on that cannot be imported), to fix before anything else; '' if none."""
    from tito.grading.report import FlagKind

    for kind in (FlagKind.SYNTAX_ERROR, FlagKind.MISSING_PREREQUISITE):
        flag = next((flag for flag in report.flags if flag.kind is kind), None)
        if flag is not None:
            return f"fix this first, the cells after it fail because of it: {flag.message}"
    return ""


def passes(report: GradeReport) -> bool:
    """Full marks, with no deleted or edited graded cells."""
    from tito.grading.report import FlagKind

    return report.full_marks and not report.has(FlagKind.TAMPERED, FlagKind.MISSING)


# -- complete -------------------------------------------------------------------------------------
@dataclass
class PackageTests:
    passed: bool
    summary: str
    failures: list[str] = field(default_factory=list)


@dataclass
class CompleteResult:
    report: GradeReport
    exported: bool
    package_file: Path
    tests: PackageTests | None = None
    backup: Path | None = None


def complete(paths: Paths, module: Module, sandboxed: bool = True) -> CompleteResult:
    """Grade the student's notebook; only at full marks, and only if the package tests pass
    against the student's own build, write that build (after backing up an earlier one) and
    record the module as completed. Nothing tracked by git changes."""
    from tito.grading.setup import run_folder
    from tito.sandbox import kernel

    with run_folder():
        try:
            if sandboxed:  # the kernel boots during the imports and the prerequisite checks
                _start_kernel_ahead(paths, module)
            return _complete(paths, module, sandboxed)
        finally:
            kernel.discard_warm()


def _complete(paths: Paths, module: Module, sandboxed: bool) -> CompleteResult:
    from concurrent.futures import ThreadPoolExecutor

    from jupyter_client import kernelspec  # noqa: F401
    from nbgrader import converters  # noqa: F401

    from tito.course import export, notebooks
    from tito.grading import engine  # noqa: F401
    from tito.grading.setup import run_folder
    from tito.sandbox import bwrap as sandbox
    from tito.sandbox import site  # noqa: F401

    # Everything both threads below use is imported here, first: two threads importing the
    # same modules lazily at once can deadlock on Python's import locks (_DeadlockError).
    check_prerequisites(paths, module)
    notebook = notebooks.load(module.student_notebook, module)  # read once: graded and exported alike
    try:
        candidate = export.student_build(notebook, module)
    except RuntimeError:  # nothing exported (no `#| default_exp` line): grading shows why it fails
        candidate = None
    target = module.completed_file
    # the package tests run beside the grading; both make their folders in one run folder
    cancel = threading.Event()  # set: the package tests' sandbox is killed, even one that starts later
    with run_folder(), ThreadPoolExecutor(max_workers=1) as background:
        tests = background.submit(package_tests, paths, module, candidate, sandboxed, cancel) if candidate else None
        try:
            report = grade(paths, module, notebook, sandboxed=sandboxed)
            if not passes(report) or tests is None:
                if tests:
                    tests.cancel()
                cancel.set()
                sandbox.stop_all()
                nothing = PackageTests(False, f"your notebook exports nothing to {module.import_name}: keep its "
                                              f"'#| default_exp {module.export_target}' line")
                return CompleteResult(report, False, target, None if tests else nothing)
            outcome = tests.result()
        except BaseException:  # Ctrl-C included: do not wait for the tests to end on their own
            cancel.set()
            sandbox.stop_all()
            raise
    if not outcome.passed:
        return CompleteResult(report, False, target, outcome)
    backup = backup_file(target, paths.backups / module.slug) if target.exists() else None
    atomic_write_text(target, candidate)
    progress.record(paths, module.slug, completed={"score": report.score, "max_score": report.max_score,
                                                   "build_sha256": file_digest(target),
                                                   "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return CompleteResult(report, True, target, outcome, backup)


def package_tests(paths: Paths, module: Module, candidate: str, sandboxed: bool = True,
                  cancel: threading.Event | None = None) -> PackageTests:
    """Run the module's public package tests against `candidate`, in the sandbox, and judge
    by pytest's JUnit report: every expected test must have run and passed."""
    expected = expected_tests(paths, module)
    if not expected:
        return PackageTests(True, "no package tests for this module")
    result = _run_package_tests(paths, module, candidate, include_completed=True, sandboxed=sandboxed,
                                cancel=cancel)
    return judge_junit(result.collected, expected, result.stdout + result.stderr)


def _run_package_tests(paths: Paths, module: Module, build: str, include_completed: bool, sandboxed: bool,
                       cancel: threading.Event | None = None):
    """pytest on tests/NN_name (without the PyTorch parity tests and the reference-wording
    tests), in a sandbox whose package holds `build` as the module, earlier modules as
    `include_completed` says."""
    import shutil
    import tempfile

    from tito.grading.setup import site_spec_for
    from tito.sandbox import bwrap as sandbox
    from tito.sandbox.site import build_site

    spec = site_spec_for(paths.root, module.slug, include_completed=include_completed)
    relative = module.package_file.relative_to(paths.root).as_posix()
    with tempfile.TemporaryDirectory(prefix="tito-tests-") as folder:
        site = build_site(spec, Path(folder) / "site", extra_files={relative: build})
        # PyTorch parity files need torch, which a student need not have; `reference` tests check
        # the shipped build's own wording.
        shutil.copytree(module.tests, site / "tests" / module.slug,
                        ignore=shutil.ignore_patterns("__pycache__", "*parity*"))
        return sandbox.run(site, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
                                  "not parity and not reference",
                                  "--rootdir", str(site), "--junitxml", "{scratch}/junit.xml",
                                  str(site / "tests" / module.slug)],
                           timeout=900, sandboxed=sandboxed and sandbox_available(), collect="junit.xml",
                           step="package tests", cancel=cancel)


def judge_junit(xml_text: str | None, expected: list[str], output: str) -> PackageTests:
    """Passed only if the report exists, lists every expected test, and none failed, erred
    or was skipped. An exit code alone proves nothing."""
    if not xml_text:
        tail = "\n".join(output.strip().splitlines()[-15:])
        return PackageTests(False, "the package tests did not finish (no report was written)", [tail])
    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError:
        return PackageTests(False, "the package tests' report is unreadable")
    seen, failures = set(), []
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        problem = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        if problem is None:
            seen.add(name)
        else:
            message = (problem.get("message") or problem.text or "").strip().splitlines()
            failures.append(f"{case.get('name')}: {problem.tag}: {message[0][:200] if message else ''}")
    if not seen and not failures:
        return PackageTests(False, "no package test ran: zero tests is not a pass")
    missing = [name for name in expected if name not in seen and not any(f.startswith(name.split('::')[-1] + ":")
                                                                         for f in failures)]
    if failures or missing:
        lines = failures + [f"{name.split('::')[-1]}: did not run" for name in missing]
        return PackageTests(False, f"{len(failures) + len(missing)} of {len(expected)} package tests failed "
                                   "or did not run", lines)
    return PackageTests(True, f"all {len(expected)} package tests passed")


def expected_tests(paths: Paths, module: Module) -> list[str]:
    """The package tests `complete` requires, as JUnit names (`classname::name`): from the
    edition's manifest, or collected here against the shipped build (cached)."""
    if paths.is_student_edition:
        return list(module.info.get("package_tests", []))
    if not module.tests.is_dir():
        return []
    digest = hashlib.sha256()
    for path in sorted(module.tests.rglob("*.py")) + [module.package_file]:
        digest.update(path.read_bytes())
    cache = paths.cache / f"{module.slug}-package-tests-{digest.hexdigest()[:16]}.json"
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    names = collect_tests(paths, module)
    atomic_write_text(cache, json.dumps(names, indent=1) + "\n")
    return names


def collect_tests(paths: Paths, module: Module) -> list[str]:
    """Run the package tests against the shipped (reference) build and list them by their
    JUnit names; they must all pass there."""
    from tito.course import export

    result = _run_package_tests(paths, module, export.reference_build(module), include_completed=False,
                                sandboxed=True)
    verdict = judge_junit(result.collected, [], result.stdout + result.stderr)
    if not verdict.passed:
        raise TitoError(f"The package tests of {module.slug} do not pass against the reference build: "
                        + ("; ".join(verdict.failures[:5]) or verdict.summary),
                        f"Fix {module.tests.relative_to(paths.root)} or the source.")
    root = ElementTree.fromstring(result.collected)
    return [f"{case.get('classname', '')}::{case.get('name', '')}" for case in root.iter("testcase")]


# -- reset --------------------------------------------------------------------------------------
@dataclass
class ResetResult:
    notebook: Path
    notebook_backup: Path | None
    build_backup: Path | None = None
    build_removed: bool = False


def reset(paths: Paths, module: Module, package: bool = False) -> ResetResult:
    """Back up the student's notebook, then write a fresh copy. With `package`, also back up
    and remove the student's completed build (the shipped one is imported again, if any)."""
    from tito.course import notebooks

    path = module.student_notebook
    backup = backup_file(path, paths.backups / module.slug) if path.exists() else None
    fresh = fresh_notebook(module)
    notebooks.write(fresh, path)
    record = {"fresh_sha256": sources_digest(json.loads(notebooks.dumps(fresh))), "tested": None}
    result = ResetResult(path, backup)
    if package and module.completed_file.exists():
        result.build_backup = backup_file(module.completed_file, paths.backups / module.slug)
        module.completed_file.unlink()
        result.build_removed = True
        record["completed"] = None
    progress.record(paths, module.slug, **record)
    return result


# -- submit -------------------------------------------------------------------------------------
HAND_IN = "hand-in"  # modules/hand-in/<module>/<notebook>: the checked copy to hand in
EXCHANGE_ROOT = "/srv/nbgrader/exchange"  # nbgrader's default Exchange.root


@dataclass(frozen=True)
class Exchange:
    """The nbgrader exchange a course uses on this machine (JupyterHub)."""

    root: Path
    course_id: str


@dataclass
class SubmitResult:
    report: GradeReport
    hand_in: Path  # where the copy to hand in is (or would have been) written
    written: bool
    problem: str = ""  # why nothing was written
    backup: Path | None = None  # the earlier hand-in copy, kept
    exchange: Exchange | None = None


def hand_in_path(paths: Paths, module: Module) -> Path:
    return paths.modules / HAND_IN / module.slug / module.notebook_name


def course_exchange() -> Exchange | None:
    """The course's nbgrader exchange, if this machine has one: nbgrader's `Exchange.root`
    (and `CourseDirectory.course_id`) from the nbgrader_config.py files in Jupyter's config
    folders, as `nbgrader submit` reads them, where the course has an inbound folder."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from tito.coursedir.config import COURSE_ID

    config = Config()
    for folder in reversed(jupyter_config_path()):  # the first folder has the last word
        if (Path(folder) / "nbgrader_config.py").is_file():
            try:
                config.merge(PyFileConfigLoader("nbgrader_config.py", path=folder).load_config())
            except Exception:  # noqa: BLE001  (a broken config file: nbgrader submit would say so, not us)
                continue
    root = Path(str(config.Exchange.root)) if "root" in config.Exchange else Path(EXCHANGE_ROOT)
    course_id = str(config.CourseDirectory.course_id) if "course_id" in config.CourseDirectory else COURSE_ID
    return Exchange(root, course_id) if (root / course_id / "inbound").is_dir() else None


def _read_notebook(path: Path, module: Module) -> tuple[bytes, object]:
    """The notebook's bytes and content, which must be a valid notebook (nbformat's schema)."""
    import nbformat

    from tito.course import notebooks

    notebook = notebooks.load(path, module)
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        raise TitoError(f"{path} is not a valid notebook: {str(error).splitlines()[0]}.",
                        f"`tito module reset {module.slug}` backs it up and gives you a fresh copy.") from error
    return notebooks.dumps(notebook).encode("utf-8"), notebook


def submit(paths: Paths, module: Module, sandboxed: bool = True) -> SubmitResult:
    """Check the student's notebook (a valid notebook, locked cells untouched, graded with the
    same engine as `test`) and write the copy to hand in, `modules/hand-in/<module>/<notebook>`:
    exactly what was graded. An earlier, different copy is backed up first. Nothing is
    written when locked cells were edited or deleted."""
    from tito.grading.report import FlagKind

    data, notebook = _read_notebook(module.student_notebook, module)
    report = grade(paths, module, notebook, sandboxed=sandboxed)
    at = time.strftime("%Y-%m-%dT%H:%M:%S")
    progress.record(paths, module.slug, tested={"score": report.score, "max_score": report.max_score, "at": at})
    target = hand_in_path(paths, module)
    locked = [flag.message for flag in report.flags if flag.kind in (FlagKind.TAMPERED, FlagKind.MISSING)]
    if locked:
        return SubmitResult(report, target, False, "; ".join(locked))
    backup = None
    if target.exists() and target.read_bytes() != data:
        backup = backup_file(target, paths.backups / module.slug)
    atomic_write_bytes(target, data)
    progress.record(paths, module.slug, submitted={"score": report.score, "max_score": report.max_score, "at": at,
                                                   "sha256": hashlib.sha256(data).hexdigest()})
    return SubmitResult(report, target, True, backup=backup, exchange=course_exchange())
