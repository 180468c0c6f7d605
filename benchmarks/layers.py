"""Layers benchmark: tinytorch against raw NumPy and PyTorch, in one process and one run.

    python -m benchmarks.layers [--quick] [--json FILE]

Contenders are interleaved and each figure is a median over repeats (tinytorch.profiling,
the same code the Layers notebook uses). Ratios compare medians from the same run.
"""

from __future__ import annotations

import os

# Two thread pools share 2 cores here: NumPy's OpenBLAS and PyTorch's OpenMP. Left to
# busy-wait after each call (OpenBLAS spins 2**28 cycles by default) they steal the cores
# from whichever contender runs next, and every interleaved figure becomes noise. OpenMP
# threads sleep at once; OpenBLAS threads spin briefly, long enough to stay awake between
# the matrix products of one forward pass. Both must be set before the libraries load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "18")  # spin 2**18 cycles, then sleep

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402

from tinytorch.core.activations import ReLU  # noqa: E402
from tinytorch.core.layers import Dropout, Linear, Sequential  # noqa: E402
from tinytorch.core.tensor import Tensor  # noqa: E402
from tinytorch.profiling import measure_interleaved  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional
    torch = None

THREADS = os.cpu_count() or 1
DROPOUT_SHAPE = (256, 1024)


@dataclass
class Workload:
    name: str
    batch: int
    contenders: dict[str, Callable[[], object]]
    parameter_bytes: int
    target: str  # how the tinytorch/NumPy ratio is judged
    peak_bytes: dict[str, int] = field(default_factory=dict)


def _inputs(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)


def _torch_linear(layer: Linear):
    twin = torch.nn.Linear(layer.in_features, layer.out_features)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
        twin.bias.copy_(torch.from_numpy(layer.bias.data))
    return twin.eval()


def _no_grad(module, x):
    def run():
        with torch.no_grad():
            return module(x)
    return run


def linear_workload(batch: int) -> Workload:
    layer = Linear(784, 256, rng=np.random.default_rng(0))
    x = _inputs(batch, 784)
    tensor, weight, bias = Tensor(x), layer.weight.data, layer.bias.data
    contenders = {"tinytorch": lambda: layer(tensor), "numpy": lambda: x @ weight + bias}
    if torch is not None:
        contenders["pytorch"] = _no_grad(_torch_linear(layer), torch.from_numpy(x))
    target = "≤ NumPy + 3 µs" if batch == 1 else "≤ 1.10× NumPy"
    return Workload(f"Linear(784, 256) b={batch}", batch, contenders,
                    weight.nbytes + bias.nbytes, target)


def dropout_workload() -> Workload:
    x = _inputs(*DROPOUT_SHAPE)
    tensor, layer = Tensor(x), Dropout(0.5)
    generator = np.random.default_rng(0)
    keep, scale = np.float32(0.5), np.float32(2.0)

    def numpy_float32_mask():  # the best NumPy formulation we found: float32 draws, one mask
        return x * (generator.random(DROPOUT_SHAPE, dtype=np.float32) < keep) * scale

    contenders = {"tinytorch": lambda: layer(tensor, training=True), "numpy": numpy_float32_mask}
    if torch is not None:
        xt = torch.from_numpy(x)
        contenders["pytorch"] = lambda: torch.nn.functional.dropout(xt, 0.5, training=True)
    return Workload(f"Dropout(0.5) train {DROPOUT_SHAPE}", DROPOUT_SHAPE[0], contenders, 0, "≤ 1.5× NumPy")


def mlp_workload(batch: int) -> Workload:
    rng = np.random.default_rng(0)
    model = Sequential(Linear(784, 256, rng=rng), ReLU(), Dropout(0.5), Linear(256, 128, rng=rng), ReLU(),
                       Dropout(0.5), Linear(128, 10, rng=rng)).eval()
    (w1, b1), (w2, b2), (w3, b3) = [(p.weight.data, p.bias.data) for p in model if isinstance(p, Linear)]
    x = _inputs(batch, 784)
    tensor = Tensor(x)

    def numpy_mlp():
        hidden = np.maximum(x @ w1 + b1, 0)
        hidden = np.maximum(hidden @ w2 + b2, 0)
        return hidden @ w3 + b3

    contenders = {"tinytorch": lambda: model(tensor), "numpy": numpy_mlp}
    if torch is not None:
        twin = torch.nn.Sequential(_torch_linear(model[0]), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                   _torch_linear(model[3]), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                   _torch_linear(model[6])).eval()
        contenders["pytorch"] = _no_grad(twin, torch.from_numpy(x))
    parameters = sum(p.data.nbytes for p in model.parameters())
    return Workload(f"MLP 784-256-128-10 eval b={batch}", batch, contenders, parameters, "≤ 1.15× NumPy")


