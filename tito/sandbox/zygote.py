"""Kernels forked from a pre-imported zygote: the process start paid once per grading
worker, not once per student.

A worker that grades many submissions starts one `Zygote`: a sandbox (the same bwrap
command and limits as a kernel's) holding a process that has imported NumPy, ipykernel
and IPython (tito/sandbox/inside/zygote.py). Each notebook run asks it for a kernel; the
forked child isolates itself (new user, PID, mount, IPC and network namespaces, its own
/tmp and folder, no capabilities, not dumpable) and is moved by this side into its own
cgroup, with its own rlimits, before it starts a real IPKernelApp. `ForkedKernel` is what
jupyter_client's provisioner holds in place of a Popen.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from tito.errors import TitoError
from tito.sandbox import limits
from tito.sandbox.bwrap import RUNNING, bwrap_argv, check_available, environment, launcher_environment

ZYGOTE = "_tito_zygote.py"  # its name inside the zygote's folder
INSIDE = Path("/run/tito")  # where the zygote sees its folder
USER = 1000  # the uid of the zygote and its kernels inside (outside: this process's)
_START_SECONDS = 60.0
_SPAWN_SECONDS = 30.0


class ZygoteFailed(TitoError):
    """The zygote could not fork an isolated kernel here (the caller launches one itself)."""


IPC_PATH_LIMIT = 100  # a Unix socket's path holds 108 bytes; ZMQ names the kernel's sockets <ip>-<port>


def socket_folder(prefix: str, deepest_socket: str) -> Path:
    """A new folder for kernel sockets, in the current temporary folder (grading's run
    folder, removed even after a killed worker) unless `deepest_socket` inside it would be
    a path too long for a Unix socket (a Dask worker's local directory can be deep): then
    in the system's /tmp."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if len(str(folder / deepest_socket)) <= IPC_PATH_LIMIT:
        return folder
    folder.rmdir()
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


class ForkedKernel:
    """A kernel's init (PID 1 of its namespaces) as jupyter_client's provisioner uses a
    Popen: poll, wait, kill, send_signal. It is not this process's child, so it is followed
    through a pidfd; killing it takes the kernel's whole namespace down."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, args: list[str]):
        self.pid, self.args, self.returncode = pid, args, None
        self._pidfd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self._ended()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self._ended()
        return self.returncode

    def _ended(self) -> None:
        self.returncode = -signal.SIGKILL  # its exit status belongs to the zygote, which reaps it
        os.close(self._pidfd)

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    terminate = kill  # a namespace's init ignores SIGTERM


class Zygote:
    """One sandboxed zygote on `site`, with the sandbox settings of its kernels."""

    def __init__(self, site: Path, settings: limits.Limits):
        self.site, self.limits = site, settings
        self.folder = socket_folder("tito-z", "c-0123456789/k-65535")  # (see child_folder)
        self._lock = threading.Lock()
        self._box = limits.open_box(settings, "kernel zygote")
        check_available()
        command = self._box.prefix() + bwrap_argv(site, disk_bytes=settings.disk_bytes, mounts=[(self.folder, INSIDE)],
                                                  user=USER) + [sys.executable, str(INSIDE / ZYGOTE)]
        shutil.copy2(Path(__file__).parent / "inside" / "zygote.py", self.folder / ZYGOTE)
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=launcher_environment())
        RUNNING.add(self.process)
        ready, _, _ = select.select([self.process.stdout], [], [], _START_SECONDS)
        if not ready or self.process.stdout.readline() != b"ready\n":
            self.close()
            raise ZygoteFailed("The kernel zygote did not start.")

    def alive(self) -> bool:
        return self.process.poll() is None

    def child_folder(self) -> Path:
        folder = self.folder / f"c-{uuid.uuid4().hex[:10]}"
        (folder / "work").mkdir(parents=True)
        (folder / "home").mkdir()
        return folder

    def spawn(self, folder: Path, connection: dict, arguments: list[str], box: limits.Box,
              inputs: list[str]) -> ForkedKernel:
        """Fork a kernel whose sockets and connection file are in `folder` (from
        `child_folder()`): `connection` is the host's connection info (its ipc paths in
        `folder`), `arguments` the kernel's own, `inputs` the data files in folder/work.
        The child joins `box`'s cgroups before any student code runs."""
        inside = {name: value.decode() if isinstance(value, bytes) else value for name, value in connection.items()}
        inside["ip"] = str(INSIDE / Path(connection["ip"]).relative_to(folder))
        (folder / "kernel.json").write_text(json.dumps(inside))
        hello = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            hello.bind(str(folder / "hello"))
            hello.listen(1)
            request = {"folder": str(INSIDE / folder.name), "disk_bytes": self.limits.disk_bytes,
                       "inputs": inputs, "arguments": arguments, "env": environment(self.site),
                       "rlimits": {"RLIMIT_AS": self.limits.memory_bytes, "RLIMIT_FSIZE": self.limits.disk_bytes,
                                   "RLIMIT_NOFILE": self.limits.open_files}}
            with self._lock:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
            return self._handshake(hello, folder, box)
        except OSError as error:
            raise ZygoteFailed(f"The kernel zygote could not fork a kernel: {error}") from None
        finally:
            hello.close()

    def _handshake(self, hello: socket.socket, folder: Path, box: limits.Box) -> ForkedKernel:
        started = time.monotonic()
        hello.settimeout(0.05)
        while True:
            try:
                peer, _ = hello.accept()
                break
            except TimeoutError:
                failed = folder / "failed"
                if failed.exists() or not self.alive() or time.monotonic() - started > _SPAWN_SECONDS:
                    reason = failed.read_text(errors="replace") if failed.exists() else "no answer"
                    raise ZygoteFailed(f"The kernel zygote could not fork a kernel: {reason}") from None
        with peer:
            peer.settimeout(_SPAWN_SECONDS)
            pid = struct.unpack("3i", peer.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
            kernel = ForkedKernel(pid, [str(INSIDE / ZYGOTE), folder.name])
            box.join(pid)
            peer.sendall(b"j")
            answer = peer.makefile("rb").readline().decode(errors="replace").strip()
        if answer != "ok":
            kernel.kill()
            raise ZygoteFailed(f"The kernel zygote could not fork a kernel: {answer or 'no answer'}")
        return kernel

    def close(self, keep: Path | None = None) -> None:
        """Stop the zygote and remove its folder (all but `keep`, a child folder in use)."""
        RUNNING.discard(self.process)
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        self._box.close()
        for path in self.folder.iterdir():
            if path != keep:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        if keep is None:
            shutil.rmtree(self.folder, ignore_errors=True)


# -- one zygote per site and limits, in a process that grades many submissions ---------------------
FORK_KERNELS = False  # set by a process that grades many submissions (a batch worker)
_ZYGOTES: dict[tuple[Path, limits.Limits], Zygote | None] = {}  # None: it failed here, launch kernels instead
_ZYGOTES_LOCK = threading.Lock()


def for_site(site: Path, settings: limits.Limits) -> Zygote | None:
    """This process's zygote for kernels on `site` with `settings`, started on first use;
    None when kernels are not forked here (a single submission) or the zygote failed."""
    if not FORK_KERNELS:
        return None
    key = (site, settings)
    with _ZYGOTES_LOCK:
        found = _ZYGOTES.get(key, ...)
        if found is None or (found is not ... and found.alive()):
            return found
        try:
            _ZYGOTES[key] = Zygote(site, settings)
        except (ZygoteFailed, OSError):
            _ZYGOTES[key] = None
        return _ZYGOTES[key]


def give_up(zygote: Zygote, keep: Path) -> None:
    """After a fork that failed: no more kernels from this zygote in this process. Its
    child folder `keep` stays for the kernel launched instead (whose manager removes it)."""
    with _ZYGOTES_LOCK:
        for key, found in _ZYGOTES.items():
            if found is zygote:
                _ZYGOTES[key] = None
    zygote.close(keep=keep)


def close_all() -> None:
    """Stop this process's zygotes (before the run folder that holds them is removed)."""
    with _ZYGOTES_LOCK:
        found = [zygote for zygote in _ZYGOTES.values() if zygote is not None]
        _ZYGOTES.clear()
    for zygote in found:
        zygote.close()
