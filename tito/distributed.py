"""Where grading work runs: this process, local worker processes, or a Dask cluster.

Each task is a pure function of plain data (`tito.grading.grade(setup, submission)` or
`tito.feedback.render(...)`); results come back to the caller, who alone writes the course
folder and the gradebook. A local worker that dies takes its task back to the queue once;
on Dask, the scheduler reschedules the tasks of a dead worker itself.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from tito.errors import TitoError

PARALLEL_THRESHOLD = 4  # batches at least this large use several local processes
LOCAL_RETRIES = 1


def run(function: Callable, shared: Any, items: list, *, jobs: int = 1, scheduler: str | None = None,
        key: Callable[[Any], str] = str) -> Iterator[tuple[Any, Any]]:
    """Yield (item, function(shared, item)) for every item, in completion order."""
    if scheduler:  # each Dask task makes (and removes) its folders under its worker's local directory
        yield from _dask(function, shared, items, scheduler, key)
        return
    from tito.grading import run_folder

    parallel = jobs > 1 and len(items) >= PARALLEL_THRESHOLD
    if parallel:  # multiprocessing's own folder (the forkserver's socket) must outlive the run folder
        multiprocessing.util.get_temp_dir()
    with run_folder() as folder:  # removed at the end, even after a killed worker or Ctrl-C
        if parallel:
            yield from _processes(function, shared, items, jobs, folder)
        else:
            for item in items:
                yield item, function(shared, item)


def _processes(function: Callable, shared: Any, items: list, jobs: int, folder: Path) -> Iterator[tuple[Any, Any]]:
    from tito.grading import use_run_folder

    pending, attempts = list(items), {id(item): 0 for item in items}
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that has already imported the grading stack (~2 s a process).
    context.set_forkserver_preload(["tito.grading", "tito.feedback", "tito.preprocessors", "nbgrader.converters",
                                    "nbconvert.exporters"])
    while pending:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=use_run_folder,
                                 initargs=(str(folder),)) as pool:
            futures = {pool.submit(function, shared, item): item for item in pending}
            pending = []
            try:
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        item = futures.pop(future)
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            attempts[id(item)] += 1
                            if attempts[id(item)] > LOCAL_RETRIES:
                                raise TitoError("A grading worker process died twice on the same submission.",
                                                "Run again with --jobs 1 to see the error.") from None
                            pending.append(item)
                            continue
                        yield item, result
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


def _dask(function: Callable, shared: Any, items: list, scheduler: str, key: Callable) -> Iterator[tuple[Any, Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError as error:
        raise TitoError("Grading on a Dask cluster needs the `distributed` package.",
                        'Install it with `pip install -e ".[cluster]"`.') from error
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as error:
        raise TitoError(f"Cannot reach the Dask scheduler at {scheduler}: {error}",
                        "Start it with `dask scheduler` and workers with `dask worker ADDRESS`, "
                        "or check the address.") from error
    run_id = uuid.uuid4().hex[:8]
    with client:
        handle = client.scatter(shared, broadcast=True)
        futures = {client.submit(function, handle, item, key=f"tito-{run_id}-{key(item)}", retries=2): item
                   for item in items}
        for future in as_completed(futures):
            item = futures[future]
            yield item, future.result()
