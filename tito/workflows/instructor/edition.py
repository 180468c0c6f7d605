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
import string
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tito.course import export, markers, notebooks
from tito.course.paths import MANIFEST, Paths
from tito.course.registry import Module, discover, resolve
from tito.course.requirements import course_requirements
from tito.coursedir.release import student_version
from tito.errors import TitoError
from tito.workflows.student import expected_tests

INSTRUCTOR_PART = "instructor"  # a subpackage or module of tito by this name never ships to students
PACKAGE_FILES = ["tinytorch/__init__.py", "tinytorch/core/__init__.py", "tinytorch/profiling.py"]
TEMPLATES = Path(__file__).parent / "templates"  # the edition's own files (README, pyproject, Binder, .gitignore)
IDENTITY = {"GIT_AUTHOR_NAME": "TinyTorch course", "GIT_AUTHOR_EMAIL": "course@tinytorch.invalid",
            "GIT_COMMITTER_NAME": "TinyTorch course", "GIT_COMMITTER_EMAIL": "course@tinytorch.invalid"}


@dataclass
class ReleaseResult:
    folder: Path
    files: list[str]
    commit: str
    summary: list[str] = field(default_factory=list)


def release(paths: Paths, target: Path, provide: list[str], withdraw: list[str] = ()) -> ReleaseResult:
    """Write (or update) the student edition at `target`. An update keeps providing what the
    edition provides already (students who pull would lose those builds) unless `withdraw`
    names it."""
    if paths.is_student_edition:
        raise TitoError("This is a student edition: editions are released from the instructor's repository.")
    withdrawn = {resolve(paths, name).slug for name in withdraw}
    kept = provided_in(target) - withdrawn
    provided = ({resolve(paths, name).slug for name in provide} | kept) - withdrawn
    files = edition_files(paths, provided)
    leaks = find_leaks(paths, files, provided)
    if leaks:
        raise TitoError("The student edition would contain answers; nothing was written. Offending files:\n"
                        + "\n".join(f"  {name}: {why}" for name, why in leaks),
                        "Remove the solution or hidden-test lines from those files, or leave the files out.")
    commit = _write_repository(paths, target, files)
    modules = discover(paths)
    summary = [f"{m.slug}: " + ("provided (reference build shipped" + (", kept from the current edition)"
                                                                       if m.slug in kept else ")")
                                if m.slug in provided else "graded (no build)"
                                + (", withdrawn: students who pull lose its build" if m.slug in withdrawn else ""))
               for m in modules]
    return ReleaseResult(target, sorted(files), commit, summary)


def provided_in(edition: Path) -> set[str]:
    """The modules an existing edition at `edition` provides (none if there is no edition)."""
    try:
        manifest = json.loads((edition / MANIFEST).read_text(encoding="utf-8"))
        return {entry["slug"] for entry in manifest["modules"] if entry.get("provided")}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


# -- the tree -----------------------------------------------------------------------------------------
def edition_files(paths: Paths, provided: set[str]) -> dict[str, bytes]:
    """Every file of the edition, by relative path."""
    modules = discover(paths)
    files: dict[str, bytes] = {}
    entries = []
    for module in modules:
        source = notebooks.read_source(module)
        release_notebook = with_provided_prerequisites(student_version(source, paths), module, modules, provided)
        files[f".course/{module.slug}/{module.notebook_name}"] = notebooks.dumps(release_notebook).encode()
        entries.append(_manifest_entry(paths, module, source, module.slug in provided))
        if module.slug in provided:
            files[module.package_file.relative_to(paths.root).as_posix()] = export.reference_build(module).encode()
        for test in sorted(module.tests.glob("*.py")) if module.tests.is_dir() else []:
            files[test.relative_to(paths.root).as_posix()] = test.read_bytes()
    files[MANIFEST.as_posix()] = (json.dumps({"edition": "student", "modules": entries}, indent=2) + "\n").encode()
    for name in PACKAGE_FILES:
        files[name] = (paths.root / name).read_bytes()
    for path in student_tito(paths):
        files[path.relative_to(paths.root).as_posix()] = path.read_bytes()
    files["nbgrader_config.py"] = paths.nbgrader_config.read_bytes()
    files["pyproject.toml"] = _pyproject(paths).encode()
    files["README.md"] = _readme(modules, provided, entries).encode()
    files[".gitignore"] = (TEMPLATES / "gitignore").read_bytes()
    files["binder/requirements.txt"] = _template("binder-requirements.txt",
                                                 requirements="\n".join(course_requirements(paths))).encode()
    files["binder/postBuild"] = (TEMPLATES / "postBuild").read_bytes()
    files["binder/apt.txt"] = b"bubblewrap\n"  # the sandbox tito grades in
    return dict(sorted(files.items()))


