"""Shared helpers of the test suites: throw-away copies of the repository and a way to run
tito in them. (Not in conftest.py: pytest imports every conftest under one name, so a
second conftest would shadow the first for `from helpers import ...`.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_SKIP = shutil.ignore_patterns(".git", ".tito", "modules", "nbgrader", "__pycache__", ".venv", "venv",
                               ".pytest_cache", ".hypothesis", ".ruff_cache", "*.egg-info", "grades*.csv")
COPIED = ["src", "tinytorch", "tito", "tests", "benchmarks", "nbgrader_config.py", "pyproject.toml",
          "README.md"]


def copy_repo(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=_SKIP)
        elif source.exists():
            shutil.copy2(source, target / name)
    return target


def git(folder: Path, *args: str) -> str:
    """Run git in `folder` with a fixed identity; its standard output."""
    identity = ["-c", "user.name=course", "-c", "user.email=course@example.org", "-c", "init.defaultBranch=main"]
    return subprocess.run(["git", "-C", str(folder), *identity, *args], capture_output=True, text=True,
                          check=True).stdout


def commit_all(root: Path) -> Path:
    """Make `root` a git checkout holding one commit of everything in it (an instructor's
    clone of the course, or a student's clone of the edition)."""
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "course")
    return root


def tito_env(root: Path) -> dict:
    env = dict(os.environ)
    # TITO_KEEP_INSTRUCTOR_TOOLS: a student edition run with this (the instructor's) environment
    # must not switch formgrader off in it (tests/binder checks that it does so in its own)
    env.update(TITO_ROOT=str(root), PYTHONPATH=str(root), TINYTORCH_CELL_TIMEOUT="20", COLUMNS="200",
               TITO_KEEP_INSTRUCTOR_TOOLS="1")
    env.pop("TINYTORCH_GRADEBOOK_URL", None)
    return env


def run_tito(root: Path, *args: str, env: dict | None = None, check: bool = False) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "tito", *args], cwd=root, env=env or tito_env(root),
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"tito {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


CHROMIUM = "/usr/bin/chromium"


def playwright_or_skip():
    """Playwright's sync_playwright for the browser tests, which skip their module where
    Chromium is missing, unless TINYTORCH_REQUIRE_BROWSER makes that an error (as in CI).
    Call it at module level."""
    import pytest

    if not Path(CHROMIUM).exists():
        if os.environ.get("TINYTORCH_REQUIRE_BROWSER"):
            raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
    if os.environ.get("TINYTORCH_REQUIRE_BROWSER"):
        from playwright.sync_api import sync_playwright
    else:
        sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    return sync_playwright


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, timeout: float, what, interval: float = 0.25):
    """Poll `check` until it returns something true; `what` (a text, or a function giving
    one, called on time-out) says what was awaited and what was last seen."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what() if callable(what) else what}")
        time.sleep(interval)
