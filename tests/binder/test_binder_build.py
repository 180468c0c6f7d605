"""A simulated Binder build: a fresh virtual environment from binder/requirements.txt, then
binder/postBuild in a fresh clone, then the student's view of the result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, copy_repo

pytestmark = pytest.mark.slow

LINKED = ["modules/01_tensor/tensor.ipynb", "modules/02_activations/activations.ipynb",
          "modules/03_layers/layers.ipynb"]


def _fresh_clone(target: Path) -> Path:
    """A clone of the committed repository (as Binder gets it), or a copy without history."""
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True)
    if (REPO / ".git").exists() and head.returncode == 0:
        subprocess.run(["git", "clone", "-q", str(REPO), str(target)], check=True)
        return target
    return copy_repo(target)


@pytest.fixture(scope="module")
def binder(tmp_path_factory):
    base = tmp_path_factory.mktemp("binder")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REPO / "binder/requirements.txt")],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    clone = _fresh_clone(base / "clone")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TITO_ROOT", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    build = subprocess.run(["bash", "binder/postBuild"], cwd=clone, env=env, capture_output=True, text=True)
    return clone, venv, env, build


def test_post_build_succeeds(binder):
    _, _, _, build = binder
    assert build.returncode == 0, build.stdout + build.stderr


def test_notebooks_exist_at_the_linked_paths_without_solutions(binder):
    clone, *_ = binder
    for relative in LINKED:
        text = (clone / relative).read_text()
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        assert "NotImplementedError" in text
    layers = (clone / LINKED[2]).read_text()
    assert "seen.add(id(tensor))" not in layers and "weight *= np.float32(scale)" not in layers


def test_jupyterlab_opens_py_files_as_notebooks(binder):
    _, venv, *_ = binder
    overrides = next(venv.glob("share/jupyter/lab/settings/overrides.json"))
    assert '"python": "Jupytext Notebook"' in overrides.read_text()


def test_tito_module_test_runs_in_the_binder_environment(binder):
    clone, venv, env, _ = binder
    result = subprocess.run([str(venv / "bin/tito"), "module", "test", "03_layers"], cwd=clone,
                            env=env | {"COLUMNS": "160"}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr  # the untouched notebook scores 0
    assert "test-linear-creation" in result.stdout and "0/100" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_binder_environment_has_no_development_extras(binder):
    _, venv, *_ = binder
    site = next(venv.glob("lib/python*/site-packages"))
    assert not list(site.glob("torch")) and not list(site.glob("playwright"))