def _manifest_entry(paths: Paths, module: Module, source, provided: bool) -> dict:
    graded = [cell for cell in source.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    hidden = [cell for cell in graded if markers.has_hidden_tests(cell.source)]
    entry = {"slug": module.slug, "notebook": module.notebook_name, "export_target": module.export_target,
             "max_score": sum(float(c.metadata["nbgrader"]["points"]) for c in graded),
             "hidden_cells": [c.metadata["nbgrader"]["grade_id"] for c in hidden],
             "hidden_points": sum(float(c.metadata["nbgrader"]["points"]) for c in hidden),
             "provided": provided, "package_tests": []}
    if module.tests.is_dir():
        entry["package_tests"] = expected_tests(paths, module)
    return entry


_PREREQUISITES = "**Prerequisites:**"


def with_provided_prerequisites(notebook, module: Module, modules: list[Module], provided: set[str]):
    """The notebook, where every module it builds on is provided (shipped as your
    instructor's build), with its prerequisites paragraph saying so instead of asking the
    student to complete them first."""
    earlier = [m for m in modules if m.number < module.number]
    if not earlier or not all(m.slug in provided for m in earlier):
        return notebook
    names = " and ".join(f"Module {m.number}" for m in earlier)
    sentence = (f"{_PREREQUISITES} {names} {'is' if len(earlier) == 1 else 'are'} provided: your instructor's "
                f"build ships with this edition (`tito module list` shows "
                f"{'it' if len(earlier) == 1 else 'them'} as provided), so you can start here.")
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and _PREREQUISITES in cell.source:
            paragraphs = cell.source.split("\n\n")
            cell.source = "\n\n".join(sentence if _PREREQUISITES in p else p for p in paragraphs)
    return notebook


def student_tito(paths: Paths) -> list[Path]:
    """tito without its instructor parts: every module but those in a subpackage or module
    named `instructor` (the instructor's workflows, the CLI's instructor commands)."""
    package = paths.root / "tito"
    return sorted(path for path in package.rglob("*.py")
                  if INSTRUCTOR_PART not in path.relative_to(package).with_suffix("").parts)


def _template(name: str, **values: str) -> str:
    return string.Template((TEMPLATES / name).read_text(encoding="utf-8")).substitute(values)


def _pyproject(paths: Paths) -> str:
    project = tomllib.loads(paths.root.joinpath("pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = ",\n    ".join(f'"{d}"' for d in course_requirements(paths))
    return _template("pyproject.toml.in", version=project["version"], requires_python=project["requires-python"],
                     dependencies=dependencies)


def _readme(modules: list[Module], provided: set[str], entries: list[dict]) -> str:
    rows = "\n".join(f"| {e['slug']} | `modules/{e['slug']}/{e['notebook']}` | {e['max_score']:g} | "
                     f"{_graded_text(e, e['slug'] in provided)} |" for e in entries)
    first = next((m for m in modules if m.slug not in provided), modules[0])
    done = [m for m in modules if m.slug in provided]
    given = (f"{' and '.join(m.slug for m in done)} {'is' if len(done) == 1 else 'are'} provided (your instructor's "
             "build ships with this edition): you start with " + first.slug + ".\n\n") if done else ""
    return _template("README.md", rows=rows, first=first.slug, first_notebook=f"modules/{first.slug}/"
                     f"{first.notebook_name}", provided=given)


def _graded_text(entry: dict, provided: bool) -> str:
    """What the table says of a module's points, in whole sentences."""
    if provided:
        return "provided: not graded (your instructor's build ships with this edition)"
    hidden, visible = entry["hidden_points"], entry["max_score"] - entry["hidden_points"]
    if not hidden:
        return f"all {entry['max_score']:g} points: every check runs here (`tito module test`)"
    if not visible:
        return "every test cell runs here; your instructor's grading adds hidden checks to each"
    return (f"visible tests: {visible:g} points you can check here; hidden checks: {hidden:g} points, graded by "
            "your instructor")




# -- checks ---------------------------------------------------------------------------------------------
_GENERIC = re.compile(r"^(except\b.*|else:|try:|finally:|pass|return\b.*|raise|break|continue|[\w.]+\(\))$")


def secret_lines(paths: Paths, provided: set[str]) -> dict[str, str]:
    """Lines that must not appear in the edition: {line: which module's what}. A line that
    some module shows students anyway (outside its solution and hidden blocks) is no
    secret, nor is a short structural line (`except ValueError:`, `return x`)."""
    cells = {module.slug: [cell.source for cell in notebooks.read_source(module).cells] for module in discover(paths)}
    visible = set().union(*(markers.block_lines(sources, None) for sources in cells.values()))
    secrets = {}
    for slug, sources in cells.items():
        hidden = markers.block_lines(sources, markers.HIDDEN_TESTS)
        for line in markers.block_lines(sources, markers.SOLUTION) | hidden:
            if len(line) < 16 or line.startswith("#") or line in visible or _GENERIC.match(line):
                continue
            if line in hidden:
                secrets[line] = f"a hidden test of {slug}"
            elif slug not in provided:
                secrets[line] = f"a solution line of {slug}"
    return secrets


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
    for marker in markers.ALL:
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
