"""tito.sandbox.limits: the cgroup of each sandboxed process tree (v1 and v2), the rlimits, how a
limit reached is read back, and grading where limits cannot be applied."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import factory
import pytest

from tito.sandbox import bwrap as sandbox
from tito.sandbox import limits

SMALL = limits.Limits(memory_bytes=300 << 20, processes=64, disk_bytes=64 << 20, open_files=256)


def test_limits_are_named_as_a_person_would_say_them():
    assert limits.Limits().named("memory") == "memory limit of 2 GiB"
    assert limits.Limits().named("processes") == "process limit of 1,024"
    assert limits.Limits().named("disk") == "disk limit of 1 GiB"
    assert SMALL.named("memory") == "memory limit of 300 MiB"


@pytest.mark.parametrize(("ename", "evalue", "resource"), [
    ("MemoryError", "Unable to allocate 3.00 GiB for an array", "memory"),
    ("BlockingIOError", "[Errno 11] Resource temporarily unavailable", "processes"),
    ("RuntimeError", "can't start new thread", "processes"),
    ("OSError", "[Errno 28] No space left on device", "disk"),
    ("OSError", "[Errno 27] File too large", "disk"),
    ("OSError", "[Errno 24] Too many open files", "open files"),
    ("OSError", "[Errno 2] No such file or directory: 'data.csv'", None),
    ("ValueError", "Unable to allocate", None),
])
def test_errors_that_show_a_limit_was_reached(ename, evalue, resource):
    assert limits.resource_of_error(ename, evalue) == resource


# -- a fake cgroup file system: what tito writes and reads --------------------------------------------
@pytest.fixture
def fake_cgroups(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(limits, "_remove", shutil.rmtree)  # a real cgroup folder is removed with rmdir
    limits._hierarchy.cache_clear()
    yield tmp_path
    limits._hierarchy.cache_clear()


def test_cgroup_v1_memory_without_swap_and_processes(fake_cgroups, monkeypatch):
    for controller in ("memory", "pids"):
        (fake_cgroups / controller / "grader").mkdir(parents=True)
    monkeypatch.setattr(limits, "_own_cgroup", lambda controller: "/grader" if controller else None)
    box = limits.open_box(SMALL, "notebook run")
    memory, pids = box.folders["memory"], box.folders["pids"]
    assert memory.parent == fake_cgroups / "memory" / "grader" and pids.parent == fake_cgroups / "pids" / "grader"
    assert (memory / "memory.limit_in_bytes").read_text() == str(300 << 20)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(300 << 20)
    assert (pids / "pids.max").read_text() == "64"
    prefix = box.prefix()
    assert str(memory / "cgroup.procs") in prefix and str(pids / "cgroup.procs") in prefix
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    (pids / "pids.events").write_text("max 7\n")
    events = box.close()
    assert [(e.resource, e.step) for e in events] == [("memory", "notebook run"), ("processes", "notebook run")]
    assert "memory limit of 300 MiB reached" in events[0].message and "7 new process" in events[1].message
    assert not memory.exists() and not pids.exists()


def test_empty_cgroups_of_dead_graders_are_swept(fake_cgroups, monkeypatch):
    import os

    for controller in ("memory", "pids"):
        (fake_cgroups / controller / "grader").mkdir(parents=True)
    dead, alive = fake_cgroups / "pids" / "grader" / "tito-999999999-0a1b", \
        fake_cgroups / "pids" / "grader" / f"tito-{os.getpid()}-0a1b"
    dead.mkdir()
    alive.mkdir()
    monkeypatch.setattr(limits, "_own_cgroup", lambda controller: "/grader" if controller else None)
    assert isinstance(limits._hierarchy(), limits._Hierarchy)
    assert not dead.exists() and alive.exists()


def test_cgroup_v2_where_it_is_delegated(fake_cgroups, monkeypatch):
    own = fake_cgroups / "user.slice" / "grader.scope"
    own.mkdir(parents=True)
    (fake_cgroups / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.controllers").write_text("memory pids\n")
    (own / "cgroup.subtree_control").write_text("memory pids\n")
    monkeypatch.setattr(limits, "_own_cgroup", lambda controller: "/user.slice/grader.scope")
    box = limits.open_box(SMALL, "clean room")
    folder = box.folders[""]
    assert folder.parent == own and box.version == 2
    assert (folder / "memory.max").read_text() == str(300 << 20)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == "64"
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert [e.resource for e in box.close()] == ["memory"]


def test_cgroup_v2_that_is_not_delegated_is_said_so(fake_cgroups, monkeypatch):
    own = fake_cgroups / "system.slice"
    own.mkdir(parents=True)
    (fake_cgroups / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.controllers").write_text("cpu\n")
    monkeypatch.setattr(limits, "_own_cgroup", lambda controller: "/system.slice" if controller == "" else None)
    memory = next(m for m in limits.availability() if m.name == "memory")
    assert not memory.in_force and "not delegated" in memory.how
    assert {m.name for m in limits.missing()} >= {"memory", "processes"}
    box = limits.open_box(SMALL, "notebook run")
    assert box.folders == {} and box.prefix()[:1] == [shutil.which("prlimit")]  # rlimits still apply


# -- on this machine --------------------------------------------------------------------------------------
def test_a_sandboxed_program_runs_inside_its_own_cgroup_and_it_is_removed_after(tmp_path):
    if any(m.name == "memory" for m in limits.missing()):
        pytest.fail(f"cgroup limits are not in force here: {limits.missing()}")
    (tmp_path / "site").mkdir()
    probe = "import resource; print(open('/proc/self/cgroup').read()); print(resource.getrlimit(resource.RLIMIT_AS))"
    result = sandbox.run(tmp_path / "site", [sys.executable, "-c", probe], timeout=120, sandboxed=False, limit=SMALL)
    assert result.returncode == 0, result.stderr
    names = [line.rsplit("/", 1)[-1] for line in result.stdout.splitlines() if ":memory:" in line or ":pids:" in line]
    assert len(names) == 2 and all(name.startswith("tito-") for name in names), result.stdout
    assert f"({300 << 20}, {300 << 20})" in result.stdout
    hierarchy = limits._hierarchy()
    assert not any((parent / names[0]).exists() for parent in hierarchy.parents.values())


def test_memory_spread_over_processes_is_stopped_by_the_cgroup(tmp_path):
    """Each process stays under RLIMIT_AS; together they pass the cgroup's limit."""
    if any(m.name == "memory" for m in limits.missing()):
        pytest.fail(f"cgroup limits are not in force here: {limits.missing()}")
    (tmp_path / "site").mkdir()
    hog = ("import os, time\n"
           "pids = []\n"
           "for _ in range(3):\n"
           "    pid = os.fork()\n"
           "    if pid == 0:\n"
           "        chunks = [bytearray(20 << 20) for _ in range(7)]\n"
           "        time.sleep(2)\n"
           "        os._exit(0)\n"
           "    pids.append(pid)\n"
           "print([os.waitpid(pid, 0)[1] for pid in pids])\n")
    limits.EVENTS.clear()
    result = sandbox.run(tmp_path / "site", [sys.executable, "-c", hog], timeout=120, limit=SMALL, step="probe")
    assert result.returncode == 0, result.stderr
    assert "9" in result.stdout  # at least one child ended by SIGKILL (status 9)
    assert [(e.step, e.resource) for e in limits.EVENTS] == [("probe", "memory")], limits.EVENTS


