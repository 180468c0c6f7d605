"""Resource limits for every sandboxed process tree: memory, processes, disk and files.

The kernel's own mechanisms do the work, each where it is strongest:

- a cgroup per process tree for memory (no swap) and the number of processes: cgroup v2
  where it is mounted and delegated to us, v1 where only v1 is writable (root on hosts
  like this project's graders, `/sys/fs/cgroup/memory` and `/sys/fs/cgroup/pids`);
- rlimits as a backstop, set by util-linux's `prlimit` on the command: `RLIMIT_AS` (a
  single allocation past the memory limit fails with MemoryError instead of waking the
  out-of-memory killer), `RLIMIT_FSIZE` (no file larger than the disk limit; Python
  ignores SIGXFSZ, so the write fails with EFBIG) and `RLIMIT_NOFILE`;
- the sandbox's size-capped tmpfs (bwrap's `--size`, set in tito.sandbox.bwrap) for the disk.

A process joins its cgroup before it execs the sandbox, through a one-line `sh` prefix,
so that every descendant is counted. Where a mechanism cannot be used (an unprivileged
grader without cgroup delegation, no `prlimit`), grading still works: `availability()`
says which limits are in force and why not, `tito system doctor` lists them, and each
report carries a flag.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

GIB = 1 << 30
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Joins the cgroups named before `--`, then becomes the command after it.
_JOIN = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'


def describe_bytes(count: int) -> str:
    """2147483648 -> '2 GiB', 1048576 -> '1 MiB'."""
    for unit, size in (("GiB", GIB), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:g} {unit}"
    return f"{count} bytes"


@dataclass(frozen=True)
class Limits:
    """What one sandboxed process tree may use (defaults like PrairieLearn's graders)."""

    memory_bytes: int = 2 * GIB  # resident memory and tmpfs pages, no swap
    processes: int = 1024  # processes and threads of the whole tree
    disk_bytes: int = 1 * GIB  # the sandbox's /tmp (home and working folder inside), and any one file
    open_files: int = 1024

    def named(self, resource: str) -> str:
        """'memory limit of 2 GiB' for resource 'memory'."""
        amounts = {"memory": describe_bytes(self.memory_bytes), "processes": f"{self.processes:,}",
                   "disk": describe_bytes(self.disk_bytes), "open files": f"{self.open_files:,}"}
        noun = {"processes": "process limit", "open files": "open-file limit"}.get(resource, f"{resource} limit")
        return f"{noun} of {amounts[resource]}"


# -- what this machine allows ---------------------------------------------------------------------
@dataclass(frozen=True)
class Mechanism:
    name: str  # "memory", "processes", "disk", "rlimits"
    in_force: bool
    how: str  # how it is enforced, or why it is not


def _own_cgroup(controller: str) -> str | None:
    """This process's cgroup path for a v1 `controller`, or for v2 with controller ''."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if (controller == "" and controllers == "") or controller in controllers.split(","):
            return path
    return None


@dataclass(frozen=True)
class _Hierarchy:
    version: int  # 1 or 2
    parents: dict[str, Path]  # controller -> folder new cgroups are made in ("" for v2's one folder)


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def _v2_hierarchy() -> _Hierarchy | str:
    mount = CGROUP_ROOT if (CGROUP_ROOT / "cgroup.controllers").is_file() else None
    if mount is None:
        return "no cgroup v2 hierarchy with controllers is mounted"
    own = _own_cgroup("")
    if own is None:
        return "this process has no cgroup v2 path"
    folder = mount / own.lstrip("/")
    available = set((folder / "cgroup.controllers").read_text().split()) if folder.is_dir() else set()
    if not {"memory", "pids"} <= available:
        return f"the memory and pids controllers are not delegated to {folder}"
    if not _writable_dir(folder):
        return f"{folder} is not writable (run the grader in a delegated scope: systemd-run --user --scope " \
               "-p Delegate=yes)"
    enabled = set((folder / "cgroup.subtree_control").read_text().split())
    if not {"memory", "pids"} <= enabled:
        problem = _enable_v2_controllers(folder)
        if problem:
            return problem
    return _Hierarchy(2, {"": folder})


def _enable_v2_controllers(folder: Path) -> str:
    """cgroup v2 lets a folder hand controllers to children only while it holds no process
    itself: move this process into a leaf first (as systemd's delegation expects)."""
    try:
        leaf = folder / "tito-coordinator"
        leaf.mkdir(exist_ok=True)
        (leaf / "cgroup.procs").write_text(str(os.getpid()))
        (folder / "cgroup.subtree_control").write_text("+memory +pids")
    except OSError as error:
        return f"cannot enable the memory and pids controllers in {folder} ({error.strerror})"
    return ""


def _v1_hierarchy() -> _Hierarchy | str:
    parents = {}
    for controller in ("memory", "pids"):
        own = _own_cgroup(controller)
        mount = CGROUP_ROOT / controller
        if own is None or not mount.is_dir():
            return f"the cgroup v1 {controller} controller is not mounted"
        folder = mount / own.lstrip("/")
        if not _writable_dir(folder):
            return f"{folder} is not writable (cgroup v1 needs root)"
        parents[controller] = folder
    return _Hierarchy(1, parents)


@functools.cache
def _hierarchy() -> _Hierarchy | str:
    """The cgroup hierarchy new process trees go in, or why there is none."""
    for found in (_v2_hierarchy(), _v1_hierarchy()):
        if isinstance(found, _Hierarchy):
            for parent in found.parents.values():
                _sweep(parent)
            return found
    return f"{_v2_hierarchy()}; {_v1_hierarchy()}"


def _sweep(parent: Path) -> None:
    """Remove the empty cgroups of tito processes that died without removing theirs (a
    killed worker): `tito-<pid>-<id>` whose process is gone."""
    for folder in parent.glob("tito-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(OSError):
                folder.rmdir()


@functools.cache
def _prlimit() -> str | None:
    return shutil.which("prlimit")


def availability() -> list[Mechanism]:
    """Each limit, in force or not, and how (for `tito system doctor` and the reports)."""
    hierarchy = _hierarchy()
    prlimit = _prlimit()
    if isinstance(hierarchy, _Hierarchy):
        cgroup = f"cgroup v{hierarchy.version} ({', '.join(str(p) for p in hierarchy.parents.values())})"
        memory = Mechanism("memory", True, f"{cgroup}, no swap" + (", and RLIMIT_AS per process" if prlimit else ""))
        processes = Mechanism("processes", True, cgroup)
    else:
        memory = Mechanism("memory", False, f"no cgroup: {hierarchy}"
                           + ("; only RLIMIT_AS per process applies" if prlimit else ""))
        processes = Mechanism("processes", False, f"no cgroup: {hierarchy}")
    disk = Mechanism("disk", True, "bwrap --size on the sandbox's /tmp (home and working folder inside)"
                     + (", RLIMIT_FSIZE per file" if prlimit else ""))
    rlimits = Mechanism("rlimits", bool(prlimit), "prlimit sets RLIMIT_AS, RLIMIT_FSIZE and RLIMIT_NOFILE"
                        if prlimit else "util-linux's prlimit is not installed")
    return [memory, processes, disk, rlimits]


def missing() -> list[Mechanism]:
    """The limits that are not in force here (empty on a well-set-up grader)."""
    return [mechanism for mechanism in availability() if not mechanism.in_force]


# What a limit reached looks like from inside: the error a cell or test gets.
_ERRORS = [("memory", ("MemoryError",), ""), ("processes", ("BlockingIOError", "OSError"), "[Errno 11]"),
           ("processes", ("RuntimeError",), "can't start new thread"),
           ("disk", ("OSError",), "[Errno 28]"), ("disk", ("OSError",), "[Errno 27]"),
           ("open files", ("OSError",), "[Errno 24]")]


def resource_of_error(ename: str, evalue: str) -> str | None:
    """The limit an error output shows was reached ('memory', 'processes', 'disk', 'open
    files'), or None: MemoryError, a refused fork, a full /tmp, a file past RLIMIT_FSIZE."""
    for resource, names, text in _ERRORS:
        if ename in names and text in evalue:
            return resource
    return None


# -- one process tree ---------------------------------------------------------------------------
@dataclass
class LimitEvent:
    """A limit that a sandboxed run reached."""

    step: str  # "notebook run", "clean room", "package tests", ...
    resource: str  # "memory", "processes"
    message: str  # e.g. "memory limit of 2 GiB reached (the out-of-memory killer stopped a process)"


# Limits reached by this process's sandboxed runs, oldest first; grading reads and clears it.
EVENTS: list[LimitEvent] = []


@dataclass
class Box:
    """The limits of one sandboxed process tree: its cgroups (if any) and its command prefix."""

    limits: Limits
    step: str
    folders: dict[str, Path] = field(default_factory=dict)  # controller -> this tree's cgroup folder
    version: int = 0

    def prefix(self) -> list[str]:
        """What goes before the sandbox's command: prlimit, then joining the cgroups."""
        argv: list[str] = []
        if _prlimit():
            argv += [_prlimit(), f"--as={self.limits.memory_bytes}", f"--fsize={self.limits.disk_bytes}",
                     f"--nofile={self.limits.open_files}", "--"]
        if self.folders:
            argv += ["/bin/sh", "-c", _JOIN, "tito-limits",
                     *[str(folder / "cgroup.procs") for folder in self.folders.values()], "--"]
        return argv

    def join(self, pid: int) -> None:
        """Move process `pid` into this tree's cgroups (its later children follow it)."""
        for folder in self.folders.values():
            (folder / "cgroup.procs").write_text(str(pid))

    def close(self) -> list[LimitEvent]:
        """Remove the cgroups (killing any process left in them) and return what was reached."""
        events = self._events()
        for folder in self.folders.values():
            _remove(folder)
        self.folders = {}
        EVENTS.extend(events)
        return events

    def _events(self) -> list[LimitEvent]:
        events = []
        if self.version == 1:
            memory, pids = self.folders.get("memory"), self.folders.get("pids")
            oom = _counter(memory / "memory.oom_control", "oom_kill") if memory else 0
            forks = _counter(pids / "pids.events", "max") if pids else 0
        elif self.version == 2:
            folder = self.folders[""]
            oom = _counter(folder / "memory.events", "oom_kill")
            forks = _counter(folder / "pids.events", "max")
        else:
            return events
        if oom:
            events.append(LimitEvent(self.step, "memory", f"{self.limits.named('memory')} reached: the "
                                     "out-of-memory killer stopped a process"))
        if forks:
            events.append(LimitEvent(self.step, "processes", f"{self.limits.named('processes')} reached: "
                                     f"{forks} new process(es) or thread(s) were refused"))
        return events


def _counter(path: Path, name: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == name:
                return int(value)
    return 0


def open_box(limits: Limits, step: str) -> Box:
    """A fresh cgroup (where this machine allows one) for one process tree."""
    box = Box(limits, step)
    hierarchy = _hierarchy()
    if not isinstance(hierarchy, _Hierarchy):
        return box
    name = f"tito-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        for controller, parent in hierarchy.parents.items():
            folder = parent / name
            folder.mkdir()
            box.folders[controller] = folder
            _configure(folder, controller, hierarchy.version, limits)
    except OSError:
        box.close()  # a cgroup half made is no limit: run with the rlimits alone
        return Box(limits, step)
    box.version = hierarchy.version
    return box


def _configure(folder: Path, controller: str, version: int, limits: Limits) -> None:
    if version == 2:
        (folder / "memory.max").write_text(str(limits.memory_bytes))
        with contextlib.suppress(OSError):  # no swap configured at all: nothing to switch off
            (folder / "memory.swap.max").write_text("0")
        (folder / "pids.max").write_text(str(limits.processes))
    elif controller == "memory":
        (folder / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
        with contextlib.suppress(OSError):  # swap accounting off: there is no swap to limit
            (folder / "memory.memsw.limit_in_bytes").write_text(str(limits.memory_bytes))
    else:
        (folder / "pids.max").write_text(str(limits.processes))


def _remove(folder: Path) -> None:
    """rmdir a cgroup once its processes are gone (bwrap's PID namespace takes them down
    with the sandbox; whatever lingers is killed here)."""
    kill = folder / "cgroup.kill"
    for _ in range(100):
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            with contextlib.suppress(OSError):
                if kill.exists():
                    kill.write_text("1")
                else:
                    for pid in (folder / "cgroup.procs").read_text().split():
                        os.kill(int(pid), 9)
            time.sleep(0.02)
