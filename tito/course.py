"""The nbgrader course directory and configuration, in one place.

Every path inside a course comes from nbgrader's own `CourseDirectory.format_path`, so a
course laid out by nbgrader (source/, release/, submitted/, autograded/, feedback/) and
one laid out by tito are the same thing. The configuration is the repository's
`nbgrader_config.py`, optionally re-rooted on a scratch course with its own gradebook.
"""

from __future__ import annotations

import functools
import logging
import warnings
from pathlib import Path

from tito.errors import TitoError
from tito.paths import Paths

COURSE_ID = "tinytorch"
REPORT_FILE = "tito-report.json"  # beside each autograded notebook: the GradeReport as JSON

# nbgrader's autograde steps, with the submitted folder checked by tito.intake, the kernel in
# the sandbox, outputs cut at a size, the clean-room re-check, and outputs and markdown
# sanitized before the notebook is stored (nbgrader_config.py uses these lists, and so does tito).
AUTOGRADE_PREPROCESSORS = [
    "tito.preprocessors.SubmissionIntakeCheck",
    "tito.preprocessors.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "tito.sanitize.LimitOutputChars",
    "tito.preprocessors.CleanRoomCheck",
    "tito.sanitize.SanitizeOutputs",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# nbgrader's feedback steps, with student content sanitized and hidden tests' code replaced
# by their results.
FEEDBACK_PREPROCESSORS = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "tito.sanitize.SanitizeOutputs",
    "tito.preprocessors.HideHiddenTests",
]


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


def directory(config, **attributes):
    """nbgrader's CourseDirectory for `config`, with e.g. assignment_id/student_id set."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    for name, value in attributes.items():
        setattr(coursedir, name, value)
    return coursedir


def path(coursedir, step: str, student: str, assignment: str, notebook: str | None = None) -> Path:
    """`<root>/<step>/<student>/<assignment>[/<notebook>]` as nbgrader lays it out."""
    folder = Path(coursedir.format_path(step, student, assignment))
    return folder / notebook if notebook else folder


def submitted_students(coursedir, assignment: str) -> list[str]:
    """Every student folder that has a submission folder for `assignment`."""
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if path(coursedir, coursedir.submitted_directory,
                                                                p.name, assignment).is_dir())


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


def run_converter(app) -> dict:
    """Run an nbgrader converter; returns {success, log, error} like nbgrader's
    `capture_log`, whose bare `except` would also swallow Ctrl-C: this one lets it through."""
    import io
    import traceback

    _speed_up_new_gradebooks()
    app.log.setLevel(logging.INFO)
    silenced = [h for h in app.log.handlers if isinstance(h, logging.StreamHandler)]
    for handler in silenced:  # keep nbgrader's chatter off the terminal; the buffer keeps it
        app.log.removeHandler(handler)
    buffer = io.StringIO()
    capture = logging.StreamHandler(buffer)
    capture.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    app.log.addHandler(capture)
    propagate, app.log.propagate = app.log.propagate, False
    result: dict = {"success": True}
    try:
        with warnings.catch_warnings():  # nbgrader's own SQLAlchemy warnings say nothing to a user
            warnings.filterwarnings("ignore", module=r"nbgrader\.")
            warnings.filterwarnings("ignore", message=r".*not in session.*")
            app.start()
    except Exception:  # noqa: BLE001  (reported to the caller, like nbgrader does)
        result = {"success": False, "error": traceback.format_exc()}
    finally:
        app.log.removeHandler(capture)
        app.log.propagate = propagate
        for handler in silenced:
            app.log.addHandler(handler)
    result["log"] = buffer.getvalue()
    return result


def last_lines(result: dict, count: int = 40) -> str:
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    return "\n".join(text.strip().splitlines()[-count:])


def require_kernel() -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from tito import notebooks

    name = notebooks.kernel_name()
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel as error:
        raise TitoError(
            f"The Jupyter kernel '{name}' that runs the notebooks is not installed.",
            "Install it with `python -m pip install ipykernel` and "
            f"`python -m ipykernel install --user --name {name}` (or `tito system doctor`).",
        ) from error