def peak_extra_bytes(fn: Callable[[], object]) -> int:
    """Peak memory allocated (and traced) during one call, beyond what existed before."""
    fn()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return peak - before


def judge(workload: Workload, seconds: dict[str, float]) -> dict:
    ours, numpy_time = seconds["tinytorch"], seconds["numpy"]
    row = {"vs_numpy": ours / numpy_time}
    if workload.target.startswith("≤ NumPy + 3"):
        row["meets_numpy_target"] = ours - numpy_time <= 3e-6
    else:
        row["meets_numpy_target"] = row["vs_numpy"] <= float(workload.target.split("≤ ")[1].split("×")[0])
    if "pytorch" in seconds:
        row["vs_pytorch"] = ours / seconds["pytorch"]
        if workload.name.startswith("Linear") and workload.batch in (1, 32):
            row["meets_pytorch_target"] = row["vs_pytorch"] <= 1.0
    return row


def run(quick: bool = False) -> dict:
    if torch is not None:
        torch.set_num_threads(THREADS)
    workloads = [linear_workload(b) for b in (1, 32, 256, 1024)]
    workloads += [dropout_workload(), mlp_workload(32), mlp_workload(256)]
    repeats, block = (5, 0.002) if quick else (21, 0.01)
    results = []
    for workload in workloads:
        seconds = measure_interleaved(workload.contenders, repeats=repeats, target_seconds=block)
        workload.peak_bytes = {name: peak_extra_bytes(fn) for name, fn in workload.contenders.items()
                               if name != "pytorch"}  # torch's allocator is not traced
        results.append({
            "workload": workload.name, "batch": workload.batch, "target": workload.target,
            "median_seconds": seconds,
            "samples_per_second": {name: workload.batch / s for name, s in seconds.items()},
            "parameter_bytes": workload.parameter_bytes, "peak_extra_bytes": workload.peak_bytes,
            **judge(workload, seconds),
        })
    return {"machine": machine(), "quick": quick, "repeats": repeats, "results": results}


def machine() -> dict:
    return {
        "python": platform.python_version(), "numpy": np.__version__,
        "pytorch": None if torch is None else torch.__version__, "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(), "threads": THREADS,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }


def print_table(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="tinytorch vs NumPy vs PyTorch (medians, same run)", title_justify="left")
    for column in ("workload", "tinytorch", "numpy", "pytorch", "samples/s (tt)", "tt/np", "target", "tt/pt",
                   "params", "peak extra (tt / np)"):
        table.add_column(column, justify="left" if column in ("workload", "target") else "right")
    for row in report["results"]:
        s = row["median_seconds"]
        ok = "[green]✓[/]" if row["meets_numpy_target"] else "[red]✗[/]"
        pt = row.get("vs_pytorch")
        pt_text = "—" if pt is None else f"{pt:.2f}" + (
            "" if "meets_pytorch_target" not in row else (" ✓" if row["meets_pytorch_target"] else " ✗"))
        peak = row["peak_extra_bytes"]
        table.add_row(row["workload"], _us(s["tinytorch"]), _us(s["numpy"]), _us(s.get("pytorch")),
                      f"{row['samples_per_second']['tinytorch']:,.0f}", f"{row['vs_numpy']:.3f}",
                      f"{row['target']} {ok}", pt_text, f"{row['parameter_bytes'] / 1024:,.0f} KiB",
                      f"{peak['tinytorch'] / 1024:,.0f} / {peak['numpy'] / 1024:,.0f} KiB")
    console = Console(width=200)
    console.print(table)
    info = report["machine"]
    console.print(f"Python {info['python']}, NumPy {info['numpy']}, PyTorch {info['pytorch']}, "
                  f"{info['cpus']} CPUs, {info['threads']} threads each")


def _us(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e6:,.1f} µs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats: proves it runs, not for figures")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    report = run(quick=args.quick)
    print_table(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(report, stream, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
