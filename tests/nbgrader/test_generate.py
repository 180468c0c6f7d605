"""`tito nbgrader generate 03_layers`: the release it writes, and what it refuses to release.

The student-notebook leak net (`notebooks.student_version`) is tested in
tests/tito/test_notebook_building.py; here it is the instructor's release that is checked.
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
from course_batch import generate
from helpers import copy_repo

from tito.course import notebooks
from tito.course.paths import Paths
from tito.course.registry import resolve
from tito.errors import TitoError

pytestmark = pytest.mark.slow

# Lines from solution blocks and hidden tests of src/03_layers/03_layers.py.
SECRETS = ["seen.add(id(tensor))", "weight *= np.float32(scale)", "output = x.data * np.float32(1.0 / keep)",
           "params, seen = [], set()", "Linear(np.int32(5), np.uint16(3))",
           'Echo()("x", 7, 8, training=False, name="n")',
           "halve, dec = Affine(0.5, 0, log), Affine(1, -1, log)"]


def test_the_release_of_the_real_source_is_safe_and_tells_right_from_wrong(graded_batch):
    result, course = graded_batch.generated, graded_batch.course
    release = course / "release" / "03_layers"
    assert result.release == release / "layers.ipynb"
    assert sorted(p.name for p in release.iterdir()) == ["layers.ipynb"]  # no .py source with it

    source = notebooks.read_source(resolve(Paths(graded_batch.root), "03_layers"))
    released = nbformat.read(result.release, as_version=4)
    text = "\n".join(cell.source for cell in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    for secret in SECRETS:
        assert secret in "\n".join(cell.source for cell in source.cells) and secret not in text, secret
    assert "NotImplementedError" in text
    assert notebooks.solution_leaks(source, released) == []

    assert result.reference.full_marks and result.reference.score == result.reference.max_score == 100
    assert [c.score for c in result.untouched.cells] == [0] * 11
    for cell in result.untouched.cells:  # each fails on the stubs, not for some other reason
        assert "is not implemented yet" in cell.reason, (cell.grade_id, cell.reason)


def test_nbgrader_validate_passes_on_the_source(graded_batch):
    validate = subprocess.run([sys.executable, "-m", "nbgrader", "validate", "nbgrader/source/03_layers/layers.ipynb"],
                              cwd=graded_batch.root, env=graded_batch.env(), capture_output=True, text=True,
                              timeout=600)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "Success! Your notebook passes all the tests." in validate.stdout, validate.stdout


def _replace_body(source_file, function: str, body: str) -> None:
    text = source_file.read_text()
    start = text.index(f"def {function}():\n") + len(f"def {function}():\n")
    end = text.index(f"\n\n\n{function}()\n", start)  # the plain call that ends the test cell
    source_file.write_text(text[:start] + body + text[end:])


def test_a_test_cell_that_passes_on_the_stubs_is_refused(tmp_path):
    root = copy_repo(tmp_path / "repo")
    _replace_body(root / "src/03_layers/03_layers.py", "test_unit_layer_base", "    pass")
    with pytest.raises(TitoError) as refused:
        generate(root)
    message = refused.value.message
    assert "untouched release" in message and "already scores points" in message
    assert re.findall(r"test-[a-z-]+", message) == ["test-layer-base"], message
    assert "strengthen" in refused.value.hint


def test_a_release_with_solution_lines_is_refused(tmp_path, monkeypatch):
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    for step in (ClearSolutions, ClearHiddenTests):  # as if nbgrader stripped nothing
        monkeypatch.setattr(step, "preprocess", lambda self, nb, resources: (nb, resources))
    root = copy_repo(tmp_path / "repo")
    with pytest.raises(TitoError, match="leaks solutions") as refused:
        generate(root)
    secret = notebooks.solution_lines(notebooks.read_source(resolve(Paths(root), "03_layers")))
    assert any(line in refused.value.message for line in secret), refused.value.message  # names what leaked
    assert "BEGIN/END markers" in refused.value.hint


def test_a_release_with_the_python_source_is_refused(tmp_path):
    root = copy_repo(tmp_path / "repo")
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text().replace(', "*.py"]', "]"))  # nbgrader now copies .py files
    assert '"*.py"' not in config.read_text()
    source = root / "nbgrader/source/03_layers"
    source.mkdir(parents=True)
    (source / "03_layers.py").write_text((root / "src/03_layers/03_layers.py").read_text())
    with pytest.raises(TitoError, match="leaks solutions") as refused:
        generate(root)
    assert "03_layers.py" in refused.value.message