def test_the_sandbox_disk_is_its_limit(tmp_path):
    (tmp_path / "site").mkdir()
    writer = ("import errno\n"
              "try:\n"
              "    with open('filler', 'wb') as out:\n"
              "        for _ in range(16): out.write(b'x' * (8 << 20))\n"
              "except OSError as error: print('stopped', errno.errorcode[error.errno])\n")
    result = sandbox.run(tmp_path / "site", [sys.executable, "-c", writer], timeout=120, limit=SMALL)
    assert "stopped ENOSPC" in result.stdout or "stopped EFBIG" in result.stdout, result.stdout + result.stderr


def test_grading_works_where_limits_cannot_be_applied_and_says_so(repo, monkeypatch):
    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.grading.report import FlagKind
    from tito.workflows import student

    monkeypatch.setattr(limits, "_hierarchy", lambda: "no cgroup for this test")
    monkeypatch.setenv("TINYTORCH_CELL_TIMEOUT", "30")
    monkeypatch.setenv("TITO_ROOT", str(repo))
    module = resolve(Paths(repo), "02_activations")
    report = student.grade(Paths(repo), module, factory.solved(repo, "02_activations"))
    assert report.full_marks, [(c.grade_id, c.reason) for c in report.cells]
    missing = [flag.message for flag in report.flags if flag.kind is FlagKind.LIMITS_NOT_IN_FORCE]
    assert missing and "memory (no cgroup: no cgroup for this test" in missing[0], report.flags
    assert Path(repo).is_dir()
