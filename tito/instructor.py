"""The instructor's nbgrader workflow on the course directory `nbgrader/`.

generate: source notebook from src/ → nbgrader generate → checks that the release is
          safe (no solutions, no hidden tests) and that the tests tell right from wrong.
autograde / feedback / export: nbgrader's own converters and CSV export plugin.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tito import grading, notebooks
from tito.errors import TitoError
from tito.paths import Paths
from tito.registry import Module


@dataclass
class GenerateResult:
    release: Path
    reference: grading.GradeReport
    untouched: grading.GradeReport


def validate_source(paths: Paths, module: Module, source_path: Path) -> None:
    """`nbgrader validate` on the source notebook: every graded cell must pass."""
    from nbgrader.validator import Validator

    config = grading.course_config(paths, paths.course)
    results = Validator(config=config).validate(str(source_path))
    problems = results.get("failed") or results.get("type_changed") or results.get("changed")
    if problems:
        first = problems[0].get("raw_error") or problems[0].get("source", "")
        raise TitoError(f"nbgrader validate fails on the {module.slug} source:\n{first[:800]}",
                        f"Fix {module.source.relative_to(paths.root)} and run generate again.")


def generate(paths: Paths, module: Module) -> GenerateResult:
    course = paths.course
    source = grading.nbgrader_source(module)
    release = grading.generate(course, module, paths)
    release_path = course / "release" / module.slug / module.notebook_name
    validate_source(paths, module, course / "source" / module.slug / module.notebook_name)

    leaks = notebooks.solution_leaks(source, release)
    stray = [p.name for p in release_path.parent.iterdir() if p.suffix == ".py"]
    if leaks or stray:
        raise TitoError(f"The release of {module.slug} leaks solutions: {(leaks + stray)[:3]}",
                        "Check the ### BEGIN/END markers in the source and CourseDirectory.ignore.")

    reference = grading.grade_notebook(module, paths, source, student="reference")
    if not reference.full_marks:
        failed = [f"{c.grade_id} ({c.error})" for c in reference.cells if not c.passed]
        raise TitoError(f"The reference solution of {module.slug} does not score full marks: {failed}",
                        "A graded cell fails on the solution: fix the test or the solution.")
    untouched = grading.grade_notebook(module, paths, release, student="untouched")
    passing = [c.grade_id for c in untouched.cells if c.score > 0]
    if passing:
        raise TitoError(f"The untouched release of {module.slug} already scores points in {passing}",
                        "Those cells cannot tell a right answer from an empty one: strengthen them.")
    return GenerateResult(release_path, reference, untouched)


def _ensure_generated(paths: Paths, module: Module) -> None:
    if not (paths.course / "release" / module.slug / module.notebook_name).is_file():
        raise TitoError(f"{module.slug} has not been generated in {paths.course}.",
                        f"Run `tito nbgrader generate {module.slug}` first.")


def autograde(paths: Paths, module: Module, student: str | None = None,
              jobs: int | None = None) -> list[grading.GradeReport]:
    _ensure_generated(paths, module)
    everyone = grading.students(paths.course, module)
    if student is not None:
        if student not in everyone:
            raise TitoError(f"No submission of {module.slug} by '{student}' in "
                            f"{paths.course / 'submitted'}.",
                            "Submissions go in nbgrader/submitted/<student>/<module>/<notebook>.")
        everyone = [student]
    if not everyone:
        raise TitoError(f"No submissions of {module.slug} in {paths.course / 'submitted'}.",
                        "Put them in nbgrader/submitted/<student>/<module>/<notebook>.")
    return grading.autograde(paths.course, module, paths, everyone, jobs or default_jobs())


def default_jobs() -> int:
    """Both cores, unless the gradebook is a sqlite file shared over a network (not here)."""
    return max(1, min(2, os.cpu_count() or 1))


def feedback(paths: Paths, module: Module) -> list[Path]:
    """nbgrader's HTML feedback for every autograded submission of the module."""
    from nbgrader.converters import GenerateFeedback

    _ensure_generated(paths, module)
    config = grading.course_config(paths, paths.course)
    coursedir = grading._course_directory(config, assignment_id=module.slug)
    app = GenerateFeedback(coursedir=coursedir, config=config)
    app.force = True
    result = grading._run(app)
    pages = sorted((paths.course / "feedback").glob(f"*/{module.slug}/*.html"))
    if not result["success"] and not pages:
        raise TitoError(f"nbgrader could not write feedback for {module.slug}:\n"
                        f"{grading._last_lines(result)}", "Autograde the submissions first.")
    return pages


def export_csv(paths: Paths, destination: Path) -> Path:
    """nbgrader's grades CSV (all assignments and students in the gradebook)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    if not destination.parent.is_dir():
        raise TitoError(f"Cannot write {destination}: the folder {destination.parent} does not exist.",
                        "Create it first, or give --to a path in an existing folder.")
    config = grading.course_config(paths, paths.course)
    coursedir = grading._course_directory(config)
    temporary = destination.with_name(f".{destination.name}.tmp")
    plugin = CsvExportPlugin(config=config)
    plugin.to = str(temporary)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        plugin.export(gradebook)
    os.replace(temporary, destination)
    return destination
