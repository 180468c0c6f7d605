"""Kernels forked from one worker's zygote (tito.sandbox.zygote): two students graded one
after the other by the same zygote. The first leaves what it can (files, a daemon,
signal handlers, interpreter state) and the second must see none of it; the second
cannot ptrace or read the memory of any process it can see. Each test also checks, in
the first student's own kernel, that what it left was really there."""

from __future__ import annotations

import asyncio
import json
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tito.sandbox import zygote
from tito.sandbox.kernel import SandboxedKernelManager


@pytest.fixture
def forked(tmp_path, monkeypatch):
    """Run code in a kernel forked from this process's zygote; {name: printed JSON}."""
    site = tmp_path / "site"
    (site / "tinytorch").mkdir(parents=True)
    monkeypatch.setattr(zygote, "FORK_KERNELS", True)
    managers = []

    def run(code: str) -> dict:
        async def go():
            manager = SandboxedKernelManager(kernel_name="python3")
            manager.settings.site, manager.settings.enabled = str(site), True
            await manager.start_kernel()
            managers.append(manager)
            client = manager.client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)
            printed = []

            def keep(message):
                if message["msg_type"] == "stream":
                    printed.append(message["content"]["text"])

            await client.execute_interactive(textwrap.dedent(code), timeout=60, output_hook=keep)
            client.stop_channels()
            await manager.shutdown_kernel(now=True)
            return "".join(printed)
        text = asyncio.run(go())
        return json.loads(text.strip().splitlines()[-1])

    run.managers = managers
    yield run
    assert all(manager._zygote is not None for manager in managers), "every kernel was forked from the zygote"
    assert len({id(manager._zygote) for manager in managers}) <= 1, "one zygote for both students"
    zygote.close_all()


LEAVE_FILES = '''
    import json, os
    written = {}
    for path in ["/tmp/left.txt", os.path.expanduser("~/left.txt"), os.path.join(os.getcwd(), "left.txt"),
                 "/dev/shm/left.txt", "/run/tito/left.txt", "/left.txt", "/dev/left.txt"]:
        try:
            with open(path, "w") as file:
                file.write("the first student's answers")
            written[path] = True
        except OSError:
            written[path] = False
    print(json.dumps(written))
'''

LOOK_FOR_FILES = '''
    import json, os
    paths = ["/tmp/left.txt", os.path.expanduser("~/left.txt"), os.path.join(os.getcwd(), "left.txt"),
             "/dev/shm/left.txt", "/run/tito/left.txt", "/left.txt", "/dev/left.txt"]
    print(json.dumps({path: os.path.exists(path) for path in paths}))
'''


def test_files_left_by_one_student_are_not_seen_by_the_next(forked):
    written = forked(LEAVE_FILES)
    assert [path for path, done in written.items() if done] == [
        "/tmp/left.txt", "/tmp/home/left.txt", "/tmp/work/left.txt", "/dev/shm/left.txt", "/run/tito/left.txt"], \
        "the first student writes its /tmp, HOME, working folder, /dev/shm and socket folder; / and /dev are read-only"
    seen = forked(LOOK_FOR_FILES)
    assert not any(seen.values()), seen


