"""The bwrap command, and running one program in it: a bubblewrap sandbox around every
kernel and interpreter.

Inside the sandbox the system and the Python environment are read-only, there is no
network, and the only writable place is a private /tmp of limited size (bwrap's `--size`)
holding HOME (also IPYTHONDIR, the Jupyter and matplotlib folders) and the working folder.
The only course files in view are a *site* folder: the `tinytorch` package without the
module being graded (and without any later one), and tito's small notebook helper. The
course directory, the gradebook, `src/`, `.git`, `.tito/` and other submissions are simply
not there, and no process inside holds the grader's environment (bwrap itself starts with
a clean one). The whole process tree lives in its own PID namespace and dies with the
grading step; its memory, processes and files are limited (tito.sandbox.limits).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import site
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from traitlets import Bool, Int, Unicode
from traitlets.config import LoggingConfigurable

from tito.errors import TitoError
from tito.sandbox import limits

BWRAP = "bwrap"
_ETC_FILES = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
              "hosts", "fonts", "mime.types", "alternatives", "matplotlibrc"]
_SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
# uid 0 inside the sandbox is the host's root to the kernel's file-permission checks (the
# user namespace maps it so), and the machine-wide files of /proc are writable by that
# uid: a sysctl such as kernel.core_pattern would run a program of the student's choosing
# outside. bwrap's own cover of /proc/sys skips it when the folder is not writable (it never
# is, its files are), so they are bound read-only over the fresh /proc explicitly.
_PROC_READ_ONLY = ["/proc/sys", "/proc/pressure", "/proc/mtrr", "/proc/sysrq-trigger"]
# Variables a sandboxed program may see from the grader's environment (everything else,
# passwords in a gradebook URL included, stays outside).
_PASSED_ENV = ["LANG", "LC_ALL", "NBGRADER_EXECUTION", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT", "TINYTORCH_CELL_TIMEOUT"]
HOME = Path("/tmp/home")  # inside the sandbox, on its size-limited /tmp
WORKDIR = Path("/tmp/work")


class SandboxUnavailable(TitoError):
    """The sandbox cannot be made on this machine."""


class TinyTorchSandbox(LoggingConfigurable):
    """Sandbox settings, read from nbgrader_config.py like nbgrader's own."""

    enabled = Bool(True, help="Run student code in a bubblewrap sandbox (strongly recommended).").tag(config=True)
    site = Unicode("", help="Read-only folder put first on the sandbox's PYTHONPATH (a prepared package "
                            "view). Empty: build one per kernel from repo_root.").tag(config=True)
    repo_root = Unicode("", help="The course repository (holds tinytorch/ and src/ or .course/).").tag(config=True)
    memory_limit = Int(limits.Limits.memory_bytes, help="Bytes of memory (no swap) one sandboxed process tree "
                       "may use: a kernel, a clean room, a package-test run.").tag(config=True)
    process_limit = Int(limits.Limits.processes, help="Processes and threads one sandboxed process tree may "
                        "have at once.").tag(config=True)
    disk_limit = Int(limits.Limits.disk_bytes, help="Bytes of the sandbox's /tmp, which holds its home and "
                     "working folder; also the largest file it may write.").tag(config=True)
    open_files_limit = Int(limits.Limits.open_files, help="Open files per sandboxed process.").tag(config=True)

    def limits(self) -> limits.Limits:
        return limits.Limits(self.memory_limit, self.process_limit, self.disk_limit, self.open_files_limit)


# -- the bwrap command ---------------------------------------------------------------------
def _bind_or_link(path: str, option: str = "--ro-bind") -> list[str]:
    if not os.path.lexists(path):
        return []
    if os.path.islink(path):
        return ["--symlink", os.readlink(path), path]
    return [option, path, path]


def _proc_mounts() -> list[str]:
    argv = ["--proc", "/proc"]
    for path in _PROC_READ_ONLY:
        argv += ["--ro-bind-try", path, path]
    return argv


def _site_packages() -> list[str]:
    """The environment's package folders, and any other site-packages on sys.path (a
    virtual environment layered on another one through a .pth file)."""
    on_path = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and os.path.isdir(p)]
    return list(dict.fromkeys([*site.getsitepackages(), *on_path]))


