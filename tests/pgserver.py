"""A throw-away PostgreSQL server for the tests: Debian's `postgresql` binaries, a fresh
cluster in a temporary folder (initdb as the `postgres` user when the tests run as root),
password login on 127.0.0.1 and a random port. Each test batch gets its own database."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

USER = "grader"


def find_binaries() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    binaries: Path
    folder: Path
    port: int
    password: str

    def _as_owner(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        command = self._as_owner(str(self.binaries / tool), *args)
        env = dict(os.environ, PGPASSWORD=self.password)
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=True)

    def url(self, database: str, password: str | None = None) -> str:
        return f"postgresql://{USER}:{password or self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        name = f"course_{uuid.uuid4().hex[:10]}"
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return name

    def stop(self) -> None:
        subprocess.run(self._as_owner(str(self.binaries / "pg_ctl"), "-D", str(self.folder / "data"), "stop",
                                      "-m", "immediate"), capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> PostgresServer:
    binaries = find_binaries()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb) not found: apt-get install postgresql")
    folder = Path(tempfile.mkdtemp(prefix="tito-pg-", dir="/tmp"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PostgresServer(binaries, folder, _free_port(), secrets.token_hex(12))
    password_file = folder / "password"
    password_file.write_text(server.password + "\n")
    if os.geteuid() == 0:
        shutil.chown(password_file, "postgres", "postgres")
    server.run("initdb", "-D", str(folder / "data"), "-U", USER, "-A", "scram-sha-256",
               f"--pwfile={password_file}", "--no-sync")
    options = f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    server.run("pg_ctl", "-D", str(folder / "data"), "-o", options, "-l", str(folder / "log"), "-w", "start")
    return server
