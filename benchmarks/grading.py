"""Grading benchmark: the student's commands, tito against its contenders, what the
protections cost, and a course batch.

    python -m benchmarks.grading [--quick] [--batch 20] [--rounds 3] [--only PART ...] [--postgres] [--json FILE]

Runs in a throw-away copy of the repository with correct student notebooks:
- `tito module test` / `complete` as the student runs them (fresh processes, medians);
- the contenders, in this process, interleaved over rounds, on the same N solved
  notebooks: `tito nbgrader autograde` (sandbox and clean room, 2 local workers), stock
  nbgrader (`NbGraderAPI.autograde`, no sandbox, no clean room, the demonstration cells
  skipped as tito skips them) and nbclient alone (one kernel per notebook, no grading);
  wall and CPU seconds per submission (CPU of this process and every process it starts),
  and tito's ratios to the others;
- the protections, each measured on its own, interleaved over repeats: kernel start and
  the clean-room re-check in the sandbox with its resource limits, in the sandbox without
  them, and without the sandbox;
- the instructor's batch: `autograde` of N correct submissions with one local worker, with
  two, and on a Dask LocalCluster of two workers; seconds per submission, and the
  coordinator's gradebook writes per submission (sqlite, and PostgreSQL with --postgres);
- an estimate, from those figures, for 1,000 and 10,000 submissions on 40 workers.

--quick (what CI runs, well under a minute): `module test` once and one round of the
contenders on 4 notebooks; nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PARTS = ["student", "protections", "contenders", "batch"]
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


def student_commands(root: Path, repeats: int, commands: tuple[str, ...] = ("test", "complete")) -> dict:
    from tito.course import notebooks
    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.coursedir import release

    module = resolve(Paths(root), "03_layers")
    notebooks.write(release.reference_submission(module), module.student_notebook)
    results = {}
    for command in commands:
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


# -- the contenders: the same solved notebooks through tito, stock nbgrader and nbclient alone -----
SKIP_TAG = "skip-when-grading"  # the notebooks' demonstrations, which tito's grader does not run
CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class CpuClock:
    """CPU seconds used by this process and every process it starts from now on (local
    workers, their sandboxes and kernels): a cgroup v1 cpuacct group of its own where one
    can be made (root on this machine type); else rusage of this process and its waited-for
    children, which misses the local workers' CPU (`exact` says which)."""

    def __init__(self):
        self.group: Path | None = None
        try:
            group = CPUACCT / f"tito-bench-{uuid.uuid4().hex[:8]}"
            group.mkdir()
            (group / "cgroup.procs").write_text(str(os.getpid()))
            self.group = group
        except OSError:
            if "group" in locals() and group.is_dir():
                group.rmdir()
        self.exact = self.group is not None

    def seconds(self) -> float:
        if self.group is not None:
            return int((self.group / "cpuacct.usage").read_text()) / 1e9
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def close(self) -> None:
        if self.group is None:
            return
        for _ in range(50):  # processes still in the group (an idle forkserver) go back to the parent group
            pids = (self.group / "cgroup.procs").read_text().split()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):
                    (CPUACCT / "cgroup.procs").write_text(pid)
        with contextlib.suppress(OSError):
            self.group.rmdir()
        self.group = None


def _measured(clock: CpuClock, work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), clock.seconds()
    work()
    return time.perf_counter() - wall, clock.seconds() - cpu


