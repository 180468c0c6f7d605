"""Grading benchmark: the student's commands and an instructor's batch, wall-clock.

    python -m benchmarks.grading [--quick] [--batch 20] [--json FILE]

Runs in a throw-away copy of the repository with a correct student notebook:
- `tito module test 03_layers` and `tito module complete 03_layers`, as the student runs
  them (fresh processes), medians over repeats;
- where the time of one `test` goes: interpreter and imports, nbgrader's generate step,
  kernel start, and the rest of autograde (mostly executing the notebook);
- `tito nbgrader autograde` of a batch of correct submissions, with one and two workers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COPIED = ["src", "tinytorch", "tito", "tests", "nbgrader_config.py", "pyproject.toml"]


def _copy_repo(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", ".tito", "modules", "nbgrader")
    for name in COPIED:
        source = REPO / name
        (shutil.copytree(source, target / name, ignore=ignore) if source.is_dir()
         else shutil.copy2(source, target / name))
    return target


def _env(root: Path) -> dict:
    return dict(os.environ, TITO_ROOT=str(root), PYTHONPATH=str(root))


def _wall(root: Path, *command: str) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=root, env=_env(root), capture_output=True, text=True)
    return time.perf_counter() - started, result.returncode


def _tito(root: Path, *args: str) -> tuple[float, int]:
    return _wall(root, sys.executable, "-m", "tito", *args)


def student_commands(root: Path, repeats: int) -> dict:
    from tito import notebooks
    from tito.paths import Paths
    from tito.registry import resolve

    module = resolve(Paths(root), "03_layers")
    notebooks.write(notebooks.reference_submission(module), module.student_notebook)
    results = {}
    for command in ("test", "complete"):
        runs = [_tito(root, "module", command, "03_layers") for _ in range(repeats)]
        assert all(code == 0 for _, code in runs), f"tito module {command} failed: {runs}"
        results[command] = statistics.median(seconds for seconds, _ in runs)
    results["breakdown"] = breakdown(root)
    return results


def breakdown(root: Path) -> dict:
    """Where one `tito module test` spends its time (each part measured on its own)."""
    imports, _ = _wall(root, sys.executable, "-c", "import tito.cli, tito.grading, nbgrader.converters, "
                                                   "nbgrader.api, nbgrader.preprocessors")
    bare, _ = _wall(root, sys.executable, "-c", "pass")
    from jupyter_client.manager import start_new_kernel

    started = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3")
    kernel_start = time.perf_counter() - started
    client.stop_channels()
    manager.shutdown_kernel(now=True)

    from tito import grading, notebooks
    from tito.paths import Paths
    from tito.registry import resolve

    paths = Paths(root)
    module = resolve(paths, "03_layers")
    scratch = Path(tempfile.mkdtemp(prefix="bench-course-"))
    try:
        started = time.perf_counter()
        grading.generate(scratch, module, paths)
        generate = time.perf_counter() - started
        notebooks.write(notebooks.reference_submission(module), grading.submission_path(scratch, module, "you"))
        started = time.perf_counter()
        grading.autograde(scratch, module, paths, ["you"])
        autograde = time.perf_counter() - started
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"python_start": bare, "imports": imports - bare, "generate": generate, "autograde": autograde,
            "kernel_start": kernel_start, "autograde_without_kernel_start": autograde - kernel_start}


def batch(root: Path, size: int) -> dict:
    from tito import grading, notebooks
    from tito.paths import Paths
    from tito.registry import resolve

    paths = Paths(root)
    module = resolve(paths, "03_layers")
    grading.generate(paths.course, module, paths)
    correct = notebooks.reference_submission(module)
    for index in range(size):
        folder = paths.course / "submitted" / f"student{index:02d}" / module.slug
        notebooks.write(correct, folder / module.notebook_name)
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    results = {}
    for jobs in (1, 2):
        seconds, code = _tito(root, "nbgrader", "autograde", "03_layers", "--jobs", str(jobs))
        assert code == 0, "batch autograde failed"
        results[f"jobs={jobs}"] = {"seconds": seconds, "per_submission": seconds / size}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat and a batch of 4")
    parser.add_argument("--batch", type=int, default=20, help="submissions in the autograde batch")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    repeats, size = (1, 4) if args.quick else (3, args.batch)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        root = _copy_repo(Path(scratch) / "repo")
        report = {"student": student_commands(root, repeats), "batch_size": size, "batch": batch(root, size)}
    student, parts = report["student"], report["student"]["breakdown"]
    print(f"tito module test 03_layers:     {student['test']:.2f} s (target ≤ 6 s)")
    print(f"tito module complete 03_layers: {student['complete']:.2f} s (target ≤ 10 s)")
    print("one test, part by part: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
    for jobs, row in report["batch"].items():
        print(f"autograde {size} correct submissions, {jobs}: {row['seconds']:.1f} s, "
              f"{row['per_submission']:.2f} s per submission")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
