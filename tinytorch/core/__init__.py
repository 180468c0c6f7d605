"""Modules exported from the course notebooks.

The files here are the builds shipped with the course (generated from the instructor
sources by `tito src export`; never edit them by hand). A student's own build of a module,
written by `tito module complete` into `_completed/` (never tracked by git), is imported in
its place: `from tinytorch.core.layers import Linear` gives your code once you completed
03_layers.
"""

from pathlib import Path as _Path

_completed = _Path(__file__).with_name("_completed")
if _completed.is_dir():
    __path__.insert(0, str(_completed))
