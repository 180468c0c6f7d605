"""The gradebook database: opening nbgrader's Gradebook, and a clear error for one that
cannot be used (a missing driver, a wrong password, a server that does not answer)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from tito.coursedir.config import COURSE_ID
from tito.coursedir.converters import speed_up_new_gradebooks
from tito.errors import TitoError

_DRIVERS = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pymysql": "pymysql"}


def shown_url(db_url: str) -> str:
    """The database address without its password."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001  (a malformed address is shown as little as possible)
        return db_url.split("@")[-1]


def database_error(db_url: str, detail: str) -> TitoError:
    """A clear error for a gradebook that cannot be used, naming the problem and the fix."""
    where = shown_url(db_url)
    text = detail.lower()
    missing = re.search(r"no module named '([\w.]+)'", text)
    if missing:
        module = missing[1].split(".")[0]
        package = _DRIVERS.get(module, module)
        fix = ('`pip install -e ".[postgres]"`' if module == "psycopg" else f"`pip install {package}`")
        return TitoError(f"The gradebook {where} needs the database driver `{module}`, which is not installed.",
                         f"Install it with {fix}, or use a postgresql:// address (psycopg 3, the .[postgres] extra).")
    if "password authentication failed" in text or "authentication failed" in text or "no password supplied" in text:
        return TitoError(f"Cannot log in to the gradebook {where}: the database refused the user or password.",
                         "Check the user and password in TINYTORCH_GRADEBOOK_URL (or ~/.pgpass).")
    if "does not exist" in text and "database" in text:
        return TitoError(f"The gradebook database {where} does not exist.",
                         "Create it first (PostgreSQL: `createdb tinytorch`).")
    if any(word in text for word in ("could not connect", "connection refused", "is the server running",
                                     "could not translate host", "timeout expired", "unable to open database")):
        return TitoError(f"Cannot reach the gradebook {where}: the database server does not answer.",
                         "Start the database server, or fix the host and port in TINYTORCH_GRADEBOOK_URL.")
    last = (detail.strip().splitlines() or ["unknown error"])[-1][:300]
    return TitoError(f"The gradebook {where} cannot be used: {last}",
                     "Check TINYTORCH_GRADEBOOK_URL and that the database server is running.")


@contextlib.contextmanager
def opened(db_url: str) -> Iterator:
    """nbgrader's Gradebook on `db_url`; a database that cannot be reached or logged into is
    a TitoError, never a traceback and never a batch of students graded 0."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SQLAlchemyError

    speed_up_new_gradebooks()
    if db_url.startswith("sqlite:///"):  # a new course: its folder holds the gradebook file
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        gradebook = Gradebook(db_url, COURSE_ID)
    except (SQLAlchemyError, ImportError, OSError) as error:
        raise database_error(db_url, f"{type(error).__name__}: {error}") from error
    try:
        yield gradebook
    except SQLAlchemyError as error:
        gradebook.db.rollback()
        raise database_error(db_url, f"{type(error).__name__}: {error}") from error
    finally:
        gradebook.close()


def check(db_url: str) -> None:
    """Open and close the gradebook: fails early, before any grading work."""
    with opened(db_url):
        pass
