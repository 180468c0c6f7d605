"""The sandbox: what student code can see and do, probed from inside it.

Each probe is a small program run exactly as student code is run (`tito.sandbox`), in a
throw-away copy of the repository. Planting an answer where the sandbox *can* see it makes
the same probe report it, so these tests can fail."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tito.grading.setup import site_spec_for
from tito.sandbox import bwrap as sandbox
from tito.sandbox.kernel import SandboxedKernelManager
from tito.sandbox.site import build_site

PROBE = textwrap.dedent('''
    import json, os, socket, sys
    root = sys.argv[1]
    found = {}
    def attempt(name, action):
        try:
            found[name] = repr(action())[:200]
        except BaseException as error:
            found[name] = None
    attempt("src", lambda: open(os.path.join(root, "src/03_layers/03_layers.py")).read(100))
    attempt("git", lambda: os.listdir(os.path.join(root, ".git")))
    attempt("course", lambda: os.listdir(os.path.join(root, "nbgrader")))
    attempt("tito_state", lambda: os.listdir(os.path.join(root, ".tito")))
    attempt("reference_file", lambda: open(os.path.join(root, "tinytorch/core/layers.py")).read(100))
    attempt("reference_import", lambda: __import__("tinytorch.core.layers", fromlist=["Linear"]).Linear)
    attempt("write_repo", lambda: open(os.path.join(root, "planted.txt"), "w").write("x"))
    attempt("write_python", lambda: open(os.path.join(sys.prefix, "planted.txt"), "w").write("x"))
    attempt("network", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
    attempt("loopback_host", lambda: socket.create_connection(("127.0.0.1", 22), timeout=2))
    attempt("secret_env", lambda: os.environ["TINYTORCH_GRADEBOOK_URL"])
    attempt("shadow", lambda: open("/etc/shadow").read(10))
    attempt("prerequisite", lambda: __import__("tinytorch.core.tensor", fromlist=["Tensor"]).Tensor)
    attempt("scratch_write", lambda: open("scratch.txt", "w").write("ok"))
    # uid 0 inside is the host's root to the kernel's file checks: a writable sysctl such as
    # kernel.core_pattern ("|/some/program") would run a program of its choosing outside.
    # Written back with its own value, so that a hole changes nothing on the machine.
    def rewrite(path):
        with open(path) as current:
            value = current.read()
        with open(path, "w") as same:
            return same.write(value)
    attempt("host_sysctl", lambda: rewrite("/proc/sys/vm/overcommit_memory"))
    def writable(paths):
        found = [path for path in paths if os.access(path, os.W_OK)]
        if not found:
            raise PermissionError("nothing writable")
        return found[:3]
    attempt("host_sysctl_any", lambda: writable(os.path.join(d, f) for d, _, fs in os.walk("/proc/sys") for f in fs))
    attempt("host_pressure", lambda: writable(["/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io",
                                               "/proc/mtrr", "/proc/sysrq-trigger"]))
    print(json.dumps(found))
''')


def probe(site: Path, root: Path, monkeypatch) -> dict:
    monkeypatch.setenv("TINYTORCH_GRADEBOOK_URL", "postgresql://grader:s3cret@db/course")
    result = sandbox.run(site, [sys.executable, "-c", PROBE, str(root)], timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def site_for(root: Path, tmp_path: Path, extra: dict | None = None) -> Path:
    spec = site_spec_for(root, "03_layers", include_completed=True)
    return build_site(spec, tmp_path / f"site-{uuid.uuid4().hex[:6]}", extra_files=extra)


@pytest.fixture
def course_repo(repo):
    for folder in ("nbgrader", ".tito", ".git"):
        (repo / folder).mkdir(exist_ok=True)
        (repo / folder / "secret.txt").write_text("the answers")
    return repo


def test_student_code_sees_no_answers_and_changes_nothing(course_repo, tmp_path, monkeypatch):
    found = probe(site_for(course_repo, tmp_path), course_repo, monkeypatch)
    blocked = ["src", "git", "course", "tito_state", "reference_file", "reference_import", "write_repo",
               "write_python", "network", "loopback_host", "secret_env", "shadow", "host_sysctl",
               "host_sysctl_any", "host_pressure"]
    assert {name: found[name] for name in blocked} == dict.fromkeys(blocked), found
    assert found["prerequisite"] and found["scratch_write"], "earlier modules and the scratch folder stay usable"
    assert not (course_repo / "planted.txt").exists()


def test_planting_the_reference_where_the_sandbox_sees_it_is_detected(course_repo, tmp_path, monkeypatch):
    reference = (course_repo / "tinytorch/core/layers.py").read_text()
    planted = site_for(course_repo, tmp_path, {"tinytorch/core/layers.py": reference})
    found = probe(planted, course_repo, monkeypatch)
    assert found["reference_import"], "the probe must notice a reference build in view"


def test_the_site_hides_the_graded_module_and_later_ones(repo, tmp_path):
    for slug, hidden, shown in [("01_tensor", {"tensor.py", "activations.py", "layers.py"}, set()),
                                ("03_layers", {"layers.py"}, {"tensor.py", "activations.py"})]:
        site = build_site(site_spec_for(repo, slug, include_completed=False), tmp_path / slug)
        present = {p.name for p in (site / "tinytorch/core").glob("*.py")}
        assert not hidden & present and shown <= present, (slug, present)


def test_students_own_earlier_builds_are_seen_but_never_the_graded_one(repo, tmp_path):
    completed = repo / "tinytorch/core/_completed"
    completed.mkdir()
    (completed / "tensor.py").write_text("MINE = 1\n")
    (completed / "layers.py").write_text("MINE = 3\n")
    site = build_site(site_spec_for(repo, "03_layers", include_completed=True), tmp_path / "s")
    assert (site / "tinytorch/core/_completed/tensor.py").is_file()
    assert not (site / "tinytorch/core/_completed/layers.py").exists()


def _start_daemon_in_kernel(site: Path, sandboxed: bool) -> str:
    """Start a kernel, have it start a detached process, shut the kernel down; returns the
    process's marker."""
    import asyncio

    marker = f"tito-daemon-{uuid.uuid4().hex}"

    async def run_kernel():
        manager = SandboxedKernelManager(kernel_name="python3")
        manager.settings.site, manager.settings.enabled = str(site), sandboxed
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        code = ("import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', "
                f"'{marker}'], start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, "
                "stderr=subprocess.DEVNULL)")
        await client.execute_interactive(code, timeout=60)
        deadline = time.monotonic() + 30
        while not _processes_with(marker) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert _processes_with(marker), "the daemon was started"
        client.stop_channels()
        await manager.shutdown_kernel(now=True)

    asyncio.run(run_kernel())
    return marker