def _python_locations() -> list[str]:
    """Folders the interpreter and its packages live in (read-only inside)."""
    found = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix}
    found.update(_site_packages())
    user_site = site.getusersitepackages()
    if os.path.isdir(user_site):
        found.add(user_site)
    real = {str(Path(p).resolve()) for p in found if os.path.isdir(p)}
    # a folder inside another one is already in view
    return sorted(p for p in real if not any(p != q and p.startswith(q + os.sep) for q in real))


def _installed_course_packages() -> list[str]:
    """Copies of tinytorch/tito installed inside the mounted environment (a non-editable
    install), to be hidden: the sandbox must only see the site folder's package."""
    hidden = []
    for location in _site_packages():
        for name in ("tinytorch", "tito"):
            candidate = Path(location) / name
            if candidate.is_dir():
                hidden.append(str(candidate))
    return hidden


def environment(site_dir: Path, home: Path = HOME) -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
    scripts = str(Path(sys.executable).parent)
    env.update(
        PATH=os.pathsep.join([scripts, "/usr/local/bin", "/usr/bin", "/bin"]),
        HOME=str(home), IPYTHONDIR=str(home / ".ipython"), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"), JUPYTER_RUNTIME_DIR=str(home / ".jupyter-runtime"),
        MPLCONFIGDIR=str(home / ".matplotlib"), PYTHONPATH=str(site_dir), PYTHONDONTWRITEBYTECODE="1",
        PYTHONNOUSERSITE="1", TMPDIR="/tmp", LANG=env.get("LANG", "C.UTF-8"),
    )
    return env


def launcher_environment() -> dict[str, str]:
    """The environment of bwrap itself (and of prlimit and sh before it). bwrap's own
    process is PID 1 inside the sandbox, where /proc/1/environ can be read: it holds
    nothing of the grader's environment (a gradebook password, a TLS key path)."""
    return {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "LANG": os.environ.get("LANG", "C.UTF-8")}


def bwrap_argv(site_dir: Path, *, disk_bytes: int = limits.Limits.disk_bytes, writable: list[Path] = (),
               inputs: Path | None = None, proc: bool = True, mounts: list[tuple[Path, Path]] = (),
               user: int | None = None) -> list[str]:
    """The bubblewrap prefix for a command that runs with `site_dir` (read-only) as its only
    course files, in WORKDIR on a private /tmp of `disk_bytes`, where the regular files of
    `inputs` appear read-only; `writable` folders (the kernel's sockets, a report to
    collect) are bound at their own paths, and each (folder, path) of `mounts` at that path
    (a kernel zygote's folder at /run/tito); with `user`, programs run as that uid and gid
    inside (the zygote: its children may then map it into user namespaces of their own).
    With `proc` False there is no /proc at all (the clean room needs none, and its guard
    then has no /proc/self/mem to be fooled about)."""
    # a private /tmp first: a Python environment or site folder under /tmp is mounted over it
    argv = [BWRAP, "--unshare-all", *(["--unshare-user", "--uid", str(user), "--gid", str(user)] if user else []),
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            *(_proc_mounts() if proc else []), "--dev", "/dev", "--size", str(disk_bytes), "--tmpfs", "/tmp",
            "--dir", str(HOME), "--dir", str(WORKDIR)]
    for path in _SYSTEM_DIRS:
        argv += _bind_or_link(path)
    for name in _ETC_FILES:
        argv += _bind_or_link(f"/etc/{name}")
    for location in _python_locations():
        argv += ["--ro-bind", location, location]
    for hidden in _installed_course_packages():
        argv += ["--tmpfs", hidden]
    argv += ["--ro-bind", str(site_dir), str(site_dir)]
    for folder in writable:
        argv += ["--bind", str(folder), str(folder)]
    for folder, inside in mounts:
        argv += ["--bind", str(folder), str(inside)]
    for path in sorted(inputs.iterdir()) if inputs else []:
        if path.is_file() and not path.is_symlink():
            argv += ["--ro-bind", str(path), str(WORKDIR / path.name)]
    argv += ["--chdir", str(WORKDIR), "--clearenv"]
    for name, value in environment(site_dir).items():
        argv += ["--setenv", name, value]
    return argv + ["--"]


_PROBE_LOCK = threading.Lock()
_PROBED: list[SandboxUnavailable | None] = []  # once probed: [None] if bwrap works here, else [why not]


