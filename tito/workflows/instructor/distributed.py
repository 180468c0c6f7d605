"""Where grading work runs: this process, local worker processes, or a Dask cluster.

Each task is a pure function of plain data (`tito.grading.engine.grade_or_flag(setup, submission)` or
`tito.grading.feedback.render(...)`); results come back to the caller, who alone writes the course
folder and the gradebook. A local worker that dies takes its task back to the queue once;
on Dask, the scheduler reschedules the tasks of a dead worker itself.
"""

from __future__ import annotations

import contextlib
import ipaddress
import multiprocessing
import multiprocessing.util
import os
import ssl
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tito.errors import TitoError
from tito.grading.setup import run_folder, use_run_folder
from tito.sandbox import zygote

if TYPE_CHECKING:
    from distributed.security import Security

_PLUGIN = "tito-grading-worker"
PARALLEL_THRESHOLD = 4  # batches at least this large use several local processes
LOCAL_RETRIES = 1


def run(function: Callable, shared: Any, items: list, *, jobs: int = 1, scheduler: str | Cluster | None = None,
        key: Callable[[Any], str] = str) -> Iterator[tuple[Any, Any]]:
    """Yield (item, function(shared, item)) for every item, in completion order."""
    if scheduler:  # each Dask worker keeps one run folder in its local directory for the run (GradingWorker)
        yield from _dask(function, shared, items, scheduler, key)
        return
    parallel = jobs > 1 and len(items) >= PARALLEL_THRESHOLD
    if parallel:  # multiprocessing's own folder (the forkserver's socket) must outlive the run folder
        multiprocessing.util.get_temp_dir()
    with run_folder() as folder:  # removed at the end, even after a killed worker or Ctrl-C
        if parallel:
            yield from _processes(function, shared, items, jobs, folder)
        else:
            zygote.FORK_KERNELS = len(items) > 1
            try:
                for item in items:
                    yield item, function(shared, item)
            finally:
                zygote.FORK_KERNELS = False


def _processes(function: Callable, shared: Any, items: list, jobs: int, folder: Path) -> Iterator[tuple[Any, Any]]:
    pending, attempts = list(items), {id(item): 0 for item in items}
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that has already imported the grading stack (~2 s a process).
    context.set_forkserver_preload(["tito.grading.engine", "tito.grading.feedback", "nbgrader.converters",
                                    "nbconvert.exporters"])
    while pending:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=start_worker,
                                 initargs=(str(folder), jobs < _cores())) as pool:
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


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def start_worker(folder: str, cores_to_spare: bool) -> None:
    """Initializer of a local worker process: the coordinator's run folder; and the clean
    room beside the notebook run only when the workers leave cores idle (when they fill
    every core, running it beside the kernel only makes the two compete)."""
    from tito.grading import cleanroom

    use_run_folder(folder)
    cleanroom.ALONGSIDE = cores_to_spare
    zygote.FORK_KERNELS = True  # each worker grades many submissions: its kernels fork from one zygote


# -- Dask: mutual TLS, or an open scheduler only on this machine or when asked for ------------------
TLS_CONFIG = {"ca_file": ("--tls-ca-file", "DASK_DISTRIBUTED__COMM__TLS__CA_FILE"),
              "cert": ("--tls-cert", "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT"),
              "key": ("--tls-key", "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY")}


@dataclass(frozen=True)
class Cluster:
    """A Dask scheduler to grade on, and this client's certificates. Files not given here
    come from Dask's configuration (distributed.comm.tls.ca-file, .client.cert, .client.key)."""

    address: str
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    insecure: bool = False  # --insecure-cluster: a plain tcp:// scheduler on another host is allowed

    @property
    def is_open(self) -> bool:
        """True for a plain tcp:// scheduler (no authentication, no encryption)."""
        return _parse(self.address)[0] == "tcp"


