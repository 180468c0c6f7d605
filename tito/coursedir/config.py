"""The nbgrader configuration, and the one authority for paths inside a course.

The configuration is the repository's `nbgrader_config.py`, optionally re-rooted on a
scratch course with its own gradebook. Every path inside a course comes from nbgrader's own
`CourseDirectory.format_path` (through `CoursePaths`), so a course laid out by nbgrader
(source/, release/, submitted/, autograded/, feedback/) and one laid out by tito are the
same thing, and the course root is the one nbgrader_config.py names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tito.course.paths import Paths

COURSE_ID = "tinytorch"
REPORT_FILE = "tito-report.json"  # beside each autograded notebook: the GradeReport as JSON
TIMESTAMP_FILE = "timestamp.txt"  # nbgrader's record of when a submission was handed in


def load_config(paths: Paths, course_root: Path | None = None):
    """The repository's nbgrader_config.py as a traitlets Config; with `course_root`, re-rooted
    there with a sqlite gradebook of its own (a scratch course)."""
    from traitlets.config.loader import PyFileConfigLoader

    loader = PyFileConfigLoader(paths.nbgrader_config.name, path=str(paths.root))
    config = loader.load_config()
    if course_root is not None:
        config.merge(scratch_overrides(course_root))
    return config


def scratch_overrides(course_root: Path):
    from traitlets.config import Config

    override = Config()
    override.CourseDirectory.root = str(course_root)
    override.CourseDirectory.db_url = f"sqlite:///{course_root / 'gradebook.db'}"
    return override


@dataclass(frozen=True)
class CoursePaths:
    """Where each thing of a course lives: nbgrader's `CourseDirectory` (which the
    converters take as it is, `.coursedir`), with one method per folder. `module` is the
    module's slug, nbgrader's assignment id."""

    coursedir: object  # nbgrader.coursedir.CourseDirectory (imported lazily: nbgrader is slow to import)

    @classmethod
    def of(cls, config, **attributes) -> CoursePaths:
        """The course of `config`, with e.g. assignment_id or student_id set on nbgrader's
        CourseDirectory (what its converters act on)."""
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=config)
        for name, value in attributes.items():
            setattr(coursedir, name, value)
        return cls(coursedir)

    @property
    def root(self) -> Path:
        return Path(self.coursedir.root)

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    def _path(self, step: str, student: str, module: str, name: str | None) -> Path:
        folder = Path(self.coursedir.format_path(step, student, module))
        return folder / name if name else folder

    def source(self, module: str, notebook: str | None = None) -> Path:
        return self._path(self.coursedir.source_directory, ".", module, notebook)

    def release(self, module: str, notebook: str | None = None) -> Path:
        return self._path(self.coursedir.release_directory, ".", module, notebook)

    def submitted(self, student: str, module: str, name: str | None = None) -> Path:
        return self._path(self.coursedir.submitted_directory, student, module, name)

    def autograded(self, student: str, module: str, name: str | None = None) -> Path:
        return self._path(self.coursedir.autograded_directory, student, module, name)

    def feedback(self, student: str, module: str, name: str | None = None) -> Path:
        return self._path(self.coursedir.feedback_directory, student, module, name)

    def report(self, student: str, module: str) -> Path:
        """The GradeReport tito stores beside a student's autograded notebook."""
        return self.autograded(student, module, REPORT_FILE)

    @property
    def submitted_root(self) -> Path:
        return self.root / self.coursedir.submitted_directory

    def submitted_students(self, module: str) -> list[str]:
        """Every student folder that has a submission folder for `module`."""
        if not self.submitted_root.is_dir():
            return []
        return sorted(p.name for p in self.submitted_root.iterdir() if self.submitted(p.name, module).is_dir())
