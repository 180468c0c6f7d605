"""Building the student notebook: the solution-leak safety net and bad sources."""

import pytest

from tito.course import notebooks
from tito.course.paths import Paths
from tito.course.registry import resolve
from tito.coursedir import release
from tito.errors import TitoError


@pytest.fixture
def layers(repo):
    return resolve(Paths(repo), "03_layers")


def test_leaks_are_found_line_by_line(layers):
    source = notebooks.read_source(layers)
    student = release.student_version(source)
    assert notebooks.solution_leaks(source, student) == []
    dropout = next(c for c in student.cells if notebooks.grade_id(c) == "dropout")
    dropout.source += "\n        mask = _keep_mask(x.shape, keep, self.rng)\n"
    assert notebooks.solution_leaks(source, student) == ["mask = _keep_mask(x.shape, keep, self.rng)"]


def test_a_student_notebook_that_would_leak_is_refused(layers, monkeypatch):
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    for step in (ClearSolutions, ClearHiddenTests):  # as if nbgrader stripped nothing
        monkeypatch.setattr(step, "preprocess", lambda self, nb, resources: (nb, resources))
    with pytest.raises(TitoError, match="would contain solution lines"):
        release.student_version(notebooks.read_source(layers))


def test_a_solution_block_outside_a_solution_cell_is_a_clear_error(layers):
    source = notebooks.read_source(layers)
    next(c for c in source.cells if notebooks.grade_id(c) == "dropout").metadata["nbgrader"]["solution"] = False
    with pytest.raises(TitoError, match="cannot strip") as info:
        release.student_version(source)
    assert '"solution": true' in info.value.hint
