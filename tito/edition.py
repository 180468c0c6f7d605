"""`tito release student`: the student edition, a git repository with no answers in it.

It holds the release notebooks (`.course/`), tito's student commands, the `tinytorch`
package without the build of any graded module (modules named in `provide` ship with their
reference build), the public package tests that `complete` runs, `binder/` and a student
README. Every file is checked for solution and hidden-test lines before anything is
written; a leak stops the release and names the files. The same sources give the same
tree and the same commit. Releasing into an existing edition adds a commit, so that
students can `git pull` it: their notebooks and builds are untracked and never conflict.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tito import notebooks
from tito.errors import TitoError
from tito.paths import MANIFEST, Paths
from tito.registry import Module, discover, resolve

# tito's files that a student needs (no instructor commands, no release, no cluster).
STUDENT_TITO = ["__init__.py", "__main__.py", "cleanroom.py", "cleanroom_runner.py", "cli.py", "course.py",
                "doctor.py", "errors.py", "export.py", "feedback.py", "fileops.py", "gradebook.py", "grading.py",
                "inline.py", "intake.py", "limits.py", "notebooks.py", "paths.py", "preprocessors.py",
                "progress.py", "registry.py", "report.py", "sandbox.py", "sanitize.py", "scan.py", "student.py",
                "ui.py"]
PACKAGE_FILES = ["tinytorch/__init__.py", "tinytorch/core/__init__.py", "tinytorch/profiling.py"]
STUDENT_DEPENDENCIES = ["numpy>=1.26", "jupytext>=1.16", "nbgrader>=0.9.6,<0.10", "nbdev>=2.3", "nbclient>=0.10",
                        "nbformat>=5.9", "ipykernel>=6.29", "jupyterlab>=4.2", "rich>=13", "matplotlib>=3.8",
                        "pytest>=8", "hypothesis>=6.100"]
IDENTITY = {"GIT_AUTHOR_NAME": "TinyTorch course", "GIT_AUTHOR_EMAIL": "course@tinytorch.invalid",
            "GIT_COMMITTER_NAME": "TinyTorch course", "GIT_COMMITTER_EMAIL": "course@tinytorch.invalid"}
_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


@dataclass
class ReleaseResult:
    folder: Path
    files: list[str]
    commit: str
    summary: list[str] = field(default_factory=list)


def release(paths: Paths, target: Path, provide: list[str]) -> ReleaseResult:
    """Write (or update) the student edition at `target`."""
    if paths.is_student_edition:
        raise TitoError("This is a student edition: editions are released from the instructor's repository.")
    provided = {resolve(paths, name).slug for name in provide}
    files = edition_files(paths, provided)
    leaks = find_leaks(paths, files, provided)
    if leaks:
        raise TitoError("The student edition would contain answers; nothing was written. Offending files:\n"
                        + "\n".join(f"  {name}: {why}" for name, why in leaks),
                        "Remove the solution or hidden-test lines from those files, or leave the files out.")
    commit = _write_repository(paths, target, files)
    modules = discover(paths)
    summary = [f"{m.slug}: " + ("provided (reference build shipped)" if m.slug in provided else "graded (no build)")
               for m in modules]
    return ReleaseResult(target, sorted(files), commit, summary)


# -- the tree -----------------------------------------------------------------------------------------
def edition_files(paths: Paths, provided: set[str]) -> dict[str, bytes]:
    """Every file of the edition, by relative path."""
    modules = discover(paths)
    files: dict[str, bytes] = {}
    entries = []
    for module in modules:
        source = notebooks.read_source(module)
        release_notebook = notebooks.student_version(source, paths)
        files[f".course/{module.slug}/{module.notebook_name}"] = notebooks.dumps(release_notebook).encode()
        entries.append(_manifest_entry(paths, module, source, module.slug in provided))
        if module.slug in provided:
            from tito.export import reference_build

            files[module.package_file.relative_to(paths.root).as_posix()] = reference_build(module).encode()
        for test in sorted(module.tests.glob("*.py")) if module.tests.is_dir() else []:
            files[test.relative_to(paths.root).as_posix()] = test.read_bytes()
    files[MANIFEST.as_posix()] = (json.dumps({"edition": "student", "modules": entries}, indent=2) + "\n").encode()
    for name in PACKAGE_FILES:
        files[name] = (paths.root / name).read_bytes()
    for name in STUDENT_TITO:
        files[f"tito/{name}"] = (paths.root / "tito" / name).read_bytes()
    files["nbgrader_config.py"] = paths.nbgrader_config.read_bytes()
    files["pyproject.toml"] = _pyproject(paths).encode()
    files["README.md"] = _readme(modules, provided, entries).encode()
    files[".gitignore"] = GITIGNORE.encode()
    files["binder/requirements.txt"] = (paths.root / "binder" / "requirements.txt").read_bytes()
    files["binder/postBuild"] = POSTBUILD.encode()
    files["binder/apt.txt"] = b"bubblewrap\n"  # the sandbox tito grades in
    return dict(sorted(files.items()))


def _manifest_entry(paths: Paths, module: Module, source, provided: bool) -> dict:
    graded = [cell for cell in source.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    hidden = [cell for cell in graded if "### BEGIN HIDDEN TESTS" in cell.source]
    entry = {"slug": module.slug, "notebook": module.notebook_name, "export_target": module.export_target,
             "max_score": sum(float(c.metadata["nbgrader"]["points"]) for c in graded),
             "hidden_cells": [c.metadata["nbgrader"]["grade_id"] for c in hidden],
             "hidden_points": sum(float(c.metadata["nbgrader"]["points"]) for c in hidden),
             "provided": provided, "package_tests": []}
    if module.tests.is_dir():
        from tito.student import expected_tests

        entry["package_tests"] = expected_tests(paths, module)
    return entry


def _pyproject(paths: Paths) -> str:
    import tomllib

    project = tomllib.loads(paths.root.joinpath("pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = ",\n    ".join(f'"{d}"' for d in STUDENT_DEPENDENCIES)
    return f'''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "tinytorch-student"
version = "{project["version"]}"
description = "TinyTorch course: the student edition (notebooks, tito's student commands, the package)"
readme = "README.md"
requires-python = "{project["requires-python"]}"
dependencies = [
    {dependencies},
]

[project.scripts]
tito = "tito.cli:main"

[tool.setuptools.packages.find]
where = ["."]
include = ["tinytorch*", "tito*"]

[tool.nbdev]
lib_name = "tinytorch"
lib_path = "tinytorch"
nbs_path = "modules"
jupyter_hooks = false

[tool.pytest.ini_options]
testpaths = ["tests"]
markers = ["parity: compares with PyTorch (needs torch)", "reference: checks the reference build's wording"]
'''


GITIGNORE = """# Your work: notebooks, your builds and tito's records are yours, never tracked, so that
# `git pull` of a newer edition never touches them.
/modules/
/tinytorch/core/_completed/
/.tito/
/nbgrader/
__pycache__/
*.py[cod]
*.egg-info/
/.venv/
.ipynb_checkpoints/
.pytest_cache/
.hypothesis/
"""

POSTBUILD = """#!/usr/bin/env bash
# Binder (repo2docker) build step for the student edition: install the course package,
# create every module's notebook in modules/, and switch off nbgrader's instructor tools.
# (binder/apt.txt installs bubblewrap, the sandbox `tito module test` grades in.)
set -euo pipefail

