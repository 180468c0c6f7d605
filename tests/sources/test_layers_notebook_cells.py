"""The notebook-only cells of the Layers source: the checks of the narrative's numbers and
the systems-analysis functions, run against the exported package."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import matplotlib
import pytest

matplotlib.use("Agg")

SOURCE = Path(__file__).resolve().parents[2] / "src/03_layers/03_layers.py"


def _plain_code_cells():
    notebook = jupytext.read(SOURCE)
    return [c.source for c in notebook.cells
            if c.cell_type == "code" and "nbgrader" not in c.metadata and "#| export" not in c.source]


@pytest.fixture(scope="module")
def namespace():
    import numpy as np

    import tinytorch.core.layers as layers
    from tinytorch.core.activations import ReLU
    from tinytorch.core.tensor import Tensor

    scope = {"np": np, "Tensor": Tensor, "ReLU": ReLU, **{n: getattr(layers, n) for n in layers.__all__}}
    return scope


def test_every_plain_code_cell_runs(namespace, capsys):
    cells = _plain_code_cells()
    assert len(cells) >= 4
    for source in cells:
        exec(compile(source, str(SOURCE), "exec"), namespace)  # asserts inside check the numbers
    printed = capsys.readouterr().out
    assert "235,146 parameters" in printed and "samples/s" in printed


def test_numbers_in_the_text_are_checked_by_code():
    text = SOURCE.read_text()
    narrative = "\n".join(line for line in text.splitlines() if line.startswith("# ") and "|" in line)
    checked = "\n".join(_plain_code_cells())
    for number in ("200,960", "235,146", "940,584", "32,896", "1,290", "401,920", "150,784"):
        assert number in text
        assert number.replace(",", "_") in checked, f"{number} is quoted but not checked"
    assert "85%" in text and "== 85" in checked
    assert re.search(r"918\.5", narrative) and "918.5" in checked


def test_performance_analysis_measures_every_batch_size(namespace):
    results = namespace["analyze_layer_performance"](batch_sizes=(1, 32), repeats=2, plot=True)
    assert set(results) == {1, 32}
    for batch, row in results.items():
        assert row["samples_per_second"] > 0 and row["flops"] == 2 * batch * 784 * 256


def test_memory_analysis_reports_bytes(namespace):
    rows = namespace["analyze_layer_memory"](configurations=((784, 256),))
    assert rows[0] == (784, 256, 784 * 256 * 4, 256 * 4)
    assert ((784, 256, 128, 10), 235_146) in rows
