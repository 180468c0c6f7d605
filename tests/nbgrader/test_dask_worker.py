"""The Dask worker plugin: each Dask worker keeps one run folder and forks its kernels
from one zygote for the whole run, and gives both up when the run ends."""

from __future__ import annotations

import os

import pytest


def _worker_state():
    import tempfile

    from tito.sandbox import zygote

    return {"forks": zygote.FORK_KERNELS, "folder": tempfile.gettempdir(), "pid": os.getpid()}


def _forked_kernel_runs() -> bool:
    """Start and stop one sandboxed kernel on this worker: whether it came from the zygote."""
    import asyncio
    import tempfile
    from pathlib import Path

    from tito.sandbox.kernel import SandboxedKernelManager

    site = Path(tempfile.mkdtemp(prefix="site-"))
    (site / "tinytorch").mkdir()

    async def run() -> bool:
        manager = SandboxedKernelManager(kernel_name="python3")
        manager.settings.site, manager.settings.enabled = str(site), True
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        client.stop_channels()
        forked = manager._zygote is not None
        await manager.shutdown_kernel(now=True)
        return forked

    return asyncio.run(run())


def test_each_dask_worker_keeps_a_run_folder_and_forks_kernels_for_the_run():
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from tito.workflows.instructor.dask_worker import GradingWorker

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        before = client.submit(_worker_state, pure=False).result()
        assert not before["forks"], "a plain Dask worker launches kernels one by one"
        client.register_plugin(GradingWorker(), name="tito-test")
        during = [client.submit(_worker_state, pure=False).result() for _ in range(2)]
        assert all(state["forks"] for state in during)
        assert during[0]["folder"] == during[1]["folder"], "one run folder for every task of the worker"
        assert os.path.basename(during[0]["folder"]).startswith("tito-run-") and os.path.isdir(during[0]["folder"])
        assert client.submit(_forked_kernel_runs, pure=False).result(), "its kernels fork from its zygote"
        client.unregister_worker_plugin("tito-test")
        after = client.submit(_worker_state, pure=False).result()
        assert not after["forks"] and after["folder"] != during[0]["folder"]
        assert not os.path.exists(during[0]["folder"]), "the worker removed its run folder"
