"""Fixtures shared by every test folder (helpers live in tests/helpers.py)."""

from __future__ import annotations

import multiprocessing.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from helpers import copy_repo

# The session's own temporary root (TMPDIR of this process and of every tito it starts):
# what tito leaves behind is told apart from what other programs on a shared machine put
# in /tmp. pytest's basetemp lives there too; the whole root is removed after a session
# that passed, and kept (its path printed) after one that failed, for the post-mortem.
_SESSION_TMP: dict[str, Path] = {}


def pytest_sessionstart(session) -> None:
    # multiprocessing's own temporary folder is made now, outside the root, because it removes it
    # itself at exit, after the root is gone (inside it, its clean-up would fail with a traceback)
    multiprocessing.util.get_temp_dir()
    root = Path(tempfile.mkdtemp(prefix="pytest-session-"))
    _SESSION_TMP["root"] = root
    os.environ["TMPDIR"] = str(root)
    tempfile.tempdir = str(root)


def pytest_sessionfinish(session, exitstatus) -> None:
    root = _SESSION_TMP.get("root")
    if root is None:
        return
    left = sorted(path.name for path in root.iterdir() if path.name.startswith("tito-"))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if left:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(f"tito left {len(left)} temporary folder(s) behind in {root}: {', '.join(left[:5])}",
                                red=True)
    if session.exitstatus == pytest.ExitCode.OK:
        shutil.rmtree(root, ignore_errors=True)
    elif reporter:
        reporter.write_line(f"temporary files of this session kept in {root}")


@pytest.fixture
def repo(tmp_path) -> Path:
    """A fresh copy of the repository (never the working tree)."""
    return copy_repo(tmp_path / "repo")


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL server (Debian's postgresql). Skipped where it is not installed,
    unless TINYTORCH_REQUIRE_POSTGRES is set (as in CI)."""
    import pgserver

    if pgserver.find_binaries() is None:
        if os.environ.get("TINYTORCH_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (TINYTORCH_REQUIRE_POSTGRES) but not installed: "
                        "apt-get install postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = pgserver.start()
    yield server
    server.stop()