def check_available() -> None:
    """Raise SandboxUnavailable, naming the cause and the fix, unless bwrap works here.
    Probed once per process (0.15 s: a sandboxed `import numpy`); callers at the same
    time wait for the one probe. `check_available.cache_clear()` forgets the answer."""
    with _PROBE_LOCK:
        if not _PROBED:
            try:
                _probe()
                _PROBED.append(None)
            except SandboxUnavailable as problem:
                _PROBED.append(problem)
        problem = _PROBED[0]
    if problem is not None:
        raise problem


check_available.cache_clear = _PROBED.clear


def probe_in_background() -> None:
    """Start the probe now, beside whatever this process does next (imports, setup): the
    first `check_available()` then waits for it instead of running it. (Not a daemon: a
    process that ends meanwhile waits for it, so that its scratch folder is removed.)"""
    if not _PROBED:
        threading.Thread(target=_probe_quietly, name="bwrap-probe").start()


def _probe_quietly() -> None:
    with contextlib.suppress(Exception):  # the answer is kept; the caller that needs it raises
        check_available()


def _probe() -> None:
    if shutil.which(BWRAP) is None:
        raise SandboxUnavailable(
            "Cannot sandbox student code: the bubblewrap program `bwrap` is not installed.",
            "Install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`), or pass --no-sandbox to grade "
            "without isolation (only for code you trust).")
    with tempfile.TemporaryDirectory(prefix="tito-check-") as folder:
        probe = bwrap_argv(Path(folder), writable=[Path(folder)]) + [sys.executable, "-c", "import numpy"]
        result = subprocess.run(probe, capture_output=True, text=True, timeout=60, env=launcher_environment())
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        if "execvp" in detail:
            raise SandboxUnavailable(
                f"Cannot sandbox student code: the sandbox cannot run this Python ({detail}).",
                f"The Python environment ({sys.prefix}) must be visible inside: report this with the path.")
        raise SandboxUnavailable(
            f"Cannot sandbox student code: bubblewrap failed here ({detail}).",
            "bwrap needs user namespaces (sysctl kernel.unprivileged_userns_clone=1) or root; inside a "
            "container, allow them (e.g. docker --security-opt seccomp=unconfined). Or pass --no-sandbox "
            "to grade without isolation (only for code you trust).")


# -- running a program in the sandbox ----------------------------------------------------------
RUNNING: set[subprocess.Popen] = set()  # sandboxed programs and kernels this process started


def stop_all() -> None:
    """Kill every sandboxed program and kernel this process is running (after Ctrl-C, or at
    a submission's deadline): bwrap's --die-with-parent and the PID namespace take each
    whole process tree down with it."""
    for process in list(RUNNING):
        try:
            process.kill()
        except OSError:  # already gone
            pass


@dataclass(frozen=True)
class Deadline:
    """When the host kills a sandboxed program, whatever the program does to its own timers.
    A line of its stdout that starts with `marker` starts a new step (the rest of the line
    names it); each step, and the time before the first, gets `step_seconds`."""

    step_seconds: float | None  # None: no limit per step
    total_seconds: float | None  # None: no limit for the whole run
    marker: str = ""


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    collected: str | None = None  # the text of `collect` from the scratch folder, if it was written
    stopped: str = ""  # "step" or "total" when the host killed the program at a deadline, "cancelled"
    step: str = ""  # the rest of the last marker line: the step that was running
    seconds: float = 0.0  # how long the program ran


class _Progress:
    """Reads a program's stdout as it comes, noting when each step started."""

    def __init__(self, stream, marker: str):
        self.lines: list[str] = []
        self.step, self.step_started = "", time.monotonic()
        self._marker = marker
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)
            if self._marker and line.startswith(self._marker):
                self.step, self.step_started = line[len(self._marker):].rstrip("\n"), time.monotonic()
        stream.close()


_CANCEL_POLL = 0.05  # seconds between looks at a `cancel` event


