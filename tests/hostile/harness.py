"""Running tito on hostile submissions without letting them touch the shared machine.

- A throw-away virtual environment (`overlay_venv`): its own site-packages (where the
  persistence attacks write) on top of this environment's packages, read through a
  `.pth` file. Every tito command, and so every kernel and every pytest it starts, runs on
  its interpreter.
- A throw-away HOME (so ~/.ipython and ~/.jupyter are the copy's), no IPYTHONDIR/JUPYTER_*
  overrides, and no bytecode writing, so that any `.pyc` appearing in the checkout was
  written by an attack.
- Daemons started by attacks carry `attacks.DAEMON_MARK` and a path under the test's
  temporary folder in their command line: `wait_for_daemons` waits for those (they cap
  their own lifetime at 60 s) and kills any left, by pid.
- An accomplice on 127.0.0.1 that serves the reference solution and records what it is
  sent (the network attack must never reach it).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import factory
from attacks import ACCOMPLICE_BANNER, ACCOMPLICE_PORTS, DAEMON_MARK
from helpers import tito_env

from tito.course import notebooks

CANARY = "hostile-canary-4f1d2c"  # a fake secret in the grader's environment
TIMESTAMP = "2026-11-20 10:00:00.000000 UTC\n"
MODULE = "03_layers"
# Seconds allowed for one `tito module test/complete` (5-10 s on an idle machine); beyond
# it the command counts as hung. HOSTILE_MODULE_TIMEOUT overrides it on a slow machine.
MODULE_TIMEOUT = float(os.environ.get("HOSTILE_MODULE_TIMEOUT", "90"))
KILLED = -9


# -- environment ----------------------------------------------------------------------------
def overlay_venv(target: Path) -> Path:
    """A new virtual environment that sees this one's packages; returns its python."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(target)], check=True, capture_output=True)
    python = target / "bin" / "python"
    site_packages = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    host = sysconfig.get_paths()["purelib"]
    (site_packages / "_host_packages.pth").write_text(f"import site; site.addsitedir({host!r})\n")
    return python


def hostile_env(root: Path, home: Path, python: Path) -> dict:
    env = tito_env(root)
    for key in ("IPYTHONDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_PATH",
                "JUPYTER_CONFIG_PATH", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "MPLCONFIGDIR",
                "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE"):
        env.pop(key, None)
    home.mkdir(parents=True, exist_ok=True)
    host_bin = str(Path(sys.executable).parent)
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1", TINYTORCH_GRADER_SECRET=CANARY,
               PATH=os.pathsep.join([str(python.parent), host_bin, env.get("PATH", "")]))
    return env


def run_tito(root: Path, python: Path, env: dict, *args: str,
             timeout: float = MODULE_TIMEOUT) -> subprocess.CompletedProcess:
    """conftest.run_tito, on the throw-away interpreter, in its own process group: after
    `timeout` seconds the whole group (tito, and the pytest that `complete` starts) is
    killed, and the result has returncode -9 and a note on stderr."""
    command = [str(python), "-m", "tito", *args]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # a survivor outside the group still holds the pipes
            process.kill()
            out, err = "", ""
        return subprocess.CompletedProcess(command, KILLED, out, f"{err}\n[harness] tito {' '.join(args)} killed "
                                                              f"after {timeout:g} s")
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def plant(course: Path, student: str, notebook) -> Path:
    path = factory.write(notebook, course / "submitted" / student / MODULE / "layers.ipynb")
    (path.parent / "timestamp.txt").write_text(TIMESTAMP)
    return path


def write_student_notebook(root: Path, notebook) -> Path:
    path = root / "modules" / MODULE / "layers.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    notebooks.write(notebook, path)
    return path


# -- what changed ---------------------------------------------------------------------------
def tree_hashes(root: Path, skip: tuple[str, ...] = ("modules", ".tito", ".git")) -> dict[str, str]:
    """sha256 of every file under `root` (new files and __pycache__ included), by path."""
    hashes = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in skip or not path.is_file():
            continue
        hashes[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def differences(before: dict[str, str], after: dict[str, str], prefix: str = "") -> list[str]:
    changed = [f"changed {prefix}{p}" for p in before if p in after and before[p] != after[p]]
    return (changed + [f"new {prefix}{p}" for p in after if p not in before]
            + [f"removed {prefix}{p}" for p in before if p not in after])


# -- daemons --------------------------------------------------------------------------------
def daemons(scope: str) -> list[int]:
    """pids of attack daemons whose command line names a path under `scope`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if DAEMON_MARK.encode() in argv and any(scope.encode() in arg for arg in argv):
            found.append(int(entry.name))
    return found


def wait_for_daemons(scope: str, limit: float = 75.0) -> list[int]:
    """Wait until the attack daemons under `scope` are gone (their lifetime is capped at
    60 s); kill any still alive after `limit` seconds. Returns the pids that were killed."""
    deadline = time.monotonic() + limit
    while daemons(scope) and time.monotonic() < deadline:
        time.sleep(0.25)
    left = daemons(scope)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


# -- the accomplice -------------------------------------------------------------------------
class Accomplice:
    """A TCP server on 127.0.0.1 that answers with the reference solution and records
    what it receives."""

    def __init__(self, answer: str):
        self.answer = (ACCOMPLICE_BANNER + "\n" + answer).encode("utf-8")
        self.received: list[bytes] = []
        self.server = None
        for port in ACCOMPLICE_PORTS:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                server.bind(("127.0.0.1", port))
            except OSError:
                server.close()
                continue
            server.listen(8)
            server.settimeout(0.2)
            self.server, self.port = server, port
            break
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        if self.server is not None:
            self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            with connection:
                connection.settimeout(5)
                data = b""
                try:
                    while chunk := connection.recv(65536):
                        data += chunk
                    connection.sendall(self.answer)
                except OSError:
                    pass
                self.received.append(data)

    def close(self) -> None:
        self.stopping.set()
        if self.server is not None:
            self.thread.join(timeout=5)
            self.server.close()


def reference_answer(root: Path) -> str:
    """What the accomplice sends: the reference code of every solution cell."""
    notebook = factory.solved(root)
    return "\n\n".join(c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))


def leaked(payloads: list[bytes]) -> str:
    """A short description of what reached the accomplice."""
    parts = []
    for data in payloads:
        try:
            decoded = json.loads(data)
            parts.append(f"{len(decoded.get('hidden_tests', []))} hidden test cell(s)"
                         + (", the grader's secret" if CANARY in data.decode() else ""))
        except (ValueError, AttributeError):
            parts.append(f"{len(data)} bytes")
    return "; ".join(parts)
