"""Grading benchmark: the student's commands, what the protections cost, and a course batch.

    python -m benchmarks.grading [--quick] [--batch 20] [--postgres] [--json FILE]

Runs in a throw-away copy of the repository with correct student notebooks:
- `tito module test` / `complete` as the student runs them (fresh processes, medians);
- the protections, each measured on its own, interleaved over repeats: kernel start and
  the clean-room re-check in the sandbox with its resource limits, in the sandbox without
  them, and without the sandbox;
- the instructor's batch: `autograde` of N correct submissions with one local worker, with
  two, and on a Dask LocalCluster of two workers; seconds per submission, and the
  coordinator's gradebook writes per submission (sqlite, and PostgreSQL with --postgres);
- an estimate, from those figures, for 1,000 and 10,000 submissions on 40 workers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
    ignore = shutil.ignore_patterns("__pycache__", ".tito", "modules", "nbgrader", "_completed")
    for name in COPIED:
        source = REPO / name
        (shutil.copytree(source, target / name, ignore=ignore) if source.is_dir()
         else shutil.copy2(source, target / name))
    return target


def _env(root: Path) -> dict:
    return dict(os.environ, TITO_ROOT=str(root), PYTHONPATH=str(root))


def _tito(root: Path, *args: str) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "tito", *args], cwd=root, env=_env(root), capture_output=True,
                            text=True)
    return time.perf_counter() - started, result.returncode


def student_commands(root: Path, repeats: int) -> dict:
    from tito.course import notebooks
    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.coursedir import release

    module = resolve(Paths(root), "03_layers")
    notebooks.write(release.reference_submission(module), module.student_notebook)
    results = {}
    for command in ("test", "complete"):
        runs = [_tito(root, "module", command, "03_layers") for _ in range(repeats)]
        assert all(code == 0 for _, code in runs), f"tito module {command} failed: {runs}"
        results[command] = statistics.median(seconds for seconds, _ in runs)
    return results


# -- what each protection costs -------------------------------------------------------------------
def _kernel_start(site: Path, sandboxed: bool) -> float:
    from tito.sandbox.kernel import SandboxedKernelManager

    async def start() -> float:
        manager = SandboxedKernelManager(kernel_name="python3")
        manager.settings.site, manager.settings.enabled = str(site), sandboxed
        started = time.perf_counter()
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        elapsed = time.perf_counter() - started
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
        return elapsed

    return asyncio.run(start())


@contextlib.contextmanager
def _limits(applied: bool):
    """With `applied` False, no cgroup and no rlimits (the sandbox's tmpfs size stays: it
    costs nothing)."""
    from tito.sandbox import limits

    saved = limits._hierarchy, limits._prlimit
    if not applied:
        limits._hierarchy, limits._prlimit = (lambda: "switched off by the benchmark"), (lambda: None)
    try:
        yield
    finally:
        limits._hierarchy, limits._prlimit = saved


def protections(root: Path, repeats: int) -> dict:
    """Median seconds of each piece, the variants interleaved so that a slow moment of the
    machine hits all of them alike."""
    from tito.course import notebooks
    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.coursedir import release
    from tito.grading import cleanroom
    from tito.grading.preprocessors import site_modules
    from tito.grading.setup import site_spec_for
    from tito.sandbox.site import build_site

    module = resolve(Paths(root), "03_layers")
    solved = release.reference_submission(module)
    source = notebooks.read_source(module)
    cells, tests = cleanroom.exported_cells(solved, module.export_target), cleanroom.graded_tests(source)
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-site-") as folder:
        site = build_site(site_spec_for(root, module.slug, include_completed=False),
                                  Path(folder) / "site")
        prerequisites = site_modules(site)
        for _ in range(repeats):
            for label, sandboxed, limited in (("sandboxed", True, True), ("unlimited", True, False),
                                              ("direct", False, False)):
                with _limits(limited):
                    samples.setdefault(f"kernel_start_{label}", []).append(_kernel_start(site, sandboxed))
                    started = time.perf_counter()
                    result = cleanroom.run(site, module.export_target, cells, tests, prerequisites, 60, sandboxed)
                    samples.setdefault(f"clean_room_{label}", []).append(time.perf_counter() - started)
                assert result.ran and all(t["passed"] for t in result.tests.values()), result
    medians = {name: statistics.median(values) for name, values in samples.items()}
    medians["sandbox_cost"] = (medians["kernel_start_unlimited"] - medians["kernel_start_direct"]
                               + medians["clean_room_unlimited"] - medians["clean_room_direct"])
    medians["limits_cost"] = (medians["kernel_start_sandboxed"] - medians["kernel_start_unlimited"]
                              + medians["clean_room_sandboxed"] - medians["clean_room_unlimited"])
    medians["clean_room_cost"] = medians["clean_room_sandboxed"]
    return medians


# -- the instructor's batch -------------------------------------------------------------------------
def _course(root: Path, size: int, gradebook_url: str | None) -> None:
    from tito.course import notebooks
    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.coursedir import release
    from tito.coursedir.config import CoursePaths, load_config
    from tito.workflows.instructor import assignments as instructor

    if gradebook_url:
        os.environ["TINYTORCH_GRADEBOOK_URL"] = gradebook_url
    paths = Paths(root)
    module = resolve(paths, "03_layers")
    instructor.generate(paths, module)
    correct = release.reference_submission(module)
    for index in range(size):
        folder = CoursePaths.of(load_config(paths)).submitted(f"student{index:03d}", module.slug)
        notebooks.write(correct, folder / module.notebook_name)
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")


def _autograde(root: Path, **options) -> dict:
    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.workflows.instructor import assignments as instructor

    paths = Paths(root)
    started = time.perf_counter()
    result = instructor.autograde(paths, resolve(paths, "03_layers"), **options)
    seconds = time.perf_counter() - started
    assert all(report.full_marks for report in result.reports), "a correct submission lost points"
    size = len(result.reports)
    return {"seconds": seconds, "per_submission": seconds / size, "write_per_submission": result.write_seconds / size}


def batch(root: Path, size: int, gradebook_url: str | None) -> dict:
    os.environ.update(_env(root))
    _course(root, size, gradebook_url)
    results = {"jobs=1": _autograde(root, jobs=1), "jobs=2": _autograde(root, jobs=2)}
    try:
        from distributed import LocalCluster
    except ImportError:
        return results
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results["LocalCluster(2)"] = _autograde(root, scheduler=cluster.scheduler_address)
    return results


def estimate(per_worker_submission: float, write: float, submissions: int, workers: int = 40) -> float:
    """Wall time of a batch: workers grade in parallel, the coordinator writes in series
    (it writes while the workers grade, so the slower of the two sets the pace)."""
    return max(submissions * per_worker_submission / workers, submissions * write)


def _postgres_url() -> tuple[str, object]:
    sys.path.insert(0, str(REPO / "tests"))
    import pgserver

    server = pgserver.start()
    return server.url(server.new_database()), server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat and a batch of 4")
    parser.add_argument("--batch", type=int, default=20, help="submissions in the autograde batch")
    parser.add_argument("--postgres", action="store_true", help="also a batch on a throw-away PostgreSQL server")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    repeats, size = (1, 4) if args.quick else (5, args.batch)
    report: dict = {"submissions": size}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        root = _copy_repo(Path(scratch) / "repo")
        report["student"] = student_commands(root, 1 if args.quick else 3)
        report["protections"] = protections(root, repeats)
        report["batch_sqlite"] = batch(root, size, None)
    if args.postgres:
        url, server = _postgres_url()
        try:
            with tempfile.TemporaryDirectory(prefix="bench-grading-pg-") as scratch:
                root = _copy_repo(Path(scratch) / "repo")
                report["batch_postgres"] = batch(root, size, url)
        finally:
            server.stop()
            os.environ.pop("TINYTORCH_GRADEBOOK_URL", None)
    worker = report["batch_sqlite"]["jobs=1"]["per_submission"]
    write = max(b["jobs=2"]["write_per_submission"] for k, b in report.items() if k.startswith("batch_"))
    report["estimate_40_workers"] = {str(n): estimate(worker, write, n) for n in (1_000, 10_000)}
    _print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _print(report: dict) -> None:
    student, parts = report["student"], report["protections"]
    print(f"tito module test 03_layers:     {student['test']:.2f} s")
    print(f"tito module complete 03_layers: {student['complete']:.2f} s")
    print("protections (median s): " + ", ".join(f"{k} {v:.3f}" for k, v in parts.items()))
    for name in ("batch_sqlite", "batch_postgres"):
        for setting, row in report.get(name, {}).items():
            print(f"{name} {report['submissions']} correct submissions, {setting}: {row['seconds']:.1f} s, "
                  f"{row['per_submission']:.2f} s per submission, gradebook writes "
                  f"{row['write_per_submission'] * 1000:.1f} ms per submission")
    for count, seconds in report["estimate_40_workers"].items():
        print(f"estimate, {count} submissions on 40 workers: {seconds / 60:.1f} min")


if __name__ == "__main__":
    sys.exit(main())
