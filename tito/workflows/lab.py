"""JupyterLab for a student: the command that opens a notebook, and nbgrader's instructor
tools (Formgrader, Create Assignment, Course List) switched off in a student edition's
environment, as `jupyter labextension disable` and `jupyter server extension disable
--sys-prefix` would, through the same libraries. A plain `pip install -e .` runs no code
of the edition, so `tito module start` (the README's first command) does it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
# set: leave them on (an instructor trying the edition in their own environment)
KEEP_ENV = "TITO_KEEP_INSTRUCTOR_TOOLS"


def lab_command(path: Path) -> list[str]:
    command = [sys.executable, "-m", "jupyter", "lab", str(path)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


def _server_extensions():
    """jupyter_server's configuration of server extensions at this environment's level."""
    from jupyter_core.paths import ENV_CONFIG_PATH
    from jupyter_server.extension.config import ExtensionConfigManager

    folder = ENV_CONFIG_PATH[0]
    return ExtensionConfigManager(read_config_path=[folder],
                                  write_config_dir=os.path.join(folder, "jupyter_server_config.d"))


def instructor_tools_on() -> list[str]:
    """The instructor tools still on in this environment's JupyterLab."""
    from jupyterlab_server.config import get_static_page_config

    disabled = get_static_page_config(level="all").get("disabledExtensions", {})
    on = [plugin for plugin in INSTRUCTOR_LAB_PLUGINS if not disabled.get(plugin)]
    return on + [name for name in INSTRUCTOR_SERVER_EXTENSIONS if _server_extensions().enabled(name)]


def switch_off_instructor_tools() -> list[str]:
    """Switch the instructor tools off at this environment's level (sys.prefix); returns
    what was switched off (nothing if they were off already, or KEEP_ENV is set)."""
    if os.environ.get(KEEP_ENV):
        return []
    on = instructor_tools_on()
    if not on:
        return []
    from jupyterlab.commands import disable_extension

    for name in on:
        if name in INSTRUCTOR_SERVER_EXTENSIONS:
            _server_extensions().disable(name)
        else:
            disable_extension(name, level="sys_prefix")
    return on
