"""The autograde batch shared by the tests of this folder (see course_batch.py)."""

from __future__ import annotations

import pytest
from course_batch import Batch, grade_batch


@pytest.fixture(scope="session")
def graded_batch(tmp_path_factory) -> Batch:
    """A repository copy with 03_layers generated and thirteen submissions autograded in
    one `tito nbgrader autograde 03_layers --json FILE` run (once a session: real kernels)."""
    return grade_batch(tmp_path_factory.mktemp("course"))
