"""The course modules: from the folder names in src/ (`NN_name/NN_name.py`) in the
instructor's repository, from `.course/course.json` (written from src/ by
`tito release student`) in a student edition."""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tito.course import markers
from tito.course.paths import Paths
from tito.errors import TitoError

_FOLDER = re.compile(r"^(?P<number>\d\d)_(?P<name>[a-z][a-z0-9_]*)$")


@dataclass(frozen=True)
class Module:
    number: str  # "03"
    name: str  # "layers"
    paths: Paths
    info: dict = field(default_factory=dict, compare=False, hash=False)  # the manifest entry (student edition)

    @property
    def slug(self) -> str:
        return f"{self.number}_{self.name}"

    @property
    def source(self) -> Path:
        """The instructor source (only in the instructor's repository)."""
        return self.paths.src / self.slug / f"{self.slug}.py"

    @property
    def notebook_name(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def student_notebook(self) -> Path:
        return self.paths.modules / self.slug / self.notebook_name

    @property
    def release_notebook(self) -> Path:
        """The pristine release notebook of a student edition."""
        return self.paths.releases / self.slug / self.notebook_name

    @property
    def export_target(self) -> str:
        """The dotted module inside tinytorch, from the source's `#| default_exp`."""
        if self.info:
            return self.info["export_target"]
        target = markers.default_exp(self.source.read_text(encoding="utf-8"))
        if not target:
            raise TitoError(f"{self.source} has no '#| default_exp' line.")
        return target

    @property
    def package_file(self) -> Path:
        return self.paths.package.joinpath(*self.export_target.split(".")).with_suffix(".py")

    @property
    def completed_file(self) -> Path:
        """Where `tito module complete` puts the student's own build (untracked; imported
        in place of the shipped build, see tinytorch/core/__init__.py)."""
        return self.package_file.parent / "_completed" / self.package_file.name

    @property
    def import_name(self) -> str:
        return f"tinytorch.{self.export_target}"

    @property
    def tests(self) -> Path:
        return self.paths.tests / self.slug


def discover(paths: Paths) -> list[Module]:
    """All modules, in course order."""
    if paths.is_student_edition:
        return [Module(entry["slug"][:2], entry["slug"][3:], paths, entry) for entry in _manifest(paths.manifest)]
    modules = []
    for folder in sorted(paths.src.iterdir()) if paths.src.is_dir() else []:
        match = _FOLDER.match(folder.name)
        if match and (folder / f"{folder.name}.py").is_file():
            modules.append(Module(match["number"], match["name"], paths))
    return modules


@functools.lru_cache(maxsize=8)
def _manifest(path: Path) -> tuple[dict, ...]:
    try:
        return tuple(json.loads(path.read_text(encoding="utf-8"))["modules"])
    except (OSError, ValueError, KeyError) as error:
        raise TitoError(f"{path} is damaged ({error}).", "Restore it with `git checkout -- .course`.") from error


def resolve(paths: Paths, name: str) -> Module:
    """Find a module by `03_layers`, `03`, `3` or `layers`."""
    modules = discover(paths)
    wanted = name.strip().lower()
    folders = [part for part in Path(wanted).parts if _FOLDER.match(part)] if "/" in wanted else []
    wanted = folders[-1] if folders else wanted  # modules/03_layers/layers.ipynb, as a shell completes it
    for module in modules:
        if wanted in (module.slug, module.number, module.name) or (
            wanted.isdigit() and int(wanted) == int(module.number)
        ):
            return module
    known = ", ".join(module.slug for module in modules) or "none"
    names = {alias: module.slug for module in modules for alias in (module.slug, module.name)}
    close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.6)
    guess = f" Did you mean {names[close[0]]}?" if close else ""
    raise TitoError(f"Unknown module '{name}'.{guess}", f"Known modules: {known}. Try `tito module list`.")


def prerequisites(paths: Paths, module: Module) -> list[Module]:
    return [other for other in discover(paths) if other.number < module.number]
