"""The one grading engine, for students (`tito module test`) and instructors (`tito nbgrader`).

Both run nbgrader's own converters on an nbgrader course directory: GenerateAssignment
(records the graded cells, with their hidden tests, in the gradebook) and Autograde
(restores edited or deleted locked cells from the gradebook, executes the student's
notebook with a per-cell timeout, and scores each graded cell). A student's `test` simply
uses a private scratch course directory holding one submission: their own notebook.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from tito import notebooks
from tito.errors import TitoError
from tito.paths import Paths
from tito.registry import Module

PARALLEL_THRESHOLD = 4  # batches at least this large use both cores


# -- configuration ---------------------------------------------------------------------------
def load_nbgrader_config(paths: Paths | None = None, course_root: Path | None = None):
    """The repository's nbgrader_config.py as a traitlets Config, optionally re-rooted."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    from tito.paths import get_paths

    paths = paths or get_paths()
    loader = PyFileConfigLoader(paths.nbgrader_config.name, path=str(paths.root))
    config = loader.load_config()
    if course_root is not None:
        override = Config()
        override.CourseDirectory.root = str(course_root)
        override.CourseDirectory.db_url = f"sqlite:///{course_root / 'gradebook.db'}"
        config.merge(override)
    return config


def course_config(paths: Paths, course_root: Path):
    """Config for a course directory: the instructor's (`nbgrader/`) as configured, any
    other (a student's scratch course) re-rooted with its own sqlite gradebook."""
    return load_nbgrader_config(paths, None if course_root == paths.course else course_root)


@functools.cache
def _speed_up_new_gradebooks() -> None:
    """A new gradebook records nbgrader's schema revision, which nbgrader finds by running
    the `alembic` command in a subprocess: about 3.5 s here, nearly all of it that process
    importing nbgrader again. alembic's Python API gives the same revision in milliseconds
    from the same migration scripts, so use it (falling back to nbgrader's way on error)."""
    import nbgrader
    import nbgrader.api as api

    original = api.get_alembic_version

    def alembic_head() -> str:
        try:
            from alembic.config import Config
            from alembic.script import ScriptDirectory

            config = Config()
            config.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
            return ScriptDirectory.from_config(config).get_current_head()
        except Exception:  # noqa: BLE001  (any failure: let nbgrader do it its own way)
            return original()

    api.get_alembic_version = alembic_head


def _course_directory(config, **attributes):
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    for name, value in attributes.items():
        setattr(coursedir, name, value)
    return coursedir


def _run(app) -> dict:
    """Run an nbgrader converter; returns nbgrader's {success, log, error} dict."""
    from nbgrader.utils import capture_log

    _speed_up_new_gradebooks()
    app.log.setLevel(logging.INFO)
    silenced = [h for h in app.log.handlers if isinstance(h, logging.StreamHandler)]
    for handler in silenced:  # keep nbgrader's chatter off the terminal; capture_log keeps it
        app.log.removeHandler(handler)
    propagate, app.log.propagate = app.log.propagate, False
    try:
        with warnings.catch_warnings():  # nbgrader's own SQLAlchemy warnings say nothing to a user
            warnings.filterwarnings("ignore", module=r"nbgrader\.")
            warnings.filterwarnings("ignore", message=r".*not in session.*")
            return capture_log(app)
    finally:
        app.log.propagate = propagate
        for handler in silenced:
            app.log.addHandler(handler)


def _require_kernel() -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = notebooks.kernel_name()
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel as error:
        raise TitoError(
            f"The Jupyter kernel '{name}' that runs the notebooks is not installed.",
            "Install it with `python -m pip install ipykernel` and "
            f"`python -m ipykernel install --user --name {name}` (or `tito system doctor`).",
        ) from error


def _tool_environment(paths: Paths) -> None:
    """Make child processes find this environment's tools and this checkout's tinytorch.

    nbgrader runs `alembic` by name, so the scripts folder of the running Python must be
    on PATH even when the virtual environment was not activated; kernels get the checkout
    first on PYTHONPATH so that they import its tinytorch.
    """
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    existing = os.environ.get("PYTHONPATH", "")
    parts = [str(paths.root)] + [p for p in existing.split(os.pathsep) if p and p != str(paths.root)]
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)


