"""Fixtures shared by every test folder (helpers live in tests/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import copy_repo


@pytest.fixture
def repo(tmp_path) -> Path:
    """A fresh copy of the repository (never the working tree)."""
    return copy_repo(tmp_path / "repo")