def _wait(process: subprocess.Popen, progress: _Progress, deadline: Deadline, started: float,
          cancel: threading.Event | None = None) -> str:
    """Wait for `process` to end; kill it at a deadline or once `cancel` is set. Returns
    "step", "total", "cancelled" or ""."""
    while True:
        now = time.monotonic()
        deadlines = {}
        if deadline.total_seconds is not None:
            deadlines["total"] = started + deadline.total_seconds
        if deadline.step_seconds is not None:
            deadlines["step"] = progress.step_started + deadline.step_seconds
        passed = [name for name, at in deadlines.items() if now >= at]
        if cancel is not None and cancel.is_set():
            passed.insert(0, "cancelled")
        if passed:
            process.kill()  # bwrap's --die-with-parent and the PID namespace take the sandbox down with it
            process.wait()
            return passed[0]
        wait = min(deadlines.values()) - now if deadlines else None
        if cancel is not None:
            wait = _CANCEL_POLL if wait is None else min(wait, _CANCEL_POLL)
        try:
            process.wait(timeout=wait)
            return ""
        except subprocess.TimeoutExpired:
            continue  # a deadline passed, a new step began, or it was cancelled meanwhile: look again


def run(site_dir: Path, argv: list[str], *, stdin: str = "", timeout: float | None = None,
        sandboxed: bool = True, collect: str | None = None, deadline: Deadline | None = None,
        limit: limits.Limits | None = None, step: str = "sandboxed run",
        cancel: threading.Event | None = None, proc: bool = True) -> RunResult:
    """Run `argv` (e.g. [sys.executable, ...]) in a fresh sandbox with the resource `limit`
    (the defaults if None); {scratch} in `argv` names a throw-away folder that stays
    writable, and with `collect`, that file of it is returned too. With `sandboxed=False`
    the same command runs directly, with the same environment and limits (--no-sandbox).
    The host kills the program after `timeout` seconds, or at `deadline` (which steps its
    stdout announces), or once `cancel` is set. Limits reached are added to
    tito.limits.EVENTS under `step`."""
    deadline = deadline or Deadline(None, timeout)
    with tempfile.TemporaryDirectory(prefix="tito-run-") as folder:
        scratch = Path(folder)
        (scratch / "home").mkdir()
        argv = [part.replace("{scratch}", str(scratch)) for part in argv]
        box = limits.open_box(limit or limits.Limits(), step)
        if sandboxed:
            check_available()
            command, env = box.prefix() + bwrap_argv(site_dir, disk_bytes=box.limits.disk_bytes,
                                                     writable=[scratch], proc=proc) + argv, launcher_environment()
        else:
            command, env = box.prefix() + argv, environment(site_dir, scratch / "home")
        started = time.monotonic()
        with contextlib.closing(box), subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                cwd=scratch, env=env) as process:
            RUNNING.add(process)
            if cancel is not None and cancel.is_set():  # cancelled while it was being started
                process.kill()
            try:
                errors: list[str] = []
                progress = _Progress(process.stdout, deadline.marker)
                helpers = [progress.thread, threading.Thread(target=lambda: errors.append(process.stderr.read())),
                           threading.Thread(target=_feed, args=(process, stdin))]
                for helper in helpers[1:]:
                    helper.daemon = True
                    helper.start()
                try:
                    stopped = _wait(process, progress, deadline, started, cancel)
                except BaseException:  # Ctrl-C: the sandbox must not outlive its scratch folder
                    process.kill()
                    raise
                for helper in helpers:  # after a kill, a survivor outside the sandbox may still hold a pipe
                    helper.join(timeout=10 if stopped else None)
            finally:
                RUNNING.discard(process)
        result = RunResult(process.returncode, "".join(progress.lines), "".join(errors), stopped=stopped,
                           step=progress.step, seconds=time.monotonic() - started)
        if stopped == "cancelled":
            result.returncode, result.stderr = -9, f"{result.stderr}\ncancelled by the host"
        elif stopped:
            seconds = deadline.step_seconds if stopped == "step" else deadline.total_seconds
            result.returncode, result.stderr = -9, f"{result.stderr}\nstopped by the host after {seconds:g} s"
        if collect and (scratch / collect).is_file():
            result.collected = (scratch / collect).read_text(encoding="utf-8", errors="replace")
        return result


def _feed(process: subprocess.Popen, text: str) -> None:
    try:
        process.stdin.write(text)
        process.stdin.close()
    except (BrokenPipeError, OSError):  # the program ended (or closed its stdin) before reading it all
        pass
