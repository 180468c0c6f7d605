"""The course tools a student needs, from the one list kept in pyproject.toml: the
`course` extra in the instructor's repository (which `dev` includes), the plain
dependencies in a student edition (whose pyproject.toml is written from that extra)."""

from __future__ import annotations

import re
import tomllib

from tito.course.paths import Paths

_NAME = re.compile(r"^[A-Za-z0-9._-]+")


def course_requirements(paths: Paths) -> list[str]:
    """Requirement strings (e.g. "nbgrader>=0.9.6,<0.10"), NumPy first."""
    project = tomllib.loads((paths.root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    if paths.is_student_edition:
        return list(project["dependencies"])
    return [*project["dependencies"], *project["optional-dependencies"]["course"]]


def distribution(requirement: str) -> str:
    """The distribution a requirement names ("nbgrader>=0.9.6" -> "nbgrader")."""
    match = _NAME.match(requirement.strip())
    return match[0] if match else requirement
