"""The autograde steps tito adds to nbgrader's own (tito.grading.pipeline): the submitted
folder's intake, the sandboxed Execute and the clean-room check; and, before nbgrader's
OverwriteCells, the hidden tests put back into untouched locked cells (nbgrader #1961).

Configured in nbgrader_config.py, so `nbgrader autograde` and formgrader get them too.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor
from traitlets import Unicode

from tito.course.paths import Paths
from tito.course.registry import discover, resolve
from tito.coursedir import intake
from tito.coursedir.config import CoursePaths
from tito.errors import TitoError
from tito.fileops import atomic_write_text
from tito.grading import cleanroom, sanitize, scan, verdict
from tito.grading.report import FlagKind, GradeReport, mark_for_review
from tito.grading.setup import Setup, plain_config, site_for_assignment
from tito.inline import RESULT_MARKER
from tito.sandbox import limits
from tito.sandbox.bwrap import TinyTorchSandbox
from tito.sandbox.kernel import SandboxedKernelManager


class SandboxedExecute(Execute):
    """nbgrader's Execute, with every kernel started in the sandbox. Cells tagged with
    `skip_cells_with_tag` (the notebook's timing and memory demonstrations) are not run,
    unless they are graded or solution cells: a student cannot switch a test off that way."""

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)
        self._received: dict[int, int] = {}  # characters of output per cell so far
        self._site: Path | None = None

    def preprocess(self, nb: NotebookNode, resources=None, km=None):
        keep_graded_cells_running(nb, self.skip_cells_with_tag)
        self._received = {}
        settings = TinyTorchSandbox(parent=self)
        self.log.info("Running %s in %s", _who(resources), _sandbox_text(settings))
        with tempfile.TemporaryDirectory(prefix="tito-site-") as scratch:
            if not settings.site:  # nbgrader's own CLI: the assignment's site, from the course
                self._site = site_for_assignment(settings.repo_root, (resources or {}).get("nbgrader", {})
                                                 .get("assignment", ""), Path(scratch))
            try:
                return super().preprocess(nb, resources, km)
            finally:
                self._site = None

    def create_kernel_manager(self):
        manager = super().create_kernel_manager()
        manager.site_dir = self._site
        return manager

    def _output_budget(self) -> int:
        return int(self.config.get("LimitOutputChars", {}).get("max_chars", 1_000_000))

    def output(self, outs, msg, display_id, cell_index):
        """Each output as it arrives, cut once the cell has sent LimitOutputChars.max_chars:
        a cell printing 1.5 GB must not hold 1.5 GB in the grader before anything is cut."""
        out = super().output(outs, msg, display_id, cell_index)
        budget = self._output_budget()
        if out is None or budget < 0:
            return out
        seen = self._received.get(cell_index, 0)
        self._received[cell_index] = seen + sanitize.output_size(out)
        if seen + sanitize.output_size(out) > budget:
            sanitize.cut_while_running(outs, out, budget - seen)
        return out

    def preprocess_cell(self, cell, resources, index):
        """After a cell whose output was cut while it ran, one note saying how much it sent."""
        cell, resources = super().preprocess_cell(cell, resources, index)
        received, budget = self._received.get(index, 0), self._output_budget()
        if 0 <= budget < received:
            cell.outputs.append(NotebookNode(output_type="stream", name="stdout",
                                             text=sanitize.cut_note(budget, received) + "\n"))
        return cell, resources


def _who(resources: dict | None) -> str:
    names = (resources or {}).get("nbgrader", {})
    return f"{names.get('student', 'the student')}'s {names.get('notebook', 'notebook')}.ipynb"


def _sandbox_text(settings: TinyTorchSandbox) -> str:
    """What the log says about where student code runs."""
    if not settings.enabled:
        return "NO sandbox (TinyTorchSandbox.enabled = False: student code runs without isolation)"
    given = settings.limits()
    return (f"the bubblewrap sandbox (no network, read-only system, no answers in view; "
            f"{given.named('memory')}, {given.named('processes')}, {given.named('disk')})")


def keep_graded_cells_running(nb: NotebookNode, skip_tag: str) -> None:
    """Remove `skip_tag` from graded and solution cells (a student may have added it)."""
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if skip_tag in tags and (utils.is_grade(cell) or utils.is_solution(cell)):
            cell.metadata["tags"] = [tag for tag in tags if tag != skip_tag]


def site_modules(site_dir: Path) -> list[str]:
    """The earlier modules the site holds (shipped or the student's own builds)."""
    core = site_dir / "tinytorch" / "core"
    names = {path.stem for path in core.glob("*.py")} | {path.stem for path in core.glob("_completed/*.py")}
    return sorted(f"tinytorch.core.{name}" for name in names if not name.startswith("_"))


def notebook_passed(cell: NotebookNode) -> bool:
    score, points = utils.determine_grade(cell)
    return score is not None and score >= points


class CleanRoomCheck(NbGraderPreprocessor):
    """After Execute: run every graded test against the student's exported code alone. A
    test that passed in the notebook but fails here gets an error output (so nbgrader
    scores it 0) that says why; the outcome is kept in the notebook's metadata (`tito`)."""

    export_target = Unicode("", help="The package module the graded notebook exports (e.g. core.layers). "
                                     "Empty: the assignment's, from the course (never from the student's "
                                     "notebook, whose default_exp line a student can delete).").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        settings = TinyTorchSandbox(parent=self)
        target = self.export_target or self._course_target(settings, resources)
        if not target:
            return nb, resources  # not a course assignment with an export
        timeout = float(self.config.Execute.get("timeout", 60) or 60)
        try:
            cells = cleanroom.exported_cells(nb, target)
        except RuntimeError:  # nothing exported to the graded module: every test runs against nothing
            cells = []
        with tempfile.TemporaryDirectory(prefix="tito-cleanroom-") as scratch:
            site_dir = (Path(settings.site) if settings.site else
                        site_for_assignment(settings.repo_root, resources["nbgrader"]["assignment"], Path(scratch)))
            result = cleanroom.run(site_dir, target, cells, cleanroom.graded_tests(nb), site_modules(site_dir),
                                   timeout, sandboxed=settings.enabled, limit=settings.limits())
        result.sandboxed = settings.enabled
        result.import_time = scan.import_time_work(cells)
        mismatched = result.mismatched
        for cell in nb.cells:
            if cell.cell_type != "code" or not utils.is_grade(cell):
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            reason = result.failure(grade_id)
            if reason and notebook_passed(cell):
                mismatched.append(grade_id)
                # first: nbgrader reads outputs in order, and an execute_result before an
                # error would count as partial credit (a forgery the hostile suite keeps)
                cell.outputs.insert(0, _failure_output(reason))
        self.log.info("Clean room (%s): %s graded tests run again against the exported code alone "
                      "(tinytorch.%s): %s", "sandboxed" if settings.enabled else "NOT sandboxed", _who(resources),
                      target,
                      "passes in the notebook, fails here: " + ", ".join(mismatched) if mismatched else
                      ("done" if result.ran else "stopped early: " + (result.problem or "at its time limit")))
        result.write_to(nb)
        return nb, resources

    @staticmethod
    def _course_target(settings, resources: dict) -> str:
        """nbgrader's own CLI: the export target of the assignment being graded."""
        if not settings.repo_root:
            return ""
        try:
            return resolve(Paths(Path(settings.repo_root)), resources["nbgrader"]["assignment"]).export_target
        except (TitoError, KeyError):
            return ""


def _failure_output(reason: str) -> NotebookNode:
    message = ("this test passes in your notebook but fails against your exported code alone "
               f"(your #| export cells, imported as the package would): {reason}")
    return NotebookNode(output_type="error", ename=cleanroom.FAILURE, evalue=message,
                        traceback=[f"{RESULT_MARKER} {message}"])


class SubmissionIntakeCheck(NbGraderPreprocessor):
    """First autograde step of nbgrader's own CLI: nbgrader has already read the submitted
    notebook and copied the files beside it into autograded/, following links. Check the
    submitted folder through tito.intake: a notebook that is not a regular file is graded
    as if empty (its solution cells raise, extra code cells are dropped: every test
    scores 0), and the copies of refused files are removed before any kernel starts."""

    stub = "raise NotImplementedError('not graded: the submitted notebook was refused (not a regular file)')"

    def preprocess(self, nb: NotebookNode, resources: dict):
        nb.metadata.pop("tito", None)  # only the grading steps write it (a string there made them fail)
        names = resources.get("nbgrader", {})
        if not names.get("student") or not names.get("assignment"):
            return nb, resources
        course = CoursePaths.of(self.config)
        submitted = course.submitted(names["student"], names["assignment"])
        autograded = course.autograded(names["student"], names["assignment"])
        limits = intake.SubmissionIntake(parent=self).limits()
        found = intake.read_submission(submitted, names["notebook"] + ".ipynb", limits, top=course.submitted_root)
        for entry in found.refused:
            self.log.warning("Refused %s of %s: %s (removed from %s)", entry.name, names["student"], entry.why,
                             autograded)
            _remove_copy(autograded, entry.name)
        if found.notebook_refused:
            self.log.warning("Not grading %s's notebook: %s", names["student"], found.notebook_problem)
            self._empty(nb)
            nb.metadata.setdefault("tito", {})["intake"] = {"refused": found.notebook_problem}
        return nb, resources

    def _empty(self, nb: NotebookNode) -> None:
        kept = []
        for cell in nb.cells:
            if utils.is_solution(cell):
                cell.source = self.stub if cell.cell_type == "code" else ""
            elif cell.cell_type == "code" and not utils.is_grade(cell) and not utils.is_locked(cell):
                continue
            kept.append(cell)
        nb.cells = kept


def _remove_copy(folder: Path, name: str) -> None:
    """nbgrader's copy of a refused file in autograded/ (a file or a whole subfolder)."""
    import shutil

    target = folder / name
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target, ignore_errors=True)
    elif target.exists() or target.is_symlink():
        target.unlink(missing_ok=True)


class RestoreHiddenTests(NbGraderPreprocessor):
    """Sanitizing step, just before nbgrader's OverwriteCells: a locked cell that is exactly
    as it was released gets its source back from the gradebook, hidden tests included.

    nbgrader's generate stores each locked cell's checksum before it removes the hidden
    tests (nbgrader #1961), so OverwriteCells finds every untouched test cell "changed",
    warns "Attribute 'checksum' … has changed!" and restores it. After this step only a
    cell a student really edited differs, and only that one is warned about and restored.

    Each known cell's nbgrader flags (grade, solution, locked, points) are put back first:
    OverwriteCells restores a locked cell's source but not a flipped `grade` or `solution`
    flag, then finds the checksum still wrong and raises ("Inconsistent checksums"), and a
    solution cell marked `grade` makes it look up a grade cell that does not exist: either
    way nbgrader could not grade the submission at all, and nothing said it was tampered with
    (tito.grading.verdict.static_flags does)."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        from nbgrader.api import Gradebook, MissingEntry

        names = resources.get("nbgrader", {})
        if not all(names.get(key) for key in ("db_url", "notebook", "assignment")):
            return nb, resources
        with Gradebook(names["db_url"]) as book:
            try:
                notebook = book.find_notebook(names["notebook"], names["assignment"])
            except MissingEntry:
                return nb, resources
            locked = {cell.name: (cell.cell_type, cell.source) for cell in notebook.source_cells if cell.locked}
            flags = {cell.name: {"grade": False, "solution": False, "locked": cell.locked}
                     for cell in notebook.source_cells}
            for graded in notebook.grade_cells:
                flags[graded.name].update(grade=True, points=float(graded.max_score))
            for solution in notebook.solution_cells:
                flags[solution.name]["solution"] = True
        clear = ClearHiddenTests(parent=self)
        for cell in nb.cells:
            name = cell.metadata.get("nbgrader", {}).get("grade_id")
            if name in flags:
                cell.metadata.nbgrader.update(flags[name])
            if name not in locked or cell.cell_type != locked[name][0]:
                continue
            original = locked[name][1]
            released = NotebookNode(source=original)
            try:
                removed = clear._remove_hidden_test_region(released)
            except RuntimeError:  # unbalanced markers: leave the cell to OverwriteCells
                continue
            if removed and cell.source.strip() == released.source.strip():
                cell.source = original
        return nb, resources


class WriteGradeReport(NbGraderPreprocessor):
    """Last autograde step of nbgrader's own CLI (and formgrader's autograde button): tito's
    verdict on the submission, written as `tito nbgrader autograde` writes it (tito-report.json
    beside the autograded notebook: scores, reasons traced to their root cause, flags), and
    the submission marked in the gradebook (flagged, with the flags as a comment) for
    formgrader. tito's own autograde records its verdicts itself and leaves this step out."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        names = resources.get("nbgrader", {})
        if not all(names.get(key) for key in ("student", "assignment", "notebook", "db_url")):
            return nb, resources
        course = CoursePaths.of(self.config)
        student, assignment = names["student"], names["assignment"]
        release_path = course.release(assignment, names["notebook"] + ".ipynb")
        if not release_path.is_file():
            self.log.warning("No tito report for %s: %s is missing (run `tito nbgrader generate %s`)",
                             student, release_path, assignment)
            return nb, resources
        try:
            report = self._verdict(nb, course, names, nbformat.read(release_path, as_version=4))
        finally:
            limits.EVENTS.clear()  # the next submission of this run starts afresh
        atomic_write_text(course.report(student, assignment), json.dumps(report.to_dict(), indent=2) + "\n")
        self._mark(names, nb, report)
        self.log.info("tito: %s scores %g/%g%s; report in %s", student, report.score, report.max_score,
                      f", flagged: {', '.join(f.kind.value for f in report.review_flags)}"
                      if report.review_flags else "", course.report(student, assignment))
        return nb, resources

    def _verdict(self, nb: NotebookNode, course: CoursePaths, names: dict, release: NotebookNode) -> GradeReport:
        settings = TinyTorchSandbox(parent=self)
        setup = self._setup(settings, names["assignment"], names["notebook"] + ".ipynb")
        report = GradeReport(names["student"], names["assignment"], sandboxed=settings.enabled)
        if not settings.enabled:
            report.flag(FlagKind.UNSANDBOXED, "graded with TinyTorchSandbox.enabled = False: student code ran "
                        "without isolation")
        verdict.flag_missing_limits(report)
        found = intake.read_submission(course.submitted(names["student"], names["assignment"]),
                                       names["notebook"] + ".ipynb", intake.SubmissionIntake(parent=self).limits(),
                                       top=course.submitted_root)
        report.flags.extend(verdict.intake_flags(names["student"], found))
        submitted = _parsed(found.notebook)
        if submitted is None:
            report.graded = False
            problem = found.notebook_problem or "not a valid notebook"
            report.flag(FlagKind.REFUSED_FILE if found.notebook_refused else FlagKind.UNREADABLE, problem)
            verdict.not_graded(report, release, problem)
            return report
        verdict.static_flags(report, submitted, release, setup)
        verdict.score(report, nb, release, setup)
        verdict.flag_limits_reached(report, setup)
        return report

    def _setup(self, settings: TinyTorchSandbox, assignment: str, notebook: str) -> Setup:
        """What the verdict reads of a Setup (no scratch course: nbgrader graded in the real one)."""
        paths = Paths(Path(settings.repo_root)) if settings.repo_root else None
        target, later = CleanRoomCheck(parent=self).export_target, ()
        if paths is not None:
            with contextlib.suppress(TitoError):
                graded = resolve(paths, assignment)
                target = target or graded.export_target
                later = tuple(m.import_name for m in discover(paths) if m.number > graded.number)
        return Setup(assignment, notebook, target, plain_config(self.config), {}, {}, settings.enabled, later)

    def _mark(self, names: dict, nb: NotebookNode, report: GradeReport) -> None:
        from nbgrader.api import Gradebook, MissingEntry

        solutions = [cell.metadata.nbgrader["grade_id"] for cell in nb.cells if utils.is_solution(cell)]
        with Gradebook(names["db_url"]) as book:
            try:
                submitted = book.find_submission_notebook(names["notebook"], names["assignment"], names["student"])
            except MissingEntry:
                return
            mark_for_review(submitted, report, solutions)
            book.db.commit()


def _parsed(data: bytes | None) -> NotebookNode | None:
    if data is None:
        return None
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception:  # noqa: BLE001  (nbformat raises several types for malformed files)
        return None
