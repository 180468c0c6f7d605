"""Grading at course scale: overlapping graders, the student cache, and Dask.

Only the coordinator writes the gradebook and autograded/; these tests race it, spread the
work over a Dask cluster, and kill a worker halfway, and then check every grade."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from course_batch import MODULE, TOTALS, course_env, generate, write_submissions
from factory import fresh, write
from helpers import copy_repo, run_tito, tito_env

pytestmark = pytest.mark.slow

STUDENTS = {"correct", "only_linear", "deleted_solution", "hidden_failure", "not_json", "sys_exit"}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = copy_repo(tmp_path_factory.mktemp("scale") / "repo")
    generate(root)
    write_submissions(root, STUDENTS)
    return root


def grades(root: Path, env: dict) -> dict[str, float]:
    """student -> score, from the grades CSV (the gradebook as the instructor exports it)."""
    out = root / f"grades-{time.monotonic_ns()}.csv"
    result = run_tito(root, "nbgrader", "export", "--to", str(out), env=env)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == len({row["student_id"] for row in rows}), "one row per student"
    return {row["student_id"]: float(row["score"]) for row in rows}


def _start(root: Path, *args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tito", *args], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_two_overlapping_autograde_runs_lose_nothing(course, database, request):
    env = course_env(course)
    if database == "postgres":
        server = request.getfixturevalue("postgres")
        env["TINYTORCH_GRADEBOOK_URL"] = server.url(server.new_database())
        assert run_tito(course, "nbgrader", "generate", MODULE, env=env).returncode == 0
    first = _start(course, "nbgrader", "autograde", MODULE, "--json", "first.json", env=env)
    time.sleep(1)
    second = _start(course, "nbgrader", "autograde", MODULE, "--student", "correct", "sys_exit", "only_linear",
                    "--json", "second.json", env=env)
    outputs = [process.communicate(timeout=900) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert "Waiting for another autograde run" in outputs[1][0], "the second run says it waited its turn"
    expected = {student: TOTALS[student] for student in STUDENTS}
    assert grades(course, env) == expected
    for name, students in (("first.json", STUDENTS), ("second.json", {"correct", "sys_exit", "only_linear"})):
        reports = json.loads((course / name).read_text())
        assert {r["student"]: r["score"] for r in reports} == {s: TOTALS[s] for s in students}


def test_two_first_student_tests_share_one_cache_build(tmp_path):
    """`tito module test` on an empty cache, twice at once: one builds the generated course
    under a lock, the other waits and uses it (no 'disk I/O error', no half-built course)."""
    root = copy_repo(tmp_path / "repo")
    write(fresh(root), root / "modules" / MODULE / "layers.ipynb")
    env = tito_env(root)
    runs = [_start(root, "module", "test", MODULE, env=env) for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 1 and "0/100" in out, out + err  # an untouched notebook: graded, 0
        assert "Traceback" not in err and "database" not in err.lower(), err
    assert len(list((root / ".tito/cache").glob(f"{MODULE}-*/release"))) == 1


def test_a_local_dask_cluster_gives_the_same_grades(course):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    env = course_env(course)
    local = run_tito(course, "nbgrader", "autograde", MODULE, "--jobs", "2", "--json", "local.json", env=env)
    assert local.returncode == 0, local.stderr
    by_local = grades(course, env)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        env_cluster = env | {"PYTHONPATH": str(course)}
        on_dask = run_tito(course, "nbgrader", "autograde", MODULE, "--scheduler", cluster.scheduler_address,
                           "--json", "dask.json", env=env_cluster)
    assert on_dask.returncode == 0, on_dask.stderr
    assert grades(course, env) == by_local == {s: TOTALS[s] for s in STUDENTS}
    local_reports = {r["student"]: r for r in json.loads((course / "local.json").read_text())}
    for report in json.loads((course / "dask.json").read_text()):
        assert report["cells"] == local_reports[report["student"]]["cells"], report["student"]

    pages = course / "nbgrader" / "feedback"
    assert run_tito(course, "nbgrader", "feedback", MODULE, env=env).returncode == 0
    local_pages = {p: p.read_text() for p in pages.glob(f"*/{MODULE}/layers.html")}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        fanned = run_tito(course, "nbgrader", "feedback", MODULE, "--scheduler", cluster.scheduler_address,
                          env=env | {"PYTHONPATH": str(course)})
    assert fanned.returncode == 0, fanned.stderr
    assert {p: p.read_text() for p in pages.glob(f"*/{MODULE}/layers.html")} == local_pages
    assert len(local_pages) == len(STUDENTS)


def test_a_dask_worker_killed_mid_run_loses_nothing(course, tmp_path):
    pytest.importorskip("distributed")
    env = course_env(course) | {"PYTHONPATH": str(course)}
    scripts = Path(sys.executable).parent
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([str(scripts / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--scheduler-file", str(scheduler_file), "--no-dashboard"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            workers.append(subprocess.Popen([str(scripts / "dask"), "worker", address, "--nworkers", "1",
                                             "--nthreads", "1", "--no-dashboard"], env=env, cwd=tmp_path,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                            start_new_session=True))
        grader = _start(course, "nbgrader", "autograde", MODULE, "--scheduler", address, "--json", "killed.json",
                        env=env)
        autograded = course / "nbgrader" / "autograded"
        deadline = time.monotonic() + 300
        while not list(autograded.glob(f"*/{MODULE}/tito-report.json")) and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(workers[0].pid, signal.SIGKILL)  # the worker and its kernel, mid-run
        out, err = grader.communicate(timeout=900)
        assert grader.returncode == 0, out + err
    finally:
        for process in [*workers, scheduler]:
            if process.poll() is None:
                process.kill()
    reports = json.loads((course / "killed.json").read_text())
    assert sorted(r["student"] for r in reports) == sorted(STUDENTS), "each student graded exactly once"
    assert grades(course, course_env(course)) == {s: TOTALS[s] for s in STUDENTS}