def _stock_course(root: Path, size: int):
    """A course of nbgrader's own (no tito configuration) with the same source and the same
    solved notebooks, and the API that grades it."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from tito.course import notebooks
    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.coursedir import release

    module = resolve(Paths(root), "03_layers")
    course = root / "stock-course"
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.Execute.skip_cells_with_tag = SKIP_TAG
    config.Execute.timeout = 60
    notebooks.write(notebooks.read_source(module), course / "source" / module.slug / module.notebook_name)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    generated = api.generate_assignment(module.slug, force=True, create=True)
    assert generated["success"], generated.get("error") or generated.get("log")
    solved = release.reference_submission(module)
    students = [f"student{index:03d}" for index in range(size)]
    for student in students:
        folder = course / "submitted" / student / module.slug
        notebooks.write(solved, folder / module.notebook_name)
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    return api, module, students, [course / "submitted" / s / module.slug / module.notebook_name for s in students]


def _stock_nbgrader(api, module, students: list[str]) -> None:
    for student in students:
        result = api.autograde(module.slug, student, force=True, create=True)
        assert result["success"], result.get("error") or result.get("log")
    with api.gradebook as gradebook:
        for student in students:
            submission = gradebook.find_submission(module.slug, student)
            assert submission.score == submission.max_score, f"stock nbgrader: {student} lost points"


def _nbclient_alone(paths: list[Path]) -> None:
    import nbformat
    from nbclient import NotebookClient

    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=60, kernel_name="python3", skip_cells_with_tag=SKIP_TAG,
                       resources={"metadata": {"path": str(path.parent)}}).execute()  # raises on any error


@contextlib.contextmanager
def _kernel_chatter_kept():
    """The unsandboxed kernels' start-up warnings (one per kernel, on the inherited stderr)
    go to a file, shown only if a contender fails."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as kept:
        os.dup2(kept.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            kept.seek(0)
            sys.stderr.write(kept.read().decode(errors="replace")[-5000:])
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def contenders(root: Path, size: int, rounds: int) -> dict:
    """Wall and CPU seconds per submission of each contender (medians over `rounds`,
    interleaved), and tito's ratios to the others."""
    os.environ.update(_env(root))
    _course(root, size, None)
    api, module, students, copies = _stock_course(root, size)
    runs = {"tito autograde (2 jobs)": lambda: _autograde(root, jobs=2),
            "stock nbgrader": lambda: _stock_nbgrader(api, module, students),
            "nbclient alone": lambda: _nbclient_alone(copies)}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    clock = CpuClock()
    try:
        with _kernel_chatter_kept():
            for _ in range(rounds):
                for name, work in runs.items():
                    samples[name].append(_measured(clock, work))
    finally:
        clock.close()
    table = {name: {"wall": statistics.median(w for w, _ in values) / size,
                    "cpu": statistics.median(c for _, c in values) / size} for name, values in samples.items()}
    tito = table["tito autograde (2 jobs)"]
    ratios = {f"tito / {name}": {"wall": tito["wall"] / row["wall"], "cpu": tito["cpu"] / row["cpu"]}
              for name, row in table.items() if row is not tito}
    return {"submissions": size, "rounds": rounds, "cpu_exact": clock.exact, "per_submission": table,
            "ratios": ratios}


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
    parser.add_argument("--quick", action="store_true",
                        help="module test once and one round of the contenders on 4 notebooks (CI)")
    parser.add_argument("--batch", type=int, default=20, help="submissions in the autograde batch")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the contenders")
    parser.add_argument("--postgres", action="store_true", help="also a batch on a throw-away PostgreSQL server")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=PARTS, metavar="PART",
                        help=f"run only these parts ({', '.join(PARTS)})")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    parts = set(args.only)
    started = time.perf_counter()
    report: dict = {"quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        root = _copy_repo(Path(scratch) / "repo")
        if args.quick:
            report["student"] = student_commands(root, 1, commands=("test",))
            report["contenders"] = contenders(root, 4, 1)
        else:
            if "student" in parts:
                report["student"] = student_commands(root, 5)
            if "protections" in parts:
                report["protections"] = protections(root, 5)
            if "contenders" in parts:
                report["contenders"] = contenders(root, args.batch, args.rounds)
    if not args.quick and "batch" in parts:
        with tempfile.TemporaryDirectory(prefix="bench-grading-batch-") as scratch:
            root = _copy_repo(Path(scratch) / "repo")
            report["batch_sqlite"] = batch(root, args.batch, None)
        report["submissions"] = args.batch
    if args.postgres and not args.quick and "batch" in parts:
        url, server = _postgres_url()
        try:
            with tempfile.TemporaryDirectory(prefix="bench-grading-pg-") as scratch:
                root = _copy_repo(Path(scratch) / "repo")
                report["batch_postgres"] = batch(root, args.batch, url)
        finally:
            server.stop()
            os.environ.pop("TINYTORCH_GRADEBOOK_URL", None)
    if "batch_sqlite" in report:
        worker = report["batch_sqlite"]["jobs=1"]["per_submission"]
        write = max(b["jobs=2"]["write_per_submission"] for k, b in report.items() if k.startswith("batch_"))
        report["estimate_40_workers"] = {str(n): estimate(worker, write, n) for n in (1_000, 10_000)}
    report["benchmark_seconds"] = time.perf_counter() - started
    _print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _print_contenders(rivals: dict) -> None:
    cpu = "cpuacct cgroup" if rivals["cpu_exact"] else "this process and its waited-for children only"
    print(f"contenders, {rivals['submissions']} solved notebooks, {rivals['rounds']} round(s) interleaved, "
          f"per submission (CPU: {cpu}):")
    for name, row in rivals["per_submission"].items():
        print(f"  {name:<24} wall {row['wall']:.3f} s   CPU {row['cpu']:.3f} s")
    for name, row in rivals["ratios"].items():
        print(f"  {name:<24} wall {row['wall']:.2f}x   CPU {row['cpu']:.2f}x")


def _print(report: dict) -> None:
    for command, seconds in report.get("student", {}).items():
        print(f"tito module {command} 03_layers: {seconds:.2f} s")
    if "contenders" in report:
        _print_contenders(report["contenders"])
    if "protections" in report:
        print("protections (median s): " + ", ".join(f"{k} {v:.3f}" for k, v in report["protections"].items()))
    for name in ("batch_sqlite", "batch_postgres"):
        for setting, row in report.get(name, {}).items():
            print(f"{name} {report['submissions']} correct submissions, {setting}: {row['seconds']:.1f} s, "
                  f"{row['per_submission']:.2f} s per submission, gradebook writes "
                  f"{row['write_per_submission'] * 1000:.1f} ms per submission")
    for count, seconds in report.get("estimate_40_workers", {}).items():
        print(f"estimate, {count} submissions on 40 workers: {seconds / 60:.1f} min")
    print(f"benchmark: {report['benchmark_seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
