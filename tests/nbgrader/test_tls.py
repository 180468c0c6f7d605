"""Grading on a Dask cluster over mutual TLS, and no open scheduler by accident.

The test makes a CA and certificates with the openssl CLI (in tmp_path), starts a TLS
scheduler and two workers on 127.0.0.1, grades the batch of test_scale.py through them, and
checks that peers without a certificate of that CA are turned away. An open (tcp://)
scheduler on another host is refused before any client is made: those tests patch
`distributed.Client`, so no traffic leaves this machine even if the check were missing."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from course_batch import MODULE, TOTALS, course_env, generate, tito_process_env, write_submissions
from helpers import copy_repo, run_tito
from test_scale import STUDENTS, grades

from tito.errors import TitoError
from tito.workflows.instructor import distributed

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")]
pytest.importorskip("distributed")

DASK = str(Path(sys.executable).parent / "dask")
REFUSAL = "Refusing the open Dask scheduler"


# -- certificates and the cluster ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """test_scale.py's batch: the course generated, its six submissions written."""
    root = copy_repo(tmp_path_factory.mktemp("tls") / "repo")
    generate(root)
    write_submissions(root, STUDENTS)
    return root


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _signed(folder: Path, name: str, ca: str) -> None:
    """name.pem and name.key: a certificate signed by the CA `ca` (ca.pem, ca.key in folder)."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=tinytorch {name}", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", cwd=folder)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
             "-days", "2", "-out", f"{name}.pem", cwd=folder)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Path:
    """The README's commands: a cluster CA and a certificate for each party, plus a rogue CA
    (self-made, unknown to the cluster) and a certificate it signed."""
    folder = tmp_path_factory.mktemp("certificates")
    for ca in ("ca", "rogue-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=tinytorch {ca}",
                 "-keyout", f"{ca}.key", "-out", f"{ca}.pem", cwd=folder)
    for name in ("scheduler", "worker", "client"):
        _signed(folder, name, "ca")
    _signed(folder, "rogue", "rogue-ca")
    (folder / "garbage.pem").write_text("not a certificate\n")
    return folder


def _tls(certs: Path, name: str, ca: str = "ca") -> list[str]:
    return ["--tls-ca-file", str(certs / f"{ca}.pem"), "--tls-cert", str(certs / f"{name}.pem"),
            "--tls-key", str(certs / f"{name}.key")]


def _dask_env(course: Path, scratch: Path) -> dict:
    # workers import tito from the course copy; Dask's scratch space goes to tmp_path, not /tmp
    return course_env(course) | {"PYTHONPATH": str(course), "DASK_TEMPORARY_DIRECTORY": str(scratch)}


def _worker(address: str, tls: list[str], env: dict, cwd: Path, *more: str) -> subprocess.Popen:
    return subprocess.Popen([DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                             "--local-directory", str(cwd), *tls, *more], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """The process and all it started (its own session): SIGTERM, then SIGKILL."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _client(address: str, certs: Path):
    from distributed import Client
    from distributed.security import Security

    security = Security(tls_ca_file=str(certs / "ca.pem"), tls_client_cert=str(certs / "client.pem"),
                        tls_client_key=str(certs / "client.key"), require_encryption=True)
    return Client(address, security=security, timeout="60s")


@dataclass(frozen=True)
class TLSCluster:
    address: str
    log: Path  # the scheduler's log


