"""The notebook-only cells of the Layers source: the checks of the narrative's numbers and
the systems-analysis functions, run against the exported package."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

SOURCE = Path(__file__).resolve().parents[2] / "src/03_layers/03_layers.py"


def _plain_code_cells():
    notebook = jupytext.read(SOURCE)
    return [c.source for c in notebook.cells
            if c.cell_type == "code" and "nbgrader" not in c.metadata and "#| export" not in c.source]


@pytest.fixture(scope="module")
def namespace():
    """The package's names, then every plain cell run in order (their asserts check the
    narrative's numbers); what they printed is kept under "printed"."""
    import contextlib
    import io

    import tinytorch.core.layers as layers
    from tinytorch.core.activations import ReLU
    from tinytorch.core.tensor import Tensor

    scope = {"np": np, "Tensor": Tensor, "ReLU": ReLU, **{n: getattr(layers, n) for n in layers.__all__}}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for source in _plain_code_cells():
            exec(compile(source, str(SOURCE), "exec"), scope)
    scope["printed"] = printed.getvalue()
    return scope


def test_every_plain_code_cell_runs(namespace):
    assert len(_plain_code_cells()) >= 8
    printed = namespace["printed"]
    assert "235,146 parameters" in printed and "samples/s" in printed
    assert "6,422,528 multiply-adds" in printed and "8,192 bias additions" in printed
    assert "7,512,064 multiply-adds" in printed and "203,530 parameters" in printed
    assert "all-zero weights:  identical features: True" in printed
    assert "LeCun weights:     identical features: False" in printed
    assert "not finite from layer" in printed
    assert "Batching" in printed or "batching" in printed, "the throughput explanation is printed"


def test_numbers_in_the_text_are_checked_by_code():
    text = SOURCE.read_text()
    narrative = "\n".join(line for line in text.splitlines() if line.startswith("# ") and "|" in line)
    checked = "\n".join(_plain_code_cells())
    for number in ("200,960", "235,146", "940,584", "32,896", "1,290", "401,920", "150,784", "6,422,528", "8,192",
                   "1,048,576", "40,960", "7,512,064", "203,530"):
        assert number in text
        assert number.replace(",", "_") in checked, f"{number} is quoted but not checked"
    assert "85%" in text and "== 85" in checked
    assert re.search(r"918\.5", narrative) and "918.5" in checked
    assert "7.5 million" in text and "== 7.5" in checked and "784 times more work" in text and "== 784" in checked


def test_the_seeds_q4_and_mlp_work_counts(namespace):
    layers = [namespace["Linear"](784, 256), namespace["Linear"](256, 128), namespace["Linear"](128, 10)]
    single = namespace["forward_work"](layers[:1], batch=32)
    assert single == {"multiply_adds": 6_422_528, "bias_adds": 8_192}
    assert namespace["forward_work"](layers, batch=32)["multiply_adds"] == 7_512_064
    no_bias = namespace["forward_work"]([namespace["Linear"](4, 2, bias=False)], batch=3)
    assert no_bias == {"multiply_adds": 24, "bias_adds": 0}


def test_symmetry_and_scale_demonstrations(namespace):
    Linear, Tensor = namespace["Linear"], namespace["Tensor"]
    probe = Tensor(np.random.default_rng(1).standard_normal((8, 5)).astype(np.float32))
    layer = Linear(5, 6, rng=np.random.default_rng(0))
    assert not namespace["identical_features"](layer, probe)
    layer.weight.data[...] = 0.3
    assert namespace["identical_features"](layer, probe)
    lecun = namespace["spread_through_stack"](depth=40, scaled=True)
    unscaled = namespace["spread_through_stack"](depth=40, scaled=False)
    assert all(0.2 < s < 5 for s in lecun)
    assert not all(np.isfinite(unscaled)) and np.isfinite(unscaled[20]) and unscaled[20] > 1e20


def _measurement(seconds: dict) -> dict:
    return {b: {"seconds": s, "samples_per_second": b / s, "flops": 2 * b * 784 * 256} for b, s in seconds.items()}


def test_throughput_explanation_follows_the_measurement(namespace):
    explain = namespace["explain_throughput"]
    usual = " ".join(explain(_measurement({1: 20e-6, 32: 200e-6, 128: 500e-6, 512: 1900e-6})))
    assert "raised throughput 3.2× from batch 1 to batch 32" in usual
    assert "grew only 1.05×" in usual and "arithmetic, not the cost per call" in usual
    assert "62.5× and 16.0× those figures" in usual
    busy = " ".join(explain(_measurement({1: 20e-6, 32: 700e-6})))
    assert "did not raise throughput" in busy and "0.91×" in busy and "run the cell again" in busy
    assert "Batching raised" not in busy
    slight = " ".join(explain(_measurement({1: 20e-6, 32: 500e-6})))
    assert "only 1.28×" in slight and "probably busy" in slight
    growing = " ".join(explain(_measurement({1: 20e-6, 32: 100e-6, 128: 200e-6, 512: 400e-6})))
    assert "still grew 2.00×" in growing
    assert explain(_measurement({128: 1e-3})) == []


def test_best_seconds_per_call_measures_every_contender_in_every_round(namespace):
    calls = {"a": 0, "b": 0}

    def counter(name):
        return lambda: calls.__setitem__(name, calls[name] + 1)

    best = namespace["best_seconds_per_call"]({"a": counter("a"), "b": counter("b")}, rounds=3, target_seconds=0.0)
    assert set(best) == {"a", "b"} and all(0 <= seconds < 1 for seconds in best.values())
    assert calls == {"a": 5, "b": 5}  # warm-up, one calibration call, three rounds of one call


def test_performance_analysis_measures_every_batch_size(namespace):
    results = namespace["analyze_layer_performance"](batch_sizes=(1, 32), repeats=2, plot=True)
    assert set(results) == {1, 32}
    for batch, row in results.items():
        assert row["samples_per_second"] > 0 and row["flops"] == 2 * batch * 784 * 256


def test_memory_analysis_reports_bytes(namespace):
    rows = namespace["analyze_layer_memory"](configurations=((784, 256),))
    assert rows[0] == (784, 256, 784 * 256 * 4, 256 * 4)
    assert ((784, 256, 128, 10), 235_146) in rows
