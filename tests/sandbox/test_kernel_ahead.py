"""A kernel started ahead (tito.sandbox.kernel.start_warm): the notebook run with the same
site, settings and no data files takes it over, and it is the very sandbox a kernel started
at that moment would have been; anything else starts its own kernel, and the one started
ahead is killed. The probes run inside the kernel, so a kernel outside the sandbox, or one
that was not taken over, makes them fail."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from jupyter_core.utils import run_sync

from tito.grading.setup import site_spec_for
from tito.sandbox import kernel
from tito.sandbox.kernel import SandboxedKernelManager
from tito.sandbox.site import build_site

INSIDE = ("import json, os\n"
          "print(json.dumps({'pid1': open('/proc/1/cmdline').read().split('\\0')[0], 'home': os.environ['HOME'],"
          " 'course': os.path.exists(ROOT), 'grading': os.environ.get('NBGRADER_EXECUTION'),"
          " 'data': sorted(os.listdir('.'))}))")


@pytest.fixture
def site(repo: Path, tmp_path: Path) -> Path:
    spec = site_spec_for(repo, "03_layers", include_completed=True)
    return build_site(spec, tmp_path / f"site-{uuid.uuid4().hex[:6]}")


@pytest.fixture(autouse=True)
def no_kernel_left():
    yield
    kernel.discard_warm()


def _manager(site: Path, **settings) -> SandboxedKernelManager:
    manager = SandboxedKernelManager(kernel_name="python3")
    manager.settings.site, manager.settings.enabled = str(site), True
    for name, value in settings.items():
        setattr(manager.settings, name, value)
    return manager


def _run_in_kernel(manager: SandboxedKernelManager, code: str, cwd: Path | None = None) -> tuple[int, dict]:
    """Start the kernel as nbgrader's Execute does, run `code`, return (kernel pid, its JSON)."""

    async def session() -> tuple[int, dict]:
        with kernel._environment(kernel.AUTOGRADE_ENVIRONMENT):
            await manager.start_kernel(extra_arguments=list(kernel.GRADING_ARGUMENTS),
                                       **({"cwd": str(cwd)} if cwd else {}))
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            printed = []
            reply = await client.execute_interactive(code, timeout=60, output_hook=lambda message: printed.append(
                message["content"].get("text", "")) if message["msg_type"] == "stream" else None)
            assert reply["content"]["status"] == "ok", reply["content"]
            return manager.provisioner.process.pid, json.loads("".join(printed))
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    return run_sync(session)()


def _started_ahead(site: Path) -> kernel._Warm:
    kernel.start_warm(site, "python3")
    assert len(kernel._WARM) == 1
    return kernel._WARM[0]


def test_the_next_notebook_run_takes_over_the_kernel_started_ahead(site, repo):
    ahead = _started_ahead(site)
    pid, inside = _run_in_kernel(_manager(site), f"ROOT = {str(repo)!r}\n" + INSIDE)
    assert pid == ahead.manager.provisioner.process.pid, "the notebook run started a kernel of its own"
    assert kernel._WARM == []
    assert inside["pid1"].endswith("bwrap") and inside["home"] == "/tmp/home"
    assert inside["course"] is False, "the kernel started ahead sees the course"
    assert inside["grading"] == "autograde"  # started with the environment nbgrader's Autograde sets


def test_different_limits_start_their_own_kernel_and_the_one_ahead_is_killed(site, repo):
    ahead = _started_ahead(site)
    pid, inside = _run_in_kernel(_manager(site, process_limit=512), f"ROOT = {str(repo)!r}\n" + INSIDE)
    assert pid != ahead.manager.provisioner.process.pid
    assert inside["pid1"].endswith("bwrap")
    assert ahead.manager.provisioner.process.poll() is None, "still waiting for a run that matches"
    kernel.discard_warm()
    assert ahead.manager.provisioner.process.poll() is not None
    assert not ahead.manager._run_dir.exists()


def test_a_run_with_data_files_starts_its_own_kernel_which_sees_them(site, repo, tmp_path):
    ahead = _started_ahead(site)
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "weights.csv").write_text("1,2,3\n")
    pid, inside = _run_in_kernel(_manager(site), f"ROOT = {str(repo)!r}\n" + INSIDE, cwd=folder)
    assert pid != ahead.manager.provisioner.process.pid
    assert inside["data"] == ["weights.csv"]


def test_a_kernel_started_ahead_that_died_is_not_taken(site, repo):
    ahead = _started_ahead(site)
    ahead.manager.provisioner.process.kill()
    ahead.manager.provisioner.process.wait()
    pid, inside = _run_in_kernel(_manager(site), f"ROOT = {str(repo)!r}\n" + INSIDE)
    assert pid != ahead.manager.provisioner.process.pid and inside["pid1"].endswith("bwrap")
    assert os.environ.get("NBGRADER_EXECUTION") is None, "the environment of this process was left changed"