def _gone(marker: str, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _processes_with(marker)


def test_processes_started_inside_die_with_the_kernel(tmp_path):
    (tmp_path / "site" / "tinytorch").mkdir(parents=True)
    assert _gone(_start_daemon_in_kernel(tmp_path / "site", sandboxed=True)), "a daemon outlived its kernel"


def test_without_the_sandbox_the_same_daemon_survives(tmp_path, monkeypatch):
    """The control: what the sandbox (and the process tree's cgroup) prevents really happens
    without them."""
    from tito.sandbox import limits

    monkeypatch.setattr(limits, "_hierarchy", lambda: "no cgroup for the control")
    (tmp_path / "site" / "tinytorch").mkdir(parents=True)
    marker = _start_daemon_in_kernel(tmp_path / "site", sandboxed=False)
    try:
        assert not _gone(marker, seconds=2), "unsandboxed, the detached process lives on"
    finally:
        subprocess.run(["pkill", "-f", marker])


def _processes_with(marker: str) -> list[str]:
    listing = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if marker in line and "ps -eww" not in line]


def test_a_missing_bwrap_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(sandbox, "BWRAP", "no-such-bwrap-program")
    sandbox.check_available.cache_clear()
    try:
        with pytest.raises(sandbox.SandboxUnavailable) as problem:
            sandbox.check_available()
    finally:
        sandbox.check_available.cache_clear()
    assert "bubblewrap" in problem.value.message and "apt-get install bubblewrap" in problem.value.hint
    assert "--no-sandbox" in problem.value.hint


# -- the grader's environment -------------------------------------------------------------------------
CANARY_URL = "postgresql://grader:canary-env-5e1f@db.example.org/course"
READ_ALL_ENVIRONS = ("import os\n"
                     "for pid in sorted(p for p in os.listdir('/proc') if p.isdigit()):\n"
                     "    try:\n"
                     "        print(pid, open(f'/proc/{pid}/environ', 'rb').read())\n"
                     "    except OSError as error:\n"
                     "        print(pid, error)\n")


def test_no_process_in_a_sandbox_holds_the_grader_environment(tmp_path, monkeypatch):
    """bwrap's own process is PID 1 inside, and /proc/1/environ is readable there."""
    monkeypatch.setenv("TINYTORCH_GRADEBOOK_URL", CANARY_URL)
    (tmp_path / "site").mkdir()
    result = sandbox.run(tmp_path / "site", [sys.executable, "-c", READ_ALL_ENVIRONS], timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 b'" in result.stdout and "PATH=" in result.stdout, result.stdout  # the environments were read
    assert "canary-env-5e1f" not in result.stdout, result.stdout


def test_no_process_in_a_kernel_sandbox_holds_the_grader_environment(tmp_path, monkeypatch):
    import asyncio

    monkeypatch.setenv("TINYTORCH_GRADEBOOK_URL", CANARY_URL)
    (tmp_path / "site" / "tinytorch").mkdir(parents=True)
    printed: list[str] = []

    async def run_kernel():
        manager = SandboxedKernelManager(kernel_name="python3")
        manager.settings.site = str(tmp_path / "site")
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            await client.execute_interactive(READ_ALL_ENVIRONS, timeout=60, output_hook=lambda message: printed.append(
                message["content"].get("text", "")))
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    asyncio.run(run_kernel())
    text = "".join(printed)
    assert "1 b'" in text and "PATH=" in text, text
    assert "canary-env-5e1f" not in text, text


def test_a_deep_temporary_folder_still_gives_short_kernel_socket_paths(tmp_path, monkeypatch):
    """A Dask worker's local directory can be deep; a Unix socket path holds 108 bytes, and
    a kernel whose sockets cannot be made leaves every student at 0."""
    import shutil
    import tempfile

    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    manager = SandboxedKernelManager(kernel_name="python3")
    try:
        assert len(f"{manager.ip}-65535") <= 100, manager.ip
    finally:
        shutil.rmtree(manager._run_dir)