def _parse(address: str) -> tuple[str, str]:
    """(scheme, host) of a Dask address, by Dask's own parser (no scheme means tcp://)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        return scheme, parse_host_port(location)[0] if scheme in ("tcp", "tls") else location
    except ValueError as error:
        raise TitoError(f"Not a Dask scheduler address: {address!r} ({error}).",
                        "Give it as tls://HOST:PORT, e.g. --scheduler tls://scheduler.example.org:8786.") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: never resolved here, so never taken for this machine
        return False


def check_address(cluster: Cluster) -> None:
    """Refuse, without connecting, an address that would grade on an open cluster by accident."""
    scheme, host = _parse(cluster.address)
    if scheme not in ("tls", "tcp"):
        raise TitoError(f"tito grades on a Dask scheduler at a tls:// address, not {scheme}://.",
                        "Start the scheduler and workers with --tls-ca-file/--tls-cert/--tls-key and give "
                        "--scheduler tls://HOST:PORT.")
    given = [option for option, value in (("--tls-ca-file", cluster.tls_ca_file), ("--tls-cert", cluster.tls_cert),
                                          ("--tls-key", cluster.tls_key)) if value]
    if scheme == "tcp" and given:
        raise TitoError(f"{', '.join(given)} given, but {cluster.address} is a plain tcp:// address.",
                        "Give the scheduler's tls:// address.")
    if scheme == "tcp" and not cluster.insecure and not _is_loopback(host):
        raise TitoError(f"Refusing the open Dask scheduler {cluster.address}: tcp:// has no authentication, so "
                        "anyone who can reach it can read the hidden tests and run code on this host.",
                        "Use mutual TLS: start the scheduler and workers with --tls-ca-file/--tls-cert/--tls-key, "
                        "then give --scheduler tls://HOST:PORT with this client's certificate (see the README, "
                        "'Grading a large course'). To grade on an open cluster anyway: --insecure-cluster.")


def security(cluster: Cluster) -> Security | None:
    """The client's `distributed.Security` for a tls:// scheduler (None for tcp://), with its
    certificates loaded: a missing or unreadable file is an error here, before any client."""
    from distributed.security import Security

    if cluster.is_open:
        return None
    given = {field: value for field, value in (("tls_ca_file", cluster.tls_ca_file),
                                               ("tls_client_cert", cluster.tls_cert),
                                               ("tls_client_key", cluster.tls_key)) if value}
    loaded = Security(require_encryption=True, **given)  # what is not given comes from Dask's configuration
    files = {"ca_file": loaded.tls_ca_file, "cert": loaded.tls_client_cert, "key": loaded.tls_client_key}
    _check_configured(cluster.address, files)
    for name, value in files.items():
        if value and not _is_pem_text(value) and not os.path.isfile(value):
            option, variable = TLS_CONFIG[name]
            raise TitoError(f"The TLS {_WHAT[name]} {value} does not exist (from {option} or {variable}).",
                            "Give the path of the PEM file (see the README, 'Grading a large course').")
    try:
        ca = files["ca_file"]
        ssl.create_default_context(**({"cadata": ca} if _is_pem_text(ca) else {"cafile": ca}))
    except (ssl.SSLError, OSError, ValueError) as error:
        raise TitoError(f"The TLS CA file {files['ca_file']} cannot be loaded: {error}.",
                        "Give the cluster's CA certificate, in PEM format.") from None
    try:
        loaded.get_connection_args("client")  # builds the SSL context exactly as the client will
    except (ssl.SSLError, OSError, ValueError) as error:
        raise TitoError(f"This client's TLS certificate {files['cert']} (key: {files['key'] or 'in the same file'}) "
                        f"cannot be loaded: {error}.",
                        "Give a PEM certificate signed by the cluster's CA (--tls-cert) and its own private key "
                        "(--tls-key).") from None
    return loaded


_WHAT = {"ca_file": "CA file", "cert": "certificate", "key": "key"}


def _is_pem_text(value: str) -> bool:
    return "\n" in value  # Dask also takes the PEM itself in place of a path


def _check_configured(address: str, files: dict[str, str | None]) -> None:
    missing = [name for name in ("ca_file", "cert") if not files[name]]
    if missing:
        names = "; ".join(f"{TLS_CONFIG[name][0]} or {TLS_CONFIG[name][1]}" for name in missing)
        raise TitoError(f"{address} needs mutual TLS, but no TLS {' and no '.join(_WHAT[n] for n in missing)} "
                        "is configured for this client.",
                        f"Give {names}; and the key with --tls-key or {TLS_CONFIG['key'][1]} unless it is in the "
                        "certificate file (or set distributed.comm.tls.ca-file, .client.cert and .client.key in "
                        "Dask's configuration file).")


def _dask(function: Callable, shared: Any, items: list, scheduler: str | Cluster, key: Callable
          ) -> Iterator[tuple[Any, Any]]:
    cluster = scheduler if isinstance(scheduler, Cluster) else Cluster(scheduler)
    try:
        from distributed import Client, as_completed

        from tito.workflows.instructor.dask_worker import GradingWorker
    except ImportError as error:
        raise TitoError("Grading on a Dask cluster needs the `distributed` package.",
                        'Install it with `pip install -e ".[cluster]"`.') from error
    check_address(cluster)
    client_security = security(cluster)
    try:
        client = Client(cluster.address, timeout="20s", security=client_security)
    except (OSError, TimeoutError) as error:
        certificates = " and that its certificates are signed by the same CA as yours" if client_security else ""
        raise TitoError(f"Cannot reach the Dask scheduler at {cluster.address}: {error}",
                        "Start it with `dask scheduler` and workers with `dask worker ADDRESS` (see the README), "
                        f"or check the address{certificates}.") from error
    run_id = uuid.uuid4().hex[:8]
    with client:
        client.register_plugin(GradingWorker(), name=_PLUGIN)  # (before any task)
        try:
            handle = client.scatter(shared, broadcast=True)
            futures = {client.submit(function, handle, item, key=f"tito-{run_id}-{key(item)}", retries=2): item
                       for item in items}
            for future in as_completed(futures):
                item = futures[future]
                yield item, future.result()
        finally:
            with contextlib.suppress(Exception):  # a cluster gone meanwhile: its workers are gone too
                client.unregister_worker_plugin(_PLUGIN)  # each worker stops its zygote, removes its folder