@pytest.fixture(scope="module")
def tls_cluster(course, certificates, tmp_path_factory):
    """A scheduler and two workers that require mutual TLS, on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("cluster")
    env = _dask_env(course, folder)
    scheduler_file, log = folder / "scheduler.json", (folder / "scheduler.log").open("w")
    scheduler = subprocess.Popen([DASK, "scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(scheduler_file),
                                  *_tls(certificates, "scheduler")], env=env, cwd=folder,
                                 stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    workers: list[subprocess.Popen] = []
    try:
        deadline = time.monotonic() + 120
        while not scheduler_file.exists() and scheduler.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tls://127.0.0.1:"), address
        workers = [_worker(address, _tls(certificates, "worker"), env, folder) for _ in range(2)]
        with _client(address, certificates) as client:
            client.wait_for_workers(2, timeout=180)
        yield TLSCluster(address, Path(log.name))
    finally:
        for process in [*workers, scheduler]:
            _stop(process)
        log.close()


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


# -- errors before any grading ------------------------------------------------------------------------
def _snapshot(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (root / "nbgrader").rglob("*")}


BAD_CERTIFICATES = {
    "none configured": ([], "needs mutual TLS, but no TLS CA file and no certificate is configured"),
    "no client certificate": (["--tls-ca-file", "{certs}/ca.pem"], "no TLS certificate is configured"),
    "CA file missing": (["--tls-ca-file", "{certs}/absent.pem", "--tls-cert", "{certs}/client.pem", "--tls-key",
                         "{certs}/client.key"], "The TLS CA file {certs}/absent.pem does not exist"),
    "CA file garbage": (["--tls-ca-file", "{certs}/garbage.pem", "--tls-cert", "{certs}/client.pem", "--tls-key",
                         "{certs}/client.key"], "The TLS CA file {certs}/garbage.pem cannot be loaded"),
    "certificate garbage": (["--tls-ca-file", "{certs}/ca.pem", "--tls-cert", "{certs}/garbage.pem", "--tls-key",
                             "{certs}/client.key"], "certificate {certs}/garbage.pem (key: {certs}/client.key) "
                                                    "cannot be loaded"),
    "key of another certificate": (["--tls-ca-file", "{certs}/ca.pem", "--tls-cert", "{certs}/client.pem",
                                    "--tls-key", "{certs}/worker.key"], "KEY_VALUES_MISMATCH"),
    "TLS options on tcp://": (["--tls-ca-file", "{certs}/ca.pem", "--scheduler", "tcp://127.0.0.1:9"],
                              "is a plain tcp:// address"),
}


@pytest.mark.parametrize("case", list(BAD_CERTIFICATES))
def test_bad_certificates_are_clear_errors_before_any_grading(course, certificates, case, tmp_path):
    options, message = BAD_CERTIFICATES[case]
    options = [option.format(certs=certificates) for option in options]
    before = _snapshot(course)
    # port 9 (discard): nothing listens there, so an unchecked run would fail with "Cannot reach", not this
    result = run_tito(course, "nbgrader", "autograde", MODULE, "--scheduler", "tls://127.0.0.1:9", *options,
                      env=_dask_env(course, tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert message.format(certs=certificates) in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr and "Cannot reach" not in result.stderr
    assert _snapshot(course) == before, "nothing graded, nothing written"


# -- no open cluster by accident ------------------------------------------------------------------------
class ClientMade(Exception):
    pass


@pytest.fixture
def no_client(monkeypatch):
    """distributed.Client replaced by one that fails at once: no connection can be attempted."""
    import distributed as dask_distributed

    def refuse(*args, **kwargs):
        raise ClientMade(args)

    monkeypatch.setattr(dask_distributed, "Client", refuse)


@pytest.mark.parametrize("address", ["tcp://10.1.2.3:8786", "tcp://192.0.2.1:8786", "tcp://scheduler.example.org:8786",
                                     "scheduler.example.org:8786", "tcp://0.0.0.0:8786", "tcp://[2001:db8::1]:8786"])
def test_an_open_scheduler_on_another_host_is_refused_without_connecting(no_client, address):
    with pytest.raises(TitoError, match=REFUSAL) as refused:
        list(distributed.run(len, None, ["x"], scheduler=distributed.Cluster(address)))
    assert "--insecure-cluster" in refused.value.hint and "tls://" in refused.value.hint


@pytest.mark.parametrize("cluster", [distributed.Cluster("tcp://127.0.0.1:8786"),
                                     distributed.Cluster("tcp://localhost:8786"),
                                     distributed.Cluster("tcp://[::1]:8786"), distributed.Cluster("127.0.0.1:8786"),
                                     distributed.Cluster("tcp://10.1.2.3:8786", insecure=True)],
                         ids=lambda cluster: cluster.address + (" --insecure-cluster" if cluster.insecure else ""))
def test_loopback_or_insecure_cluster_reaches_the_client(no_client, cluster):
    with pytest.raises(ClientMade):
        list(distributed.run(len, None, ["x"], scheduler=cluster))


def test_the_cli_refuses_an_open_scheduler_before_grading(course, no_client, capsys):
    from tito.cli import main as cli

    before = _snapshot(course)
    with tito_process_env(course):
        code = cli.main(["nbgrader", "autograde", MODULE, "--scheduler", "tcp://10.1.2.3:8786"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1 and REFUSAL in err and "--insecure-cluster" in err, err
    assert _snapshot(course) == before


def test_an_insecure_cluster_run_flags_every_report(course, tmp_path):
    import dask
    from distributed import LocalCluster

    env = course_env(course) | {"PYTHONPATH": str(course)}
    with dask.config.set({"temporary-directory": str(tmp_path)}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                         host="127.0.0.1") as cluster:
        run = run_tito(course, "nbgrader", "autograde", MODULE, "--scheduler", cluster.scheduler_address,
                       "--insecure-cluster", "--json", "insecure.json", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "--insecure-cluster" in run.stderr and "open Dask scheduler" in " ".join(run.stderr.split())
    reports = json.loads((course / "insecure.json").read_text())
    assert {r["student"]: r["score"] for r in reports} == {s: TOTALS[s] for s in STUDENTS}, "scores unchanged"
    for report in reports:
        assert [f["kind"] for f in report["flags"]].count("insecure_cluster") == 1, report["student"]
    stored = json.loads((course / "nbgrader" / "autograded" / "correct" / MODULE / "tito-report.json").read_text())
    assert "insecure_cluster" in [f["kind"] for f in stored["flags"]], "the stored report carries it too"


# -- grading through TLS (last: the cluster lives until the module ends) -----------------------------------------------
def test_a_tls_cluster_grades_like_the_local_path(course, tls_cluster, certificates, tmp_path):
    env = course_env(course)
    local = run_tito(course, "nbgrader", "autograde", MODULE, "--jobs", "2", "--json", "local.json", env=env)
    assert local.returncode == 0, local.stderr
    by_local = grades(course, env)
    on_tls = run_tito(course, "nbgrader", "autograde", MODULE, "--scheduler", tls_cluster.address,
                      *_tls(certificates, "client"), "--json", "tls.json", env=_dask_env(course, tmp_path))
    assert on_tls.returncode == 0, on_tls.stdout + on_tls.stderr
    assert grades(course, env) == by_local == {s: TOTALS[s] for s in STUDENTS}
    local_reports = {r["student"]: r for r in json.loads((course / "local.json").read_text())}
    for report in json.loads((course / "tls.json").read_text()):
        assert report["cells"] == local_reports[report["student"]]["cells"], report["student"]
        assert report["flags"] == local_reports[report["student"]]["flags"], "TLS adds no insecure_cluster flag"

    # feedback from the same autograded notebooks, here and on the cluster; the certificates
    # come from Dask's own configuration this time, not from options
    pages = course / "nbgrader" / "feedback"
    assert run_tito(course, "nbgrader", "feedback", MODULE, env=env).returncode == 0
    local_pages = {p: p.read_text() for p in pages.glob(f"*/{MODULE}/layers.html")}
    config = {"DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(certificates / "ca.pem"),
              "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(certificates / "client.pem"),
              "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(certificates / "client.key")}
    fanned = run_tito(course, "nbgrader", "feedback", MODULE, "--scheduler", tls_cluster.address,
                      env=_dask_env(course, tmp_path) | config)
    assert fanned.returncode == 0, fanned.stdout + fanned.stderr
    assert {p: p.read_text() for p in pages.glob(f"*/{MODULE}/layers.html")} == local_pages
    assert len(local_pages) == len(STUDENTS)


def _handshake(port: int, certs: Path, name: str | None, ca: str = "ca") -> bytes:
    """Open a TLS connection to the scheduler as a client presenting `name`'s certificate
    (none if None) and read its first bytes (Dask's handshake message)."""
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.check_hostname = False  # Dask's own choice: a dedicated CA, addresses rather than names
    if name:
        context.load_cert_chain(str(certs / f"{name}.pem"), str(certs / f"{name}.key"))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw, context.wrap_socket(raw) as tls:
        return tls.recv(64)


def test_the_scheduler_refuses_a_client_without_a_cluster_certificate(tls_cluster, certificates):
    port = _port(tls_cluster.address)
    assert _handshake(port, certificates, "client"), "a client with the cluster's certificate is answered"
    with pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"):
        _handshake(port, certificates, None)
    with pytest.raises(ssl.SSLError, match="UNKNOWN_CA"):
        _handshake(port, certificates, "rogue")


@pytest.mark.parametrize("certificate", ["none", "rogue"])
def test_a_worker_without_a_cluster_certificate_cannot_join(course, tls_cluster, certificates, certificate,
                                                            tmp_path):
    tls = ["--tls-ca-file", str(certificates / "ca.pem")] + (
        ["--tls-cert", str(certificates / "rogue.pem"), "--tls-key", str(certificates / "rogue.key")]
        if certificate == "rogue" else [])
    refusals = tls_cluster.log.read_text().count("TLS handshake failed")
    intruder = _worker(tls_cluster.address, tls, _dask_env(course, tmp_path), tmp_path, "--death-timeout", "15s")
    try:
        _, err = intruder.communicate(timeout=300)  # a worker that joined would not stop by itself
    finally:
        _stop(intruder)
    assert intruder.returncode != 0, err[-2000:]
    if certificate == "rogue":  # the scheduler's own word: it turned the worker away
        deadline = time.monotonic() + 60
        while tls_cluster.log.read_text().count("TLS handshake failed") <= refusals and time.monotonic() < deadline:
            time.sleep(0.2)
        assert tls_cluster.log.read_text().count("TLS handshake failed") > refusals, tls_cluster.log.read_text()
    else:  # with no certificate at all, Dask will not even try
        assert "TLS expects a `ssl_context`" in err, err[-2000:]
    with _client(tls_cluster.address, certificates) as client:
        assert len(client.scheduler_info()["workers"]) == 2, "only the two workers with certificates"