# -- results ---------------------------------------------------------------------------------
@dataclass
class CellResult:
    grade_id: str
    score: float
    max_score: float
    error: str = ""

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass
class GradeReport:
    student: str
    module: str
    cells: list[CellResult] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    graded: bool = True  # False when nbgrader could not grade the submission at all

    @property
    def score(self) -> float:
        return sum(cell.score for cell in self.cells)

    @property
    def max_score(self) -> float:
        return sum(cell.max_score for cell in self.cells)

    @property
    def full_marks(self) -> bool:
        return self.graded and bool(self.cells) and self.score >= self.max_score

    def to_dict(self) -> dict:
        return {
            "student": self.student, "module": self.module, "score": self.score,
            "max_score": self.max_score, "graded": self.graded, "flags": self.flags,
            "cells": [cell.__dict__ | {"passed": cell.passed} for cell in self.cells],
        }


# -- the course directory --------------------------------------------------------------------
def nbgrader_source(module: Module) -> NotebookNode:
    """The notebook nbgrader generates from: the instructor source, solutions included."""
    return notebooks.read_source(module)


def generate(course_root: Path, module: Module, paths: Paths) -> NotebookNode:
    """Write the nbgrader source notebook and run nbgrader's generate step; returns the
    release notebook."""
    from nbgrader.converters import GenerateAssignment

    _tool_environment(paths)
    source_path = course_root / "source" / module.slug / module.notebook_name
    notebooks.write(nbgrader_source(module), source_path)
    config = course_config(paths, course_root)
    app = GenerateAssignment(coursedir=_course_directory(config, assignment_id=module.slug), config=config)
    app.force = True
    app.create_assignment = True
    result = _run(app)
    release = course_root / "release" / module.slug / module.notebook_name
    if not result["success"] or not release.is_file():
        raise TitoError(
            f"nbgrader could not generate {module.slug}:\n{_last_lines(result)}",
            "Check the nbgrader metadata of the source cells (`nbgrader validate`).",
        )
    return nbformat.read(release, as_version=4)


def _last_lines(result: dict, count: int = 40) -> str:
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    return "\n".join(line for line in text.strip().splitlines()[-count:])


def submission_path(course_root: Path, module: Module, student: str) -> Path:
    return course_root / "submitted" / student / module.slug / module.notebook_name


def students(course_root: Path, module: Module) -> list[str]:
    """Every student folder that has a submission folder for `module`."""
    submitted = course_root / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / module.slug).is_dir())


# -- autograding ------------------------------------------------------------------------------
def autograde(course_root: Path, module: Module, paths: Paths, student_ids: list[str],
              jobs: int = 1) -> list[GradeReport]:
    """Grade each student's submission with nbgrader; one bad submission never stops the
    rest. Submissions under `submitted/` are only read."""
    _require_kernel()
    _tool_environment(paths)
    release = nbformat.read(course_root / "release" / module.slug / module.notebook_name, as_version=4)
    tasks = [(str(course_root), module.slug, str(paths.root), student) for student in student_ids]
    if jobs > 1 and len(tasks) >= PARALLEL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            raw = list(pool.map(_autograde_one_task, tasks))
    else:
        raw = [_autograde_one_task(task) for task in tasks]
    return [_report(course_root, module, release, student, outcome, paths)
            for student, outcome in zip(student_ids, raw, strict=True)]


def _autograde_one_task(task: tuple) -> dict:
    """Run nbgrader's Autograde for one student (in this process or a worker)."""
    course_root, slug, root, student = task
    from nbgrader.converters import Autograde

    from tito.registry import resolve

    paths = Paths(Path(root))
    module = resolve(paths, slug)
    course = Path(course_root)
    problem = _unreadable_submission(course, module, student)
    if problem:
        return {"success": False, "problem": problem}
    config = course_config(paths, course)
    coursedir = _course_directory(config, assignment_id=module.slug, student_id=student)
    app = Autograde(coursedir=coursedir, config=config)
    app.force = True
    app.create_student = True
    result = _run(app)
    return {"success": result["success"], "log": _last_lines(result, 40)}


def _unreadable_submission(course: Path, module: Module, student: str) -> str:
    folder = course / "submitted" / student / module.slug
    path = folder / module.notebook_name
    if not path.is_file():
        found = sorted(p.name for p in folder.glob("*.ipynb"))
        return f"no {module.notebook_name} in the submission" + (f" (found {', '.join(found)})" if found else "")
    try:
        nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception as error:  # nbformat raises several types for malformed files
        return f"not a valid notebook ({type(error).__name__})"
    return ""


