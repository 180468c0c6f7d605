"""A student edition switches nbgrader's instructor tools off in its environment's
JupyterLab (`tito module start`), through JupyterLab's and jupyter_server's own config."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import jupyter_core.paths
import pytest

from tito.workflows import lab


@pytest.fixture
def environment_config(tmp_path, monkeypatch):
    """This environment's Jupyter config folder, copied: as nbgrader's install left it."""
    folder = tmp_path / "etc-jupyter"
    shutil.copytree(Path(sys.prefix) / "etc" / "jupyter", folder)
    monkeypatch.delenv(lab.KEEP_ENV, raising=False)
    # the list itself changes: jupyterlab and jupyter_server both hold it (they import it by name)
    paths = jupyter_core.paths.ENV_CONFIG_PATH
    original = paths[0]
    paths[0] = str(folder)
    yield folder
    paths[0] = original



def test_the_instructor_tools_are_switched_off_once(environment_config):
    assert set(lab.instructor_tools_on()) == {*lab.INSTRUCTOR_LAB_PLUGINS, *lab.INSTRUCTOR_SERVER_EXTENSIONS}
    assert set(lab.switch_off_instructor_tools()) == {*lab.INSTRUCTOR_LAB_PLUGINS, *lab.INSTRUCTOR_SERVER_EXTENSIONS}
    assert lab.instructor_tools_on() == []
    assert lab.switch_off_instructor_tools() == [], "nothing left to do the second time"
    assert (environment_config / "labconfig" / "page_config.json").is_file()


def test_the_student_tools_stay_on(environment_config):
    from jupyter_server.extension.config import ExtensionConfigManager

    lab.switch_off_instructor_tools()
    manager = ExtensionConfigManager(read_config_path=[str(environment_config)])
    assert manager.enabled("nbgrader.server_extensions.assignment_list")
    assert manager.enabled("nbgrader.server_extensions.validate_assignment")


def test_an_instructor_can_keep_them(environment_config, monkeypatch):
    monkeypatch.setenv(lab.KEEP_ENV, "1")
    assert lab.switch_off_instructor_tools() == []
    assert lab.instructor_tools_on() != []
