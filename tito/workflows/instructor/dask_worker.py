"""The Dask side of a grading run: what each Dask worker keeps between tasks."""

from __future__ import annotations

import os
import shutil
import tempfile

from distributed.diagnostics.plugin import WorkerPlugin

from tito.grading.setup import release_run_folder, use_run_folder
from tito.sandbox import zygote


class GradingWorker(WorkerPlugin):
    """Like a local worker process, each Dask worker keeps one run folder (in its local
    directory, which Dask clears even after a killed worker) and one kernel zygote for as
    long as it runs, instead of one per task."""

    def setup(self, worker) -> None:
        self.folder = tempfile.mkdtemp(prefix="tito-run-", dir=worker.local_directory)
        os.chmod(self.folder, 0o700)
        use_run_folder(self.folder)
        zygote.FORK_KERNELS = True

    def teardown(self, worker) -> None:
        zygote.FORK_KERNELS = False
        zygote.close_all()
        release_run_folder()
        shutil.rmtree(self.folder, ignore_errors=True)
