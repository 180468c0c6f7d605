"""The autograde steps tito adds to nbgrader's own (tito.grading.pipeline): the submitted
folder's intake, the sandboxed Execute and the clean-room check.

Configured in nbgrader_config.py, so `nbgrader autograde` and formgrader get them too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Unicode

from tito.course.paths import Paths
from tito.course.registry import resolve
from tito.coursedir import intake
from tito.coursedir.config import CoursePaths
from tito.errors import TitoError
from tito.grading import cleanroom, sanitize, scan
from tito.grading.setup import site_for_assignment
from tito.inline import RESULT_MARKER
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
