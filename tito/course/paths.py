"""Every path tito uses, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tito.errors import TitoError

ROOT_ENV = "TITO_ROOT"


MANIFEST = Path(".course") / "course.json"


def _is_repo_root(path: Path) -> bool:
    """A course checkout: the instructor's (with src/) or a student edition (with .course/)."""
    has_course = (path / "src").is_dir() or (path / MANIFEST).is_file()
    return has_course and (path / "tinytorch").is_dir() and (path / "tito").is_dir()


def find_root(start: Path | None = None) -> Path:
    """The repository root: $TITO_ROOT, else the nearest folder above the current one that
    holds src/, tinytorch/ and tito/, else the checkout this tito package lives in."""
    if os.environ.get(ROOT_ENV):
        root = Path(os.environ[ROOT_ENV]).resolve()
        if not _is_repo_root(root):
            raise TitoError(f"{ROOT_ENV}={root} is not a TinyTorch checkout (no src/ or .course/, tinytorch/, tito/).")
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in [here, *here.parents]:
        if _is_repo_root(candidate):
            return candidate
    package_checkout = Path(__file__).resolve().parents[2]
    if _is_repo_root(package_checkout):
        return package_checkout
    raise TitoError(
        "Cannot find the TinyTorch repository (a folder with tinytorch/, tito/ and src/ or .course/).",
        "Run tito inside your clone of the course repository.",
    )


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def manifest(self) -> Path:
        """The student edition's list of modules and release notebooks."""
        return self.root / MANIFEST

    @property
    def releases(self) -> Path:
        """The student edition's pristine release notebooks (tracked; never edited)."""
        return self.manifest.parent

    @property
    def is_student_edition(self) -> bool:
        return not self.src.is_dir() and self.manifest.is_file()

    @property
    def modules(self) -> Path:
        return self.root / "modules"

    @property
    def package(self) -> Path:
        return self.root / "tinytorch"

    @property
    def tests(self) -> Path:
        return self.root / "tests"

    @property
    def state(self) -> Path:
        """tito's own working files (git-ignored): progress, backups, grading scratch."""
        return self.root / ".tito"

    @property
    def progress_file(self) -> Path:
        return self.state / "progress.json"

    @property
    def backups(self) -> Path:
        return self.state / "backups"

    @property
    def nbgrader_config(self) -> Path:
        return self.root / "nbgrader_config.py"

    @property
    def cache(self) -> Path:
        """Generated nbgrader courses, keyed by what they were generated from."""
        return self.state / "cache"


def get_paths() -> Paths:
    return Paths(find_root())
