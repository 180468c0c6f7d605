"""What grading one module needs, prepared once and shared by every submission: the
scratch course nbgrader generates from the source (cached), the sandbox's site folder and
the configuration, as plain data (`Setup`) that pickles to any worker; and the run folder
that holds everything a grading run makes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode
from traitlets import Float
from traitlets.config import Config, Configurable

from tito.course import notebooks
from tito.course.paths import Paths
from tito.course.registry import Module, discover, resolve
from tito.coursedir.config import load_config
from tito.coursedir.converters import require_kernel
from tito.coursedir.release import generate
from tito.fileops import file_lock
from tito.sandbox import bwrap as sandbox
from tito.sandbox import limits, zygote
from tito.sandbox.site import SiteSpec, build_site


class GradingLimits(Configurable):
    """Limits of one submission's grading, read from nbgrader_config.py (the per-cell limit
    is nbgrader's own c.Execute.timeout)."""

    submission_timeout = Float(600.0, help="Seconds one submission may take in all (notebook run and clean room); "
                                           "past them its kernel and sandboxed programs are killed and the cells "
                                           "not graded score 0.").tag(config=True)



@dataclass(frozen=True)
class Setup:
    """Everything needed to grade submissions of one module, as plain data (picklable)."""

    module: str  # slug, e.g. "03_layers" (nbgrader's assignment id)
    notebook: str  # e.g. "layers.ipynb"
    export_target: str  # e.g. "core.layers"
    config: dict  # nbgrader configuration (re-rooted by each worker on its scratch course)
    template: dict[str, bytes]  # the generated scratch course: source/, release/, gradebook.db
    site: dict[str, bytes]  # the sandbox's site folder
    sandboxed: bool = True
    later_modules: tuple[str, ...] = ()  # import names that must not be used (flagged)

    @property
    def key(self) -> str:
        digest = hashlib.sha256()
        for files in (self.template, self.site):
            for name in sorted(files):
                digest.update(name.encode() + b"\0" + files[name])
        return digest.hexdigest()[:20]

    @property
    def timeout(self) -> float:
        return float(self.config.get("Execute", {}).get("timeout") or 60)

    @property
    def limits(self) -> limits.Limits:
        """The resource limits of each sandboxed process tree, from nbgrader_config.py."""
        return sandbox.TinyTorchSandbox(config=Config(json.loads(json.dumps(self.config)))).limits()

    @property
    def submission_timeout(self) -> float:
        return GradingLimits(config=Config(self.config)).submission_timeout



# -- preparing: the generated course and the site ----------------------------------------------
def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_files(files: dict[str, bytes], folder: Path) -> Path:
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


_TEMPLATE_LAYOUT = "release+gradebook"  # part of the cache key: caches that also kept source/ are rebuilt