def _processes_with(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    return found


# (pgrep would not know itself: its /proc is the sandbox's, its PID its own namespace's)
_IN_VIEW = '''
import json, os
def _cmdline(pid):
    try:
        with open(f"/proc/{{pid}}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""
print(json.dumps({{"running": any(b"{marker}" in _cmdline(p) for p in os.listdir("/proc") if p.isdigit())}}))
'''


def test_a_daemon_left_by_one_student_is_gone_before_the_next(forked):
    marker = f"tito-zygote-daemon-{uuid.uuid4().hex[:8]}"
    started = forked(textwrap.dedent(f'''
        import json, subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "{marker}"], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    ''') + _IN_VIEW.format(marker=marker))
    assert started["running"], "the daemon ran while its student's kernel did"
    deadline = time.monotonic() + 20
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _processes_with(marker), "the daemon outlived its kernel"
    seen = forked(_IN_VIEW.format(marker=marker))
    assert not seen["running"]


PROBE_OTHERS = '''
    import ctypes, json, os
    libc = ctypes.CDLL(None, use_errno=True)
    PTRACE_ATTACH, PTRACE_DETACH = 16, 17
    own = {os.getpid(), os.getppid()}
    result = {"own_mem": False, "others": [], "read": [], "traced": []}
    try:
        with open("/proc/self/mem", "rb"):
            result["own_mem"] = True
    except OSError:
        pass
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in own or name == os.readlink("/proc/self"):
            continue
        pid = int(name)
        result["others"].append(pid)
        try:
            with open(f"/proc/{pid}/mem", "rb") as memory:
                memory.read(1)
            result["read"].append(pid)
        except OSError:
            pass
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                environ.read()
            result["read"].append(pid)
        except OSError:
            pass
        if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
            result["traced"].append(pid)
            libc.ptrace(PTRACE_DETACH, pid, None, None)
    print(json.dumps(result))
'''


def test_no_process_in_view_can_be_traced_or_read(forked):
    """The zygote, and this kernel's own init and intermediate, are in view in /proc (the
    sandbox's); none can be ptraced or have its memory or environment read."""
    forked("import json; print(json.dumps({}))")  # a first student before it
    found = forked(PROBE_OTHERS)
    assert found["own_mem"], "the probe can read memory where it is allowed to"
    assert found["others"], "other processes are in view (the zygote at least)"
    assert found["read"] == [] and found["traced"] == [], found


LEAVE_STATE = '''
    import builtins, json, os, random, signal, sys
    import numpy
    signal.signal(signal.SIGTERM, lambda *args: None)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    numpy.planted = "answers"
    builtins.planted = "answers"
    sys.modules["planted_module"] = sys
    os.environ["PLANTED"] = "answers"
    sys.path.insert(0, "/tmp/planted")
    print(json.dumps({"numpy": numpy.random.random(), "python": random.random()}))
'''

LOOK_FOR_STATE = '''
    import builtins, json, os, random, signal, sys
    import numpy
    print(json.dumps({
        "handlers": [signal.getsignal(s) == signal.SIG_DFL for s in (signal.SIGTERM, signal.SIGUSR1)],
        "planted": [hasattr(numpy, "planted"), hasattr(builtins, "planted"), "planted_module" in sys.modules,
                    "PLANTED" in os.environ, "/tmp/planted" in sys.path],
        "numpy": numpy.random.random(), "python": random.random()}))
'''


def test_signal_handlers_and_interpreter_state_do_not_reach_the_next_student(forked):
    first = forked(LEAVE_STATE)
    second = forked(LOOK_FOR_STATE)
    assert second["handlers"] == [True, True], "SIGTERM and SIGUSR1 have their default handlers again"
    assert second["planted"] == [False] * 5, second
    assert (second["numpy"], second["python"]) != (first["numpy"], first["python"]), \
        "each kernel draws its own random numbers (the zygote's generator state is reseeded)"


def test_a_zygote_that_cannot_fork_falls_back_to_a_kernel_of_its_own(forked, monkeypatch):
    def refuse(*args, **kwargs):
        raise zygote.ZygoteFailed("refused for the test")

    monkeypatch.setattr(zygote.Zygote, "spawn", refuse)
    assert forked("import json; print(json.dumps({'ran': True}))") == {"ran": True}
    assert forked.managers[-1]._zygote is None, "launched by bwrap as without a zygote"
    forked.managers.clear()


def test_the_zygote_folder_is_removed(tmp_path):
    site = tmp_path / "site"
    (site / "tinytorch").mkdir(parents=True)
    from tito.sandbox import limits

    made = zygote.Zygote(site, limits.Limits())
    folder = made.folder
    assert made.alive() and Path(folder).is_dir()
    made.close()
    assert not made.alive() and not Path(folder).exists()
