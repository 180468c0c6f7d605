"""`tito system doctor`: is this environment ready for the course, and how to fix it."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass

from tito.course.paths import Paths
from tito.course.registry import discover
from tito.course.requirements import course_requirements, distribution
from tito.workflows.student import importable


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True  # False: reported, but grading works without it (resource limits, a module to do)
    states: tuple[str, str] = ("ok", "missing")  # what the status column says when ok, and when not


def run_checks(paths: Paths) -> list[Check]:
    checks = [Check("Python ≥ 3.11", sys.version_info >= (3, 11), sys.version.split()[0],
                    "Install Python 3.11 or newer (nbgrader 0.9 needs it) and recreate the virtual environment.")]
    install = _install_command(paths)
    for package in [distribution(requirement) for requirement in course_requirements(paths)]:
        found = importlib.util.find_spec(package) is not None
        checks.append(Check(f"package {package}", found, "installed" if found else "missing", install))
    checks.append(_kernel_check(install))
    checks.append(_sandbox_check())
    checks += _limit_checks(paths)
    for module in discover(paths):
        problem = importable(paths, module)
        # a module not built yet is the student's work still to do, not a broken environment
        not_yet = problem.endswith("is not built yet")
        checks.append(Check(f"import {module.import_name}", not problem, problem or "ok", _build_fix(paths, module),
                            required=not not_yet, states=("ok", "not built yet" if not_yet else "missing")))
    return checks


def _install_command(paths: Paths) -> str:
    """The student edition declares the course tools as plain dependencies; this
    repository keeps them in the `dev` extra."""
    return "pip install -e ." if paths.is_student_edition else 'pip install -e ".[dev]"'


def _build_fix(paths: Paths, module) -> str:
    if module.completed_file.is_file():
        return f"your build of {module.slug} does not import: run `tito module complete {module.slug}` again"
    if paths.is_student_edition:
        return f"finish modules/{module.slug}/ and run `tito module complete {module.slug}`"
    return f"regenerate the reference build: `tito src export {module.slug}`"


def _kernel_check(install: str) -> Check:
    from tito.course import notebooks  # nbformat: 0.1 s to import, only for this check

    name = notebooks.kernel_name()
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return Check(f"Jupyter kernel '{name}'", False, "jupyter_client missing", install)
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return Check(f"Jupyter kernel '{name}'", False, "not installed",
                     f"python -m ipykernel install --user --name {name}")
    return Check(f"Jupyter kernel '{name}'", True, spec.argv[0])


def _limit_checks(paths: Paths) -> list[Check]:
    """Each resource limit of the sandbox (as nbgrader_config.py sets it), in force or not
    (grading works either way, and its reports say so)."""
    from tito.coursedir.config import load_config
    from tito.sandbox import limits
    from tito.sandbox.bwrap import TinyTorchSandbox

    configured = TinyTorchSandbox(config=load_config(paths)).limits()
    amounts = {"memory": configured.named("memory"), "processes": configured.named("processes"),
               "disk": configured.named("disk"), "rlimits": configured.named("open files") + " and the above"}
    fixes = {"memory": "run the grader as root (cgroup v1), or in a delegated cgroup v2 scope: "
                       "systemd-run --user --scope -p Delegate=yes tito …",
             "processes": "as for memory", "disk": "", "rlimits": "install util-linux (prlimit)"}
    return [Check(f"limit: {m.name}", m.in_force, f"{amounts[m.name]}: {m.how}", fixes.get(m.name, ""),
                  required=False, states=("in force", "not in force")) for m in limits.availability()]


def _sandbox_check() -> Check:
    from tito.sandbox import bwrap as sandbox

    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as problem:
        return Check("sandbox (bubblewrap)", False, problem.message, problem.hint)
    return Check("sandbox (bubblewrap)", True, "bwrap works: student code runs isolated")