python -m pip install --no-deps -e .
tito module start --all --no-lab

# Students do not create or grade assignments.
jupyter labextension disable @jupyter/nbgrader:formgrader @jupyter/nbgrader:create-assignment \\
    @jupyter/nbgrader:course-list
jupyter server extension disable --sys-prefix nbgrader.server_extensions.formgrader
jupyter server extension disable --sys-prefix nbgrader.server_extensions.course_list
"""


def _readme(modules: list[Module], provided: set[str], entries: list[dict]) -> str:
    rows = "\n".join(
        f"| {e['slug']} | `modules/{e['slug']}/{e['notebook']}` | {e['max_score']:g} | "
        + ("given (reference build shipped)" if e["slug"] in provided else
           f"{e['max_score'] - e['hidden_points']:g} on visible tests; {e['hidden_points']:g} also depend on hidden "
           "checks your instructor runs") + " |"
        for e in entries)
    return f"""# TinyTorch: build a deep-learning library, one module at a time

You write the library yourself, in Jupyter notebooks: a `Tensor`, activations, and layers
(`Linear`, `Dropout`, `Sequential`). Each module's notebook explains the ideas, leaves the
code to you, and checks it with tests.

## Start

Online: open this repository on Binder (`?labpath=modules%2F03_layers%2Flayers.ipynb` opens
Module 03 directly). On your own machine (Python ≥ 3.10; grading runs your code in a
bubblewrap sandbox, `sudo apt-get install bubblewrap` on Debian/Ubuntu):

