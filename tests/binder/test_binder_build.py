"""A simulated Binder build of the student edition, which is what Binder is launched from.

The edition is released from a throw-away git copy of this repository (`tito release
student`). As repo2docker would: a fresh virtual environment from the edition's
binder/requirements.txt, then the edition's binder/postBuild in a fresh clone of it (with
that environment first on PATH). Then the student's view of the result."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import commit_all, copy_repo, git, run_tito

from tito.course.paths import Paths
from tito.course.registry import discover
from tito.workflows.instructor import edition

pytestmark = pytest.mark.slow

DISABLED_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"]
DISABLED_LAB_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                        "@jupyter/nbgrader:course-list"]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def instructor(tmp_path_factory) -> Path:
    return commit_all(copy_repo(tmp_path_factory.mktemp("instructor") / "repo"))


@pytest.fixture(scope="module")
def binder(instructor, tmp_path_factory):
    base = tmp_path_factory.mktemp("binder")
    published = base / "tinytorch-student"
    # Module 03 is the assignment: the earlier modules ship as reference builds, so the Binder
    # link to modules/03_layers/layers.ipynb works without completing them first.
    run_tito(instructor, "release", "student", "--to", str(published), "--provide", "01", "02", check=True)

    # The environment lives under /tmp, on purpose: the sandbox once hid such an environment
    # behind its private /tmp (bwrap: execvp .../venv/bin/python: No such file).
    venv = base / "venv"

    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "-r",
                              str(published / "binder/requirements.txt")], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]

    clone = base / "clone"
    subprocess.run(["git", "clone", "-q", str(published), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TITO_ROOT", "VIRTUAL_ENV", "TINYTORCH_GRADEBOOK_URL")
           and not k.startswith(("JUPYTER", "JUPYTERLAB"))}
    # The session's own (throw-away) user-level Jupyter folders: whatever postBuild writes
    # at that level stays here, and the machine's ~/.jupyter plays no part in the checks.
    env |= {"PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
            "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"), "JUPYTER_DATA_DIR": str(base / "jupyter-data"),
            "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime")}
    build = subprocess.run(["bash", "binder/postBuild"], cwd=clone, env=env, capture_output=True, text=True,
                           timeout=900)
    yield clone, venv, env, build


def _run(env: dict, *command: str, cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return _ANSI.sub("", result.stdout + result.stderr)


def test_post_build_succeeds(binder):
    *_, build = binder
    assert build.returncode == 0, build.stdout + build.stderr


def test_notebooks_exist_at_the_linked_paths_without_solutions(instructor, binder):
    clone, *_ = binder
    modules = discover(Paths(instructor))
    assert [m.slug for m in modules] == ["01_tensor", "02_activations", "03_layers"]
    secrets = edition.secret_lines(Paths(instructor), set())
    assert secrets, "the scan knows the answers"
    for module in modules:
        notebook = clone / "modules" / module.slug / module.notebook_name  # e.g. modules/03_layers/layers.ipynb
        assert notebook.is_file(), f"postBuild made no {notebook.relative_to(clone)}"
        text = notebook.read_text()
        assert not edition.leak_in(text, secrets), f"{notebook.relative_to(clone)}: {edition.leak_in(text, secrets)}"
        assert "NotImplementedError" in text
    assert git(clone, "status", "--porcelain") == "", "the build changed nothing git tracks (notebooks are untracked)"


def test_apt_installs_the_grading_sandbox(binder):
    clone, *_ = binder
    packages = (clone / "binder/apt.txt").read_text().split()
    assert "bubblewrap" in packages


def test_nbgrader_instructor_tools_are_disabled(binder):
    clone, venv, env, _ = binder
    servers = _run(env, str(venv / "bin/jupyter"), "server", "extension", "list", cwd=clone)
    for name in DISABLED_SERVER_EXTENSIONS:
        states = re.findall(rf"^\s*{re.escape(name)} (enabled|disabled)\s*$", servers, re.MULTILINE)
        assert states == ["disabled"], f"{name}: {states}\n{servers}"
    assert re.search(r"nbgrader\.server_extensions\.assignment_list enabled", servers), servers  # the students' own
    labs = _run(env, str(venv / "bin/jupyter"), "labextension", "list", cwd=clone)
    assert "Disabled extensions:" in labs, labs
    disabled = labs.split("Disabled extensions:", 1)[1]
    for plugin in DISABLED_LAB_PLUGINS:
        assert re.search(rf"^\s*{re.escape(plugin)}\b", disabled, re.MULTILINE), f"{plugin} is not disabled:\n{labs}"
    page_config = venv / "etc/jupyter/labconfig/page_config.json"
    assert page_config.is_file(), "postBuild disables the lab plugins in the environment, for every user"


def test_tito_module_test_runs_in_the_binder_environment(binder):
    clone, venv, env, _ = binder
    result = subprocess.run([str(venv / "bin/tito"), "module", "test", "03_layers"], cwd=clone,
                            env=env | {"COLUMNS": "160"}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr  # the untouched notebook scores 0
    assert "test-linear-creation" in result.stdout and "0/100" in result.stdout, result.stdout
    stubbed = re.findall(r"test-(?!integration)[a-z-]+\b.*?is not implemented yet", result.stdout)
    assert len(stubbed) == 10, result.stdout  # each unit cell fails on its own stub: the five parts and their errors
    table_text = " ".join(result.stdout.replace("│", " ").split())
    assert "also depend on hidden checks that only your instructor's grading runs" in table_text, result.stdout
    assert "falling short, got 4" in table_text and "missing_prerequisite" not in result.stdout, result.stdout
    assert "Traceback" not in result.stderr, result.stderr


def test_the_binder_environment_has_no_development_extras(binder):
    _, venv, env, _ = binder
    check = "import importlib.util as u; print([m for m in ('torch', 'playwright') if u.find_spec(m)])"
    assert _run(env, str(venv / "bin/python"), "-c", check, cwd=venv).strip() == "[]"
