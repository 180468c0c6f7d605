"""The sandboxed Jupyter kernel: an ipykernel started inside bwrap, with its resource limits.

Kernels talk to the grader over ZMQ `ipc` sockets in a bind-mounted run folder (the
sandbox's network namespace has its own loopback), and `JPY_PARENT_PID` is not passed in
(ipykernel's parent poller would otherwise see PID 1 as its parent and exit).

A kernel can also be started ahead (`start_warm`): the same sandbox, limits and command,
only launched earlier, while the grader is still importing and preparing; the next
notebook run on the same site, settings and (no) data files takes it over instead of
launching its own (its command must be the very one it would have launched). Student code
never ran in it before; one not taken is killed (`discard_warm`).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async
from traitlets import default

from tito.coursedir import intake
from tito.errors import TitoError
from tito.sandbox import limits, zygote
from tito.sandbox.bwrap import RUNNING, TinyTorchSandbox, bwrap_argv, check_available, environment, launcher_environment

_IOPUB_STEP = 0.05  # seconds to wait for IOPub's first message before asking again


class SandboxedKernelClient(AsyncKernelClient):
    """jupyter_client's client, waiting for a new kernel in short steps: its
    wait_for_ready waits 0.2 s for IOPub after the first kernel_info reply and then 0.2 s
    more to flush it, 0.2-0.4 s a kernel. Here it asks again every 0.05 s until both
    channels answer, then drains only what has already arrived (nbclient keeps only the
    messages of its own requests)."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await ensure_async(self.iopub_channel.get_msg(timeout=_IOPUB_STEP))
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
        while True:
            try:
                await ensure_async(self.iopub_channel.get_msg(timeout=0.01))
            except Empty:
                break

    wait_for_ready = _async_wait_for_ready


class SandboxedKernelManager(AsyncKernelManager):
    """An ipykernel inside the sandbox, with its resource limits. nbgrader's Execute (through
    tito's SandboxedExecute) and tito's own grading start kernels with it."""

    site_dir: Path | None = None  # the site, when the settings name none (set by SandboxedExecute)

    @default("client_factory")
    def _client_factory_default(self) -> type:
        return SandboxedKernelClient

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.settings = TinyTorchSandbox(parent=self)
        self._run_dir = _kernel_run_dir()
        self._scratch = self._run_dir / "work"  # the files beside the notebook, shown read-only inside
        (self._scratch / "home").mkdir(parents=True)  # HOME of an unsandboxed kernel
        self._site: Path | None = None
        self._box: limits.Box | None = None
        self._warm: _Warm | None = None  # the kernel started ahead that this manager takes over
        self._started_ahead = False  # this manager launches a kernel ahead: not yet in RUNNING
        self._zygote: zygote.Zygote | None = None  # the zygote this manager's kernel is forked from
        self._zygote_gone = False  # its zygote failed and was stopped: its folder goes with this run folder
        if self.settings.enabled:
            self.transport = "ipc"
            self.ip = str(self._run_dir / "k")
            self.connection_file = str(self._run_dir / "kernel.json")

    async def _async_pre_start_kernel(self, **kwargs):
        cwd = kwargs.pop("cwd", None)
        files = self._data_files(Path(cwd)) if cwd else {}
        self._site = self._resolve_site()
        warm = None if files else _take_warm(self, kwargs.get("extra_arguments") or [])
        if warm is not None:
            self._take_over(warm)
        elif self.settings.enabled:
            self._fork_from(zygote.for_site(self._site, self.settings.limits()))
        for name, data in files.items():
            (self._scratch / name).write_bytes(data)
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

    def _data_files(self, folder: Path) -> dict[str, bytes]:
        """Files that sit beside the notebook (data an assignment ships), not notebooks:
        only what the intake (tito.course.intake) accepts (regular files under the caps, never a link), and
        under nbgrader's own CLI, whose Autograde copied submitted/ into autograded/
        following links, nothing the intake refused in the student's submitted folder."""
        limits = intake.SubmissionIntake(parent=self).limits()
        found = intake.read_submission(folder, "", limits)
        refused = intake.refused_in_submitted(self.config, folder, limits)
        return {name: data for name, data in found.files.items() if name not in refused}

    def _take_over(self, warm: _Warm) -> None:
        """Use the run folder, limits and connection of the kernel started ahead, so that
        the command this manager builds is the one that kernel was launched with."""
        shutil.rmtree(self._run_dir, ignore_errors=True)  # this manager's own, still empty
        ahead = warm.manager
        self._run_dir, self._scratch, self._box, ahead._box = ahead._run_dir, ahead._scratch, ahead._box, None
        self.ip, self.connection_file = ahead.ip, ahead.connection_file
        self.load_connection_info(ahead.get_connection_info())
        self._connection_file_written = True  # the file the kernel read: never rewritten
        self._warm = warm

    def _fork_from(self, found: zygote.Zygote | None) -> None:
        """Move this manager's run folder into `found`'s, where the forked kernel sees it."""
        if found is None:
            return
        folder = found.child_folder()  # (its socket paths fit: see Zygote.folder)
        shutil.rmtree(self._run_dir, ignore_errors=True)  # this manager's own, still empty
        self._run_dir, self._scratch, self._zygote = folder, folder / "work", found
        self.ip, self.connection_file = str(folder / "k"), str(folder / "host.json")

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
        warm, self._warm = self._warm, None
        if warm is not None and kernel_cmd == warm.command and kw == warm.options:
            process = warm.manager.provisioner.process
            self.provisioner.process, self.provisioner.pid = process, process.pid
            with contextlib.suppress(OSError):
                self.provisioner.pgid = os.getpgid(process.pid)
            self.provisioner.cwd = kw.get("cwd")
            self._reconcile_connection_info(self.provisioner.connection_info)
        elif self._zygote is not None and self._fork(kernel_cmd):
            pass
        else:
            if warm is not None:  # not the command it was launched with (never expected): not used
                warm.kill(remove_folder=False)  # the folder is this manager's now
            await super()._async_launch_kernel(kernel_cmd, **kw)
        self._process = getattr(self.provisioner, "process", None)
        if self._process is not None and not self._started_ahead:
            RUNNING.add(self._process)

    def _fork(self, kernel_cmd: list[str]) -> bool:
        """Fork the kernel from the zygote: the arguments after the connection file are the
        kernel's own. False (and this manager launches its own) if the zygote failed."""
        launcher = kernel_cmd.index("ipykernel_launcher") if "ipykernel_launcher" in kernel_cmd else -1
        if launcher < 0 or kernel_cmd[launcher + 1:launcher + 2] != ["-f"]:
            return False
        arguments = kernel_cmd[launcher + 3:]
        inputs = sorted(path.name for path in self._scratch.iterdir() if path.is_file())
        try:
            process = self._zygote.spawn(self._run_dir, self.get_connection_info(), arguments, self._box, inputs)
        except zygote.ZygoteFailed as problem:
            self.log.warning("%s Launching kernels one by one instead.", problem)
            zygote.give_up(self._zygote, keep=self._run_dir)
            self._zygote, self._zygote_gone = None, True
            return False
        self.provisioner.process, self.provisioner.pid, self.provisioner.pgid = process, process.pid, None
        self._reconcile_connection_info(self.provisioner.connection_info)
        return True

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        RUNNING.discard(getattr(self, "_process", None))
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._close_box()
            shutil.rmtree(self._run_dir, ignore_errors=True)
            if self._zygote_gone:
                with contextlib.suppress(OSError):
                    self._run_dir.parent.rmdir()

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




