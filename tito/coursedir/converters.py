"""Running nbgrader's converters (GenerateAssignment, Autograde, ...) the way tito needs:
quietly, with their log kept, a Ctrl-C let through, and new gradebooks made fast."""

from __future__ import annotations

import functools
import io
import logging
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from tito.course import notebooks
from tito.errors import TitoError


@dataclass(frozen=True)
class ConverterResult:
    """What a converter run gave: like nbgrader's `capture_log` dict, as a type."""

    success: bool
    log: str
    error: str = ""  # the traceback, when it failed

    def last_lines(self, count: int = 40) -> str:
        text = self.error + "\n" + self.log
        return "\n".join(text.strip().splitlines()[-count:])

    @property
    def text(self) -> str:
        return self.error + self.log


@functools.cache
def speed_up_new_gradebooks() -> None:
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


def run_converter(app) -> ConverterResult:
    """Run an nbgrader converter, like nbgrader's `capture_log`, whose bare `except` would
    also swallow Ctrl-C: this one lets it through."""
    speed_up_new_gradebooks()
    app.log.setLevel(logging.INFO)
    silenced = [h for h in app.log.handlers if isinstance(h, logging.StreamHandler)]
    for handler in silenced:  # keep nbgrader's chatter off the terminal; the buffer keeps it
        app.log.removeHandler(handler)
    buffer = io.StringIO()
    capture = logging.StreamHandler(buffer)
    capture.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    app.log.addHandler(capture)
    propagate, app.log.propagate = app.log.propagate, False
    success, error = True, ""
    try:
        with warnings.catch_warnings():  # nbgrader's own SQLAlchemy warnings say nothing to a user
            warnings.filterwarnings("ignore", module=r"nbgrader\.")
            warnings.filterwarnings("ignore", message=r".*not in session.*")
            app.start()
    except Exception:  # noqa: BLE001  (reported to the caller, like nbgrader does)
        success, error = False, traceback.format_exc()
    finally:
        app.log.removeHandler(capture)
        app.log.propagate = propagate
        for handler in silenced:
            app.log.addHandler(handler)
    return ConverterResult(success, buffer.getvalue(), error)


def require_kernel() -> None:
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
