"""The sandboxed Jupyter kernel: an ipykernel started inside bwrap, with its resource limits.

Kernels talk to the grader over ZMQ `ipc` sockets in a bind-mounted run folder (the
sandbox's network namespace has its own loopback), and `JPY_PARENT_PID` is not passed in
(ipykernel's parent poller would otherwise see PID 1 as its parent and exit).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from tito.coursedir import intake
from tito.errors import TitoError
from tito.sandbox import limits
from tito.sandbox.bwrap import RUNNING, TinyTorchSandbox, bwrap_argv, check_available, environment, launcher_environment


class SandboxedKernelManager(AsyncKernelManager):
    """An ipykernel inside the sandbox, with its resource limits. nbgrader's Execute (through
    tito's SandboxedExecute) and tito's own grading start kernels with it."""

    site_dir: Path | None = None  # the site, when the settings name none (set by SandboxedExecute)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.settings = TinyTorchSandbox(parent=self)
        self._run_dir = _kernel_run_dir()
        self._scratch = self._run_dir / "work"  # the files beside the notebook, shown read-only inside
        (self._scratch / "home").mkdir(parents=True)  # HOME of an unsandboxed kernel
        self._site: Path | None = None
        self._box: limits.Box | None = None
        if self.settings.enabled:
            self.transport = "ipc"
            self.ip = str(self._run_dir / "k")
            self.connection_file = str(self._run_dir / "kernel.json")

    async def _async_pre_start_kernel(self, **kwargs):
        cwd = kwargs.pop("cwd", None)
        if cwd:
            self._copy_data_files(Path(cwd))
        self._site = self._resolve_site()
        kwargs["cwd"] = str(self._scratch)
        # the kernel's own output would land on the grader's disk, past every limit
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        if self.settings.enabled:
            kwargs["env"] = launcher_environment()
        else:
            kwargs["env"] = environment(self._site, self._scratch / "home")
        if self.kernel_spec is not None:
            self.kernel_spec.interrupt_mode = "message"  # signals would stop at the sandbox's init
        if self._box is None:
            self._box = limits.open_box(self.settings.limits(), "notebook run")
        return await super()._async_pre_start_kernel(**kwargs)

    def _copy_data_files(self, folder: Path) -> None:
        """Files that sit beside the notebook (data an assignment ships), not notebooks:
        only what the intake (tito.course.intake) accepts (regular files under the caps, never a link), and
        under nbgrader's own CLI, whose Autograde copied submitted/ into autograded/
        following links, nothing the intake refused in the student's submitted folder."""
        limits = intake.SubmissionIntake(parent=self).limits()
        found = intake.read_submission(folder, "", limits)
        refused = intake.refused_in_submitted(self.config, folder, limits)
        for name, data in found.files.items():
            if name not in refused:
                (self._scratch / name).write_bytes(data)

    def _resolve_site(self) -> Path:
        site = self.settings.site or self.site_dir
        if not site:
            raise TitoError("The sandbox has no site folder: set c.TinyTorchSandbox.site or repo_root in "
                            "nbgrader_config.py.")
        return Path(site)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        prefix = self._box.prefix() if self._box else []
        if not self.settings.enabled:
            return prefix + command
        check_available()
        return prefix + bwrap_argv(self._site, disk_bytes=self.settings.disk_limit, writable=[self._run_dir],
                                   inputs=self._scratch) + command

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        await super()._async_launch_kernel(kernel_cmd, **kw)
        self._process = getattr(self.provisioner, "process", None)
        if self._process is not None:
            RUNNING.add(self._process)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        RUNNING.discard(getattr(self, "_process", None))
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._close_box()
            shutil.rmtree(self._run_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources

    def _close_box(self) -> None:
        """The limits the kernel reached; also what it wrote outside its /tmp (only its
        socket folder is writable there, and each file is capped by RLIMIT_FSIZE)."""
        if self._box is None:
            return
        self._box.close()
        written = _bytes_in(self._run_dir, skip={"site"})
        if written > self.settings.disk_limit:
            limits.EVENTS.append(limits.LimitEvent(
                "notebook run", "disk", f"{self._box.limits.named('disk')} reached: "
                f"{limits.describe_bytes(written)} written into the kernel's socket folder"))
        self._box = None


_IPC_PATH_LIMIT = 100  # a Unix socket's path holds 108 bytes; ZMQ names the kernel's sockets <ip>-<port>


def _kernel_run_dir() -> Path:
    """The kernel's run folder, in the current temporary folder (grading's run folder, which
    is removed even after a killed worker) unless that would make the ZMQ socket paths too
    long (a Dask worker's local directory can be deep): then in the system's /tmp."""
    folder = Path(tempfile.mkdtemp(prefix="tito-k"))
    if len(str(folder / "k-65535")) <= _IPC_PATH_LIMIT:
        return folder
    folder.rmdir()
    return Path(tempfile.mkdtemp(prefix="tito-k", dir="/tmp"))


def _bytes_in(folder: Path, skip: set[str]) -> int:
    total = 0
    for path in folder.rglob("*"):
        if path.relative_to(folder).parts[0] in skip:
            continue
        with contextlib.suppress(OSError):
            info = path.lstat()
            total += info.st_blocks * 512
    return total