def template_course(paths: Paths, module: Module, source: NotebookNode) -> Path:
    """A scratch course generated from `source`, cached under .tito/cache by the hash of
    what generation depends on. Built in a temporary folder under a lock, then renamed, so
    two graders starting at once never see (or delete) each other's half-built course.
    It keeps only what grading needs, the release and the gradebook (mode 0700): the
    generated source/ holds the solutions (nbgrader's Autograde copies only non-notebook
    files from it, and the course has none)."""
    from importlib import metadata  # nbgrader's version without importing nbgrader (0.5 s)

    digest = hashlib.sha256()
    for part in (notebooks.dumps(source), paths.nbgrader_config.read_text(encoding="utf-8"),
                 metadata.version("nbgrader"), _TEMPLATE_LAYOUT):
        digest.update(part.encode("utf-8"))
    cached = paths.cache / f"{module.slug}-{digest.hexdigest()[:16]}"
    ready = cached / "release" / module.slug / module.notebook_name
    if ready.is_file():
        return cached
    with file_lock(paths.cache / f"{module.slug}.lock"):
        if ready.is_file():  # another grader built it while we waited
            return cached
        building = Path(tempfile.mkdtemp(prefix=f".{module.slug}-", dir=paths.cache))
        try:
            generate(load_config(paths, building), module, source)
            shutil.rmtree(building / "source")
            for stale in paths.cache.glob(f"{module.slug}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(building, cached)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return cached


def site_spec_for(repo_root: Path, module_slug: str, include_completed: bool,
                  include_module: bool = False) -> SiteSpec:
    """The site for grading a module of the course in `repo_root`: every module from this
    one on (after it, with `include_module`) is hidden, shipped builds and students' own."""
    paths = Paths(repo_root)
    graded = resolve(paths, module_slug)
    hidden = []
    for module in discover(paths):
        if module.number > graded.number or (module.number == graded.number and not include_module):
            relative = module.package_file.relative_to(paths.package)
            hidden += [relative.as_posix(), (relative.parent / "_completed" / relative.name).as_posix()]
    return SiteSpec(paths.package, tuple(hidden), include_completed)


def site_for_assignment(repo_root: str, assignment: str, folder: Path) -> Path | None:
    """nbgrader's own CLI: the site of the assignment being graded, built in `folder` from
    the course in `repo_root` (None without one)."""
    if not repo_root:
        return None
    return build_site(site_spec_for(Path(repo_root), assignment, include_completed=False), folder / "site")


def site_files(paths: Paths, module: Module, include_completed: bool) -> dict[str, bytes]:
    """The sandbox's site folder for grading `module`, as files."""
    spec = site_spec_for(paths.root, module.slug, include_completed)
    with tempfile.TemporaryDirectory(prefix="tito-site-") as folder:
        return files_of(build_site(spec, Path(folder) / "site"))


def plain_config(config) -> dict:
    """A traitlets Config as nested plain dicts (picklable, JSON-able)."""
    return json.loads(json.dumps({section: dict(values) for section, values in config.items()}, default=str))


def make_setup(paths: Paths, module: Module, source: NotebookNode, *, include_completed: bool,
               sandboxed: bool = True) -> Setup:
    """Prepare grading `module` against `source` (the notebook nbgrader generates from)."""
    require_kernel()
    if sandboxed:
        sandbox.check_available()
    template = template_course(paths, module, source)
    later = tuple(m.import_name for m in discover(paths) if m.number > module.number)
    return Setup(module.slug, module.notebook_name, module.export_target, plain_config(load_config(paths)),
                 files_of(template), site_files(paths, module, include_completed), sandboxed, later)


# -- the run folder: nothing of a grading run outlives it -----------------------------------------
_RUN_FOLDER: dict = {"path": None, "users": 0, "saved": None}
_RUN_LOCK = threading.Lock()


def _run_folder_base() -> str | None:
    """On a Dask worker, its own local directory (which Dask cleans); else the system's."""
    if "distributed" in sys.modules:
        try:
            return sys.modules["distributed"].get_worker().local_directory
        except (AttributeError, ValueError):  # not running inside a Dask task
            pass
    return None


@contextlib.contextmanager
def run_folder() -> Iterator[Path]:
    """A private folder (mode 0700) that is this process's `tempfile.tempdir` while any
    grading runs in it, so that every folder grading and its libraries make (scratch
    courses, kernel run folders, clean-room sites, nbdev's export scratch) is under it; the
    last user removes it, with everything in it, also on an error or Ctrl-C (after killing
    what is still running there)."""
    with _RUN_LOCK:
        if _RUN_FOLDER["path"] is None:
            _RUN_FOLDER["path"] = Path(tempfile.mkdtemp(prefix="tito-run-", dir=_run_folder_base()))
            _RUN_FOLDER["saved"], tempfile.tempdir = tempfile.tempdir, str(_RUN_FOLDER["path"])
        _RUN_FOLDER["users"] += 1
        folder = _RUN_FOLDER["path"]
    try:
        yield folder
    except BaseException:
        sandbox.stop_all()  # nothing may keep writing there once it is gone
        raise
    finally:
        with _RUN_LOCK:
            _RUN_FOLDER["users"] -= 1
            if _RUN_FOLDER["users"] == 0 and _RUN_FOLDER["path"] == folder:
                tempfile.tempdir, _RUN_FOLDER["path"] = _RUN_FOLDER["saved"], None
                for key in [k for k, path in _MATERIALIZED.items() if path.is_relative_to(folder)]:
                    del _MATERIALIZED[key]
                zygote.close_all()  # their folders are in it
                shutil.rmtree(folder, ignore_errors=True)


def use_run_folder(folder: str) -> None:
    """Initializer of a local worker process: everything it makes goes under the
    coordinator's run folder (which the coordinator removes, even if this worker is killed)."""
    _RUN_FOLDER.update(path=Path(folder), users=1, saved=tempfile.tempdir)
    tempfile.tempdir = folder


def release_run_folder() -> None:
    """Undo `use_run_folder` (a Dask worker plugin's teardown; the caller removes the folder)."""
    with _RUN_LOCK:
        if _RUN_FOLDER["path"] is not None:
            for key in [k for k, path in _MATERIALIZED.items() if path.is_relative_to(_RUN_FOLDER["path"])]:
                del _MATERIALIZED[key]
            tempfile.tempdir = _RUN_FOLDER["saved"]
            _RUN_FOLDER.update(path=None, users=0, saved=None)


_MATERIALIZED: dict[str, Path] = {}  # files' digest -> their folder, in the run folder


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()[:20]


def materialize_files(files: dict[str, bytes], kind: str) -> Path:
    """`files` on this machine's disk, once per run folder and content: the same files
    (a site built before the setup, and the setup's own) are the same folder."""
    key = f"{kind}-{_digest(files)}"
    if key not in _MATERIALIZED:
        _MATERIALIZED[key] = write_files(files, Path(tempfile.mkdtemp(prefix=f"tito-{kind}-")) / kind)
    return _MATERIALIZED[key]


def materialize(setup: Setup) -> tuple[Path, Path]:
    """The template course and site folder on this machine's disk, once per run folder."""
    return materialize_files(setup.template, "template"), materialize_files(setup.site, "site")
