"""Fixtures shared by every test folder (helpers live in tests/helpers.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import copy_repo


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
