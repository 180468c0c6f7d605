"""The autograde batch shared by the tests of this folder (see course_batch.py), once with
nbgrader's default sqlite gradebook and once with a real PostgreSQL server."""

from __future__ import annotations

import pytest
from course_batch import Batch, grade_batch


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def graded_batch(request, tmp_path_factory) -> Batch:
    """A repository copy with 03_layers generated and thirteen submissions autograded in
    one `tito nbgrader autograde 03_layers --json FILE` run (once a session: real kernels)."""
    url = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        url = server.url(server.new_database())
    return grade_batch(tmp_path_factory.mktemp(f"course-{request.param}"), url)
