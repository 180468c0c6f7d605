"""The course loop shared by the tests of this folder (see loop_course.py): one generated
course, three hand-ins, and one run of collect → autograde → feedback → export → report."""

from __future__ import annotations

import pytest
from loop_course import HandedIn, Loop, generate, hand_in, run_loop


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """A repository copy with 03_layers generated (copy it before changing anything)."""
    return generate(tmp_path_factory.mktemp("loop-generated"))


@pytest.fixture(scope="session")
def handed_in(generated, tmp_path_factory) -> HandedIn:
    """Ada, Alan and Grace each ran `tito module submit 03_layers` on their notebook."""
    return hand_in(generated, tmp_path_factory.mktemp("loop-students"))


@pytest.fixture(scope="session")
def loop(generated, handed_in, tmp_path_factory) -> Loop:
    return run_loop(generated, handed_in, tmp_path_factory.mktemp("loop"))
