"""What the CLI's commands share: finding the course and its modules, paths as the user
reads them, the sandbox warning, and a grade report on the terminal."""

from __future__ import annotations

import argparse
from pathlib import Path

from tito.cli import ui
from tito.course.paths import Paths, get_paths
from tito.course.registry import Module, discover, resolve
from tito.grading.report import GradeReport


def current_paths() -> Paths:
    return get_paths()


def module_named(paths: Paths, name: str) -> Module:
    return resolve(paths, name)


def modules_named(paths: Paths, names: list[str]) -> list[Module]:
    return [module_named(paths, name) for name in names] if names else discover(paths)


def relative(paths: Paths, path: Path) -> str:
    try:
        return str(path.relative_to(paths.root))
    except ValueError:
        return str(path)


def warn_unsandboxed(args) -> bool:
    if getattr(args, "no_sandbox", False):
        ui.warning("--no-sandbox: student code runs WITHOUT isolation; it can read and change anything you can. "
                   "The report records this.")
        return False
    return True


def print_report(report: GradeReport, title: str) -> None:
    ui.console.print(ui.grade_table(report, title))
    ui.show_flags(report)
    if report.hidden_points:
        ui.say((f"ℹ {report.hidden_points:g} points are graded by your instructor:", "cyan"), " the cells marked "
               "in the notebook also run hidden checks that this test cannot see.")


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def no_sandbox_option(parser) -> None:
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run student code without the bubblewrap sandbox (only for code you trust)")