def _report(course: Path, module: Module, release: NotebookNode, student: str, outcome: dict,
            paths: Paths) -> GradeReport:
    report = GradeReport(student=student, module=module.slug)
    graded_cells = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    if outcome.get("problem"):
        report.graded = False
        report.flags.append(outcome["problem"])
    else:
        submitted = nbformat.read(submission_path(course, module, student), as_version=4)
        report.flags.extend(_integrity_flags(submitted, release))
        if not outcome["success"]:
            report.graded = False
            log = outcome.get("log", "")
            dead = "DeadKernel" in log or "kernel died" in log.lower() or "unresponsive" in log.lower()
            report.flags.append("kernel died: grading stopped" if dead else "nbgrader could not grade it")
    scores = _gradebook_scores(course, module, student, paths) if report.graded else {}
    outputs, timed_out = _autograded_errors(course, module, student) if report.graded else ({}, False)
    for cell in graded_cells:
        name = notebooks.grade_id(cell)
        points = float(cell.metadata["nbgrader"]["points"])
        score = scores.get(name, 0.0)
        error = outputs.get(name, "") if score < points else ""
        if score < points and not error:
            error = "not graded" if not report.graded else "failed (output on stderr?)"
        report.cells.append(CellResult(name, score, points, error))
    if timed_out:
        report.flags.append("timeout: a cell was interrupted")
    return report


def _integrity_flags(submitted: NotebookNode, release: NotebookNode) -> list[str]:
    flags = []
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
        flags.append("locked cell edited, restored: " + ", ".join(tampered))
    if missing:
        flags.append("cells missing: " + ", ".join(missing))
    return flags


def _gradebook_scores(course: Path, module: Module, student: str, paths: Paths) -> dict[str, float]:
    from nbgrader.api import Gradebook, MissingEntry

    db_url = _course_directory(course_config(paths, course)).db_url
    with Gradebook(db_url, course_id="tinytorch") as gradebook:
        try:
            notebook = gradebook.find_submission_notebook(
                module.notebook_name.removesuffix(".ipynb"), module.slug, student)
        except MissingEntry:
            return {}
        return {grade.name: float(grade.score) for grade in notebook.grades}


def _autograded_errors(course: Path, module: Module, student: str) -> tuple[dict[str, str], bool]:
    """First error line of each graded cell in the autograded notebook, and whether any
    cell was interrupted for running too long."""
    path = course / "autograded" / student / module.slug / module.notebook_name
    if not path.is_file():
        return {}, False
    errors, timed_out = {}, False
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        names = {o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"}
        timed_out = timed_out or bool(names & {"CellTimeoutError", "KeyboardInterrupt"})
        name = notebooks.grade_id(cell)
        if not name:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
                errors[name] = text.splitlines()[0][:200] if text else "error"
                break
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                errors[name] = "wrote to stderr: " + (output.get("text", "").strip().splitlines() or [""])[0][:160]
    return errors, timed_out


# -- the student's path ------------------------------------------------------------------------
def prepared_course(module: Module, paths: Paths) -> Path:
    """A generated nbgrader course for `module`, cached under .tito/ by the hash of what
    generation depends on (the source, nbgrader_config.py, nbgrader's version), so that
    a student's repeated `tito module test` skips the generate step."""
    import nbgrader

    source = nbgrader_source(module)
    digest = hashlib.sha256()
    for part in (notebooks.dumps(source), paths.nbgrader_config.read_text(encoding="utf-8"), nbgrader.__version__):
        digest.update(part.encode("utf-8"))
    cached = paths.state / "cache" / f"{module.slug}-{digest.hexdigest()[:16]}"
    if not (cached / "release" / module.slug / module.notebook_name).is_file():
        building = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        shutil.rmtree(building, ignore_errors=True)
        generate(building, module, paths)
        for stale in cached.parent.glob(f"{module.slug}-*"):
            if stale.name != building.name:
                shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(building, cached)
        except OSError:  # another tito got there first: use theirs
            shutil.rmtree(building, ignore_errors=True)
    return cached


def grade_notebook(module: Module, paths: Paths, notebook: NotebookNode, student: str = "you") -> GradeReport:
    """Grade one notebook exactly as `tito nbgrader autograde` would, in a private copy of
    the generated course."""
    scratch = paths.scratch / f"grade-{module.slug}-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        shutil.copytree(prepared_course(module, paths), scratch)
        target = submission_path(scratch, module, student)
        notebooks.write(notebook, target)
        (target.parent / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC\n")
        return autograde(scratch, module, paths, [student])[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def report_json(reports: list[GradeReport]) -> str:
    return json.dumps([report.to_dict() for report in reports], indent=2)