def _kernel_run_dir() -> Path:
    """The kernel's run folder (ZMQ names its sockets k-<port> there)."""
    return zygote.socket_folder("tito-k", "k-65535")


def _bytes_in(folder: Path, skip: set[str]) -> int:
    total = 0
    for path in folder.rglob("*"):
        if path.relative_to(folder).parts[0] in skip:
            continue
        with contextlib.suppress(OSError):
            info = path.lstat()
            total += info.st_blocks * 512
    return total


# -- a kernel started ahead ---------------------------------------------------------------------------
@dataclass
class _Warm:
    manager: SandboxedKernelManager
    command: list[str]
    options: dict
    extra_arguments: list[str]

    def matches(self, manager: SandboxedKernelManager, extra_arguments: list[str]) -> bool:
        ahead = self.manager
        return (manager.settings.enabled and ahead._site == manager._site and ahead.kernel_name == manager.kernel_name
                and ahead.settings.limits() == manager.settings.limits() and extra_arguments == self.extra_arguments
                and ahead.provisioner.process.poll() is None)

    def kill(self, remove_folder: bool = True) -> None:
        """Kill the kernel (bwrap's PID namespace takes its tree down) and remove its folder."""
        process = self.manager.provisioner.process
        with contextlib.suppress(OSError):
            process.kill()
        process.wait()
        self.manager._close_box()
        if remove_folder:
            shutil.rmtree(self.manager._run_dir, ignore_errors=True)


_WARM: list[_Warm] = []
_WARM_LOCK = threading.Lock()
# The kernel arguments of a notebook run (nbgrader_config.py's c.Execute.extra_arguments): no
# history file, no start-up log lines. Configured otherwise, no kernel started ahead matches,
# and each run launches its own.
GRADING_ARGUMENTS = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]


def start_warm(site: Path, kernel_name: str) -> None:
    """Launch a sandboxed kernel on `site` now (default limits), for this process's next
    notebook run with the same site, settings and no data files; it boots while the
    caller goes on (imports, setup). Call `discard_warm()` when done grading."""
    from jupyter_core.utils import run_sync

    manager = SandboxedKernelManager(kernel_name=kernel_name)
    manager.settings.site, manager.settings.enabled = str(site), True
    manager._started_ahead = True

    async def launch() -> _Warm:
        command, options = await manager._async_pre_start_kernel(extra_arguments=list(GRADING_ARGUMENTS))
        warm = _Warm(manager, list(command), copy.deepcopy(options), list(GRADING_ARGUMENTS))
        await manager._async_launch_kernel(command, **options)  # (jupyter_client adds to options["env"])
        return warm

    with _environment(AUTOGRADE_ENVIRONMENT):
        warm = run_sync(launch)()
    with _WARM_LOCK:
        _WARM.append(warm)


AUTOGRADE_ENVIRONMENT = {"NBGRADER_EXECUTION": "autograde"}  # what nbgrader's Autograde sets while it runs


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _take_warm(manager: SandboxedKernelManager, extra_arguments: list[str]) -> _Warm | None:
    with _WARM_LOCK:
        for warm in _WARM:
            if warm.matches(manager, extra_arguments):
                _WARM.remove(warm)
                return warm
    return None


def started_ahead() -> bool:
    """Whether a kernel started ahead waits for its notebook run."""
    with _WARM_LOCK:
        return bool(_WARM)


def discard_warm() -> None:
    """Kill the kernels started ahead that no notebook run took."""
    with _WARM_LOCK:
        left = list(_WARM)
        _WARM.clear()
    for warm in left:
        warm.kill()