```bash
python3 -m venv .venv && .venv/bin/pip install -e . && source .venv/bin/activate
tito module start 01_tensor        # creates modules/01_tensor/tensor.ipynb and opens JupyterLab
```

## Work, test, complete

```bash
tito module list                   # every module: not started / in progress / completed
tito module test 03_layers         # grades your notebook with your instructor's engine
tito module complete 03_layers     # at full marks: your code becomes tinytorch.core.layers
tito module reset 03_layers        # backs up your notebook, gives you a fresh copy
```

Modules build on each other: Module 02 imports your `Tensor`, Module 03 your activations.
`complete` makes your code the package's module (in `tinytorch/core/_completed/`), only
after it passes the module's package tests (`tests/`).

Your notebooks (`modules/`), your builds and tito's records (`.tito/`) are yours: git does
not track them, no command overwrites them without a backup, and `git pull` of a newer
edition of the course never touches them.

## What your instructor grades

| module | notebook | points | graded |
|---|---|---|---|
{rows}

`tito module test` runs the tests you can see. Your instructor's grading runs the same
notebook with the same engine, plus hidden checks in some test cells: they vary the
inputs, not the requirements, which the notebook states. Your code runs in a sandbox, and
every test is run again against your exported code alone, so make sure the `#| export`
cells hold everything your classes need.
"""


# -- checks ---------------------------------------------------------------------------------------------
_GENERIC = re.compile(r"^(except\b.*|else:|try:|finally:|pass|return\b.*|raise|break|continue|[\w.]+\(\))$")


def secret_lines(paths: Paths, provided: set[str]) -> dict[str, str]:
    """Lines that must not appear in the edition: {line: which module's what}. A line that
    some module shows students anyway (outside its solution and hidden blocks) is no
    secret, nor is a short structural line (`except ValueError:`, `return x`)."""
    sources = {module.slug: notebooks.read_source(module) for module in discover(paths)}
    visible = set().union(*(_block_lines(source, None) for source in sources.values()))
    secrets = {}
    for slug, source in sources.items():
        hidden = _block_lines(source, "HIDDEN TESTS")
        for line in _block_lines(source, "SOLUTION") | hidden:
            if len(line) < 16 or line.startswith("#") or line in visible or _GENERIC.match(line):
                continue
            if line in hidden:
                secrets[line] = f"a hidden test of {slug}"
            elif slug not in provided:
                secrets[line] = f"a solution line of {slug}"
    return secrets


def _block_lines(source, kind: str | None) -> set[str]:
    """Stripped lines inside `### BEGIN/END <kind>` blocks, or with `kind` None, outside all."""
    inside, found = None, set()
    for cell in source.cells:
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped.startswith("### BEGIN "):
                inside = stripped.removeprefix("### BEGIN ")
            elif stripped.startswith("### END "):
                inside = None
            elif (kind is None and inside is None) or (kind is not None and inside == kind):
                found.add(stripped)
    return found


def find_leaks(paths: Paths, files: dict[str, bytes], provided: set[str]) -> list[tuple[str, str]]:
    """(file, why) for every file that holds a secret line or a solution marker."""
    secrets = secret_lines(paths, provided)
    leaks = []
    for name, data in files.items():
        why = leak_in(data.decode("utf-8", errors="replace"), secrets)
        if why:
            leaks.append((name, why))
    return leaks


def leak_in(text: str, secrets: dict[str, str]) -> str:
    lines = {line.strip() for line in _text_lines(text)}
    for marker in _MARKERS:
        if marker in lines:
            return f"contains the marker {marker!r}"
    for line in sorted(lines & secrets.keys()):
        return f"contains {secrets[line]}: {line[:80]!r}"
    return ""


def _text_lines(text: str) -> list[str]:
    """Lines of a file, and of every cell of a notebook (whose JSON holds sources as strings)."""
    lines = text.splitlines()
    try:
        data = json.loads(text)
    except ValueError:
        return lines
    if isinstance(data, dict) and "cells" in data:
        for cell in data["cells"]:
            source = cell.get("source", "")
            lines += ("".join(source) if isinstance(source, list) else source).splitlines()
    return lines


def git_objects_text(repository: Path) -> str:
    """The content of every object in a repository's database (for leak scans)."""
    listing = _git(repository, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
    blobs = [line.split()[0] for line in listing.splitlines() if line.endswith(" blob")]
    return "\n".join(_git(repository, "cat-file", "-p", blob) for blob in blobs)


# -- writing ---------------------------------------------------------------------------------------------
def _git(folder: Path, *args: str, env: dict | None = None) -> str:
    result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise TitoError(f"git {' '.join(args[:2])} failed in {folder}: {result.stderr.strip()[:300]}")
    return result.stdout


def _commit_date(paths: Paths) -> str:
    """The instructor repository's last commit date, so the same sources give the same commit."""
    try:
        return _git(paths.root, "log", "-1", "--format=%cI").strip() or "2026-01-01T00:00:00+00:00"
    except TitoError:
        return "2026-01-01T00:00:00+00:00"


def _write_repository(paths: Paths, target: Path, files: dict[str, bytes]) -> str:
    existing = (target / ".git").is_dir() and (target / MANIFEST).is_file()
    if target.exists() and not existing and any(target.iterdir()):
        raise TitoError(f"{target} exists and is not empty (nor a student edition to update); nothing was written.",
                        "Give --to a new folder, or the folder of an earlier student edition.")
    date = _commit_date(paths)
    env = IDENTITY | {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    message = "TinyTorch student edition\n\nGenerated by `tito release student`; do not edit.\n"
    if existing:
        tracked = _git(target, "ls-files", "-z").split("\0")
        for name in filter(None, tracked):
            if name not in files:
                (target / name).unlink(missing_ok=True)
        _write_tree(target, files)
        _git(target, "add", "--all", "--", *files.keys())
        _git(target, "add", "--update")
        if _git(target, "status", "--porcelain", "--untracked-files=no").strip():
            _git(target, "commit", "-q", "-m", message, env=env)
        return _git(target, "rev-parse", "HEAD").strip()
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _write_tree(building, files)
        _git(building, "init", "-q", "-b", "main")
        _git(building, "add", "--all")
        _git(building, "commit", "-q", "-m", message, env=env)
        commit = _git(building, "rev-parse", "HEAD").strip()
        if target.exists():
            target.rmdir()  # empty, checked above
        building.chmod(0o755)  # mkdtemp made it private
        os.replace(building, target)
        return commit
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if name == "binder/postBuild":
            path.chmod(0o755)
