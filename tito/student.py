"""What the student commands do; the CLI only parses arguments and prints.

The notebook and grading machinery (nbformat, jupytext, nbgrader) is imported inside the
functions that need it, so that `tito module list` answers at once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tito import progress
from tito.errors import TitoError
from tito.fileops import atomic_write_text, backup_file
from tito.paths import Paths
from tito.registry import Module, discover, prerequisites

if TYPE_CHECKING:
    from tito.grading import GradeReport


@dataclass
class ModuleStatus:
    module: Module
    state: str  # "not started" | "in progress" | "completed"
    score: float | None
    max_score: float | None


def status(paths: Paths) -> list[ModuleStatus]:
    done = progress.load(paths)
    rows = []
    for module in discover(paths):
        entry = done.get(module.slug, {})
        if entry.get("completed"):
            state = "completed"
        elif module.student_notebook.exists():
            state = "in progress"
        else:
            state = "not started"
        rows.append(ModuleStatus(module, state, entry.get("score"), entry.get("max_score")))
    return rows


def _child_environment(paths: Paths) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(paths.root), *filter(None, [env.get("PYTHONPATH")])])
    return env


def importable(paths: Paths, module: Module) -> str:
    """'' if the module's package file imports cleanly, else the error's last line."""
    if not module.package_file.is_file():
        return f"{module.package_file.relative_to(paths.root)} does not exist"
    result = subprocess.run([sys.executable, "-c", f"import {module.import_name}"], cwd=paths.root,
                            env=_child_environment(paths), capture_output=True, text=True)
    if result.returncode == 0:
        return ""
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit code {result.returncode}"


def check_prerequisites(paths: Paths, module: Module) -> None:
    for earlier in prerequisites(paths, module):
        problem = importable(paths, earlier)
        if problem:
            raise TitoError(
                f"{module.slug} needs {earlier.slug}, but {earlier.import_name} cannot be imported: {problem}",
                f"Finish it with `tito module complete {earlier.slug}`, or restore the reference "
                f"build with `tito module reset {earlier.slug} --package`.",
            )


def fresh_notebook(module: Module):
    from tito import notebooks

    return notebooks.student_version(notebooks.read_source(module))


def start(paths: Paths, module: Module) -> tuple[Path, bool]:
    """Create the student's notebook if missing; returns (path, created). Never overwrites."""
    check_prerequisites(paths, module)
    path = module.student_notebook
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    from tito import notebooks

    payload = notebooks.dumps(fresh_notebook(module)).encode("utf-8")
    # O_EXCL: if the file appeared meanwhile, we still do not overwrite it.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return path, False
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(payload)
    return path, True


def lab_command(path: Path) -> list[str]:
    command = [sys.executable, "-m", "jupyter", "lab", str(path)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


def test(paths: Paths, module: Module, reference: bool = False) -> GradeReport:
    """Grade the student's notebook (or the reference solution) with the nbgrader engine."""
    from tito import grading, notebooks

    if reference:
        notebook = grading.nbgrader_source(module)
        report = grading.grade_notebook(module, paths, notebook, student="reference")
        report.flags = [f for f in report.flags if not f.startswith("locked cell edited")]
        return report
    return _grade_own(paths, module, notebooks.load(module.student_notebook, module))


def _grade_own(paths: Paths, module: Module, notebook) -> GradeReport:
    """Grade a student's notebook already read, and record the score."""
    from tito import grading, notebooks

    missing = notebooks.missing_graded_cells(notebook, notebooks.read_source(module))
    report = grading.grade_notebook(module, paths, notebook)
    if missing:
        report.flags.append(
            f"graded cells deleted from your notebook: {', '.join(missing)} "
            f"(restored for grading; `tito module reset {module.slug}` gives a fresh copy after a backup)"
        )
    progress.record(paths, module.slug, score=report.score, max_score=report.max_score)
    return report


def passes(report: GradeReport) -> bool:
    """Full marks, with no deleted or edited graded cells."""
    tampering = any(f.startswith(("locked cell edited", "cells missing", "graded cells deleted"))
                    for f in report.flags)
    return report.full_marks and not tampering


@dataclass
class CompleteResult:
    report: GradeReport
    exported: bool
    package_file: Path
    pytest_output: str = ""


def complete(paths: Paths, module: Module) -> CompleteResult:
    """Grade the student's notebook; only at full marks export *their* code into the
    package and record progress, and only if the module's tests pass against that code.

    The tests run on a sandbox copy of the package holding the student's build, alongside
    the grading (both cores), so the real package file is replaced only when both pass.
    """
    from tito import export, notebooks

    check_prerequisites(paths, module)
    notebook = notebooks.load(module.student_notebook, module)  # read once: graded and exported alike
    candidate = export.student_build(notebook, module)
    target = module.package_file
    paths.state.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="complete-", dir=paths.state) as sandbox:
        tests = _start_module_tests(paths, module, _sandbox_package(paths, module, candidate, Path(sandbox)))
        try:
            report = _grade_own(paths, module, notebook)
        except BaseException:
            tests.kill()
            raise
        if not passes(report):
            tests.kill()
            tests.communicate()
            return CompleteResult(report, False, target)
        output, _ = tests.communicate()
    if tests.returncode not in (0, 5):  # 5: the module has no tests
        return CompleteResult(report, False, target, output.strip())
    if target.exists():
        backup_file(target, paths.backups / module.slug)
    atomic_write_text(target, candidate)
    progress.record(paths, module.slug, completed=True, score=report.score, max_score=report.max_score)
    return CompleteResult(report, True, target, output.strip())


def _sandbox_package(paths: Paths, module: Module, candidate: str, sandbox: Path) -> Path:
    """A copy of the tinytorch package with the student's build in place of the module."""
    shutil.copytree(paths.package, sandbox / "tinytorch", ignore=shutil.ignore_patterns("__pycache__"))
    (sandbox / module.package_file.relative_to(paths.root)).write_text(candidate, encoding="utf-8")
    return sandbox


def _start_module_tests(paths: Paths, module: Module, package_root: Path) -> subprocess.Popen:
    # `python -m` puts the working directory first on sys.path: it must be the sandbox, or
    # the checkout's own tinytorch would shadow the student's build.
    env = dict(os.environ, PYTHONPATH=str(package_root))
    tests = module.tests if module.tests.is_dir() else paths.tests / "__no_tests__"
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(paths.root), str(tests)],
        cwd=package_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


@dataclass
class ResetResult:
    notebook: Path
    notebook_backup: Path | None
    package_backup: Path | None = None
    package_restored: bool = False


def reset(paths: Paths, module: Module, package: bool = False) -> ResetResult:
    """Back up the student's notebook, then write a fresh copy (and the reference package
    file with `package`, after backing up theirs)."""
    from tito import export, notebooks

    path = module.student_notebook
    backup = backup_file(path, paths.backups / module.slug) if path.exists() else None
    notebooks.write(fresh_notebook(module), path)
    result = ResetResult(path, backup)
    if package:
        target = module.package_file
        if target.exists():
            result.package_backup = backup_file(target, paths.backups / module.slug)
        atomic_write_text(target, export.reference_build(module))
        result.package_restored = True
        data = progress.load(paths).get(module.slug, {})
        if data.get("completed"):
            progress.record(paths, module.slug, completed=False)
    return result
