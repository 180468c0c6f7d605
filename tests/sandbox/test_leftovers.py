"""Nothing of a grading run is left behind: every folder tito makes while grading (scratch
courses, kernel run folders, clean-room sites, export scratch, the template course with
the solutions) is gone when the command ends, also after a killed worker and Ctrl-C; and
the template course kept in .tito/cache holds no solution.

Each tito command runs with its own empty TMPDIR (short: ZMQ ipc paths live there), so
that what it leaves is told apart from what other programs on the machine make in /tmp.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import factory
import nbformat
import pytest
from helpers import copy_repo, run_tito, tito_env

from tito.course import notebooks

pytestmark = pytest.mark.slow

WAIT = 300  # seconds allowed for a condition a command must reach (a busy machine)


@pytest.fixture
def temp_root():
    """An empty folder to be tito's TMPDIR; what is in it at the end was left by tito."""
    folder = Path(tempfile.mkdtemp(prefix="lt-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def env_for(root: Path, temp_root: Path) -> dict:
    return tito_env(root) | {"TMPDIR": str(temp_root)}


def left(temp_root: Path) -> list[str]:
    return sorted(path.name for path in temp_root.iterdir())


def solution_only_lines(root: Path) -> set[str]:
    """Lines of the source's solution blocks (the hidden tests are not counted: grading must
    restore them, so the template's gradebook keeps them, as nbgrader's own does)."""
    source = notebooks.read_source(factory.module(root))
    tests_only = copy.deepcopy(source)
    for cell in tests_only.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = ""
    return notebooks.solution_lines(source) - notebooks.solution_lines(tests_only)


def file_lines(path: Path) -> set[str]:
    """The stripped lines of a file: of each cell of a notebook, of each text value of a database."""
    if path.suffix == ".db":
        with contextlib.closing(sqlite3.connect(path)) as db:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            texts = [value for table in tables for row in db.execute(f'SELECT * FROM "{table}"')
                     for value in row if isinstance(value, str)]
    elif path.suffix == ".ipynb":
        texts = [cell.source for cell in nbformat.read(path, as_version=4).cells]
    else:
        texts = [path.read_bytes().decode("utf-8", errors="replace")]
    return {line.strip() for text in texts for line in text.splitlines()}


def solution_lines_in_cache(root: Path) -> list[str]:
    lines = solution_only_lines(root)
    assert lines, "no solution lines found in the source: the check would prove nothing"
    return [f"{path.relative_to(root)}: {line}" for path in sorted((root / ".tito" / "cache").rglob("*"))
            if path.is_file() for line in sorted(file_lines(path) & lines)]


def parent(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])


def command_line(pid: int) -> str:
    return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below `pid`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(parent(int(entry.name)), []).append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    found, queue = [], list(children.get(pid, []))
    while queue:
        child = queue.pop()
        try:
            found.append((child, command_line(child)))
        except OSError:
            continue
        queue += children.get(child, [])
    return found


def ancestors(pid: int) -> list[int]:
    """The processes above `pid`, nearest first."""
    chain = []
    with contextlib.suppress(OSError, IndexError, ValueError):
        while pid > 1:
            pid = parent(pid)
            chain.append(pid)
    return chain


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def wait_for(condition, what: str):
    """Poll the process table until `condition()` gives something (a state to reach, not a delay)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"never saw {what} within {WAIT} s")


def start_tito(root: Path, env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tito", *args], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def kernels_below(pid: int) -> list[int]:
    """Kernels below `pid`: launched by bwrap, or forked from a worker's zygote (a process
    running the zygote's file whose parent runs it too)."""
    found = descendants(pid)
    zygote_processes = {child for child, argv in found if "_tito_zygote" in argv}
    return [child for child, argv in found
            if ("ipykernel" in argv and argv.startswith("bwrap"))
            or (child in zygote_processes and parent(child) in zygote_processes)]


@pytest.fixture(scope="module")
def student_root(tmp_path_factory) -> Path:
    root = copy_repo(tmp_path_factory.mktemp("leftovers") / "repo")
    factory.write(factory.solved(root), root / "modules" / "03_layers" / "layers.ipynb")
    return root


def test_module_test_and_complete_leave_nothing_and_cache_no_solution(student_root, temp_root):
    env = env_for(student_root, temp_root)
    tested = run_tito(student_root, "module", "test", "03_layers", env=env)
    assert "100/100" in tested.stdout, tested.stdout + tested.stderr
    assert left(temp_root) == []
    completed = run_tito(student_root, "module", "complete", "03_layers", env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert left(temp_root) == []
    assert solution_lines_in_cache(student_root) == []
    for folder in (student_root / ".tito" / "cache").iterdir():
        if folder.is_dir():
            assert folder.stat().st_mode & 0o077 == 0, f"{folder} is readable by others"
            assert not (folder / "source").exists(), "the template keeps the source notebook"


def test_ctrl_c_during_module_test_leaves_nothing(student_root, temp_root):
    process = start_tito(student_root, env_for(student_root, temp_root), "module", "test", "03_layers")
    try:
        kernels = wait_for(lambda: kernels_below(process.pid), "the grading kernel start")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=WAIT)
    finally:
        process.kill()
    assert process.returncode == 130, err
    wait_for(lambda: not any(alive(pid) for pid in kernels), "the kernel gone")
    assert left(temp_root) == []


@pytest.fixture(scope="module")
def course_root(tmp_path_factory) -> Path:
    root = copy_repo(tmp_path_factory.mktemp("leftovers-course") / "repo")
    run_tito(root, "nbgrader", "generate", "03_layers", check=True)
    correct = factory.solved(root)
    for student in ("ann", "bob", "cid", "dee"):
        factory.write(correct, root / "nbgrader" / "submitted" / student / "03_layers" / "layers.ipynb")
    return root


def test_an_autograde_batch_on_local_workers_leaves_nothing(course_root, temp_root):
    result = run_tito(course_root, "nbgrader", "autograde", "03_layers", "--jobs", "2",
                      env=env_for(course_root, temp_root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert left(temp_root) == []
    assert solution_lines_in_cache(course_root) == []


def test_a_worker_killed_mid_batch_leaves_nothing(course_root, temp_root):
    process = start_tito(course_root, env_for(course_root, temp_root), "nbgrader", "autograde", "03_layers",
                         "--jobs", "2")
    try:
        def grading_worker() -> list[int]:
            """A worker process (forked by the forkserver) with a grading kernel below it."""
            for kernel in kernels_below(process.pid):
                forked = [pid for pid in ancestors(kernel) if alive(pid) and "forkserver" in command_line(pid)]
                if len(forked) >= 2:  # the worker, then the forkserver it was forked from
                    return forked[:1]
            return []

        worker = wait_for(grading_worker, "a worker grading a submission")[0]
        os.kill(worker, signal.SIGKILL)
        out, err = process.communicate(timeout=WAIT)
    finally:
        process.kill()
    assert process.returncode == 0, out + err  # the batch carries on: the task goes back to the queue once
    assert left(temp_root) == []
