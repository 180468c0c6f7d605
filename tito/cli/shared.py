"""What the CLI's commands share: finding the course and its modules, paths as the user
reads them, the sandbox warning, and a grade report on the terminal."""

from __future__ import annotations

import argparse
import difflib
import os
import re
from pathlib import Path

from tito.cli import ui
from tito.course.paths import Paths, get_paths
from tito.course.registry import Module, discover, resolve
from tito.grading.report import GradeReport


def current_paths() -> Paths:
    """The course tito acts on; said on stderr when the current folder is outside it (the
    checkout tito was installed from is used then)."""
    paths = get_paths()
    here = Path.cwd().resolve()
    if not os.environ.get("TITO_ROOT") and paths.root != here and paths.root not in here.parents:
        ui.warning(f"not inside a course folder: using the course at {paths.root}. cd into your course, or set "
                   "TITO_ROOT to it.")
    return paths


def module_named(paths: Paths, name: str) -> Module:
    return resolve(paths, name)


def modules_named(paths: Paths, names: list[str]) -> list[Module]:
    return [module_named(paths, name) for name in names] if names else discover(paths)


def relative(paths: Paths, path: Path) -> str:
    try:
        return str(path.relative_to(paths.root))
    except ValueError:
        return str(path)


def module_to_grade(args) -> tuple[Paths, Module, bool]:
    """The course, the module `args` names, and whether student code runs sandboxed (warned if not)."""
    paths = current_paths()
    return paths, module_named(paths, args.module), warn_unsandboxed(args)


def warn_unsandboxed(args) -> bool:
    """False (with a warning) for --no-sandbox; else True, and the sandbox probe starts now,
    beside the imports and setup that come before the first sandboxed run."""
    if getattr(args, "no_sandbox", False):
        ui.warning("--no-sandbox: student code runs WITHOUT isolation; it can read and change anything you can. "
                   "The report records this.")
        return False
    from tito.sandbox import bwrap

    bwrap.probe_in_background()
    return True


def print_report(report: GradeReport, title: str) -> None:
    ui.console.print(ui.grade_table(report, title))
    ui.show_flags(report)
    if report.hidden_points:
        ui.say((f"ℹ {report.hidden_points:g} of these points also depend on hidden checks", "cyan"), " that only "
               "your instructor's grading runs: full marks here do not guarantee full marks there.")


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def no_sandbox_option(parser) -> None:
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run student code without the bubblewrap sandbox (only for code you trust)")




_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<given>[^']*)' \(choose from (?P<choices>.*)\)")


class TitoParser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a mistyped command, and help texts laid out as
    written (each command's example keeps its lines)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        found = _INVALID_CHOICE.search(message)
        if found:
            choices = re.findall(r"'([^']*)'", found["choices"])
            close = difflib.get_close_matches(found["given"], choices, n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
        elif "required: module" in message and self.prog.startswith("tito nbgrader"):
            message += (" (give the module before options that take several values, e.g. "
                        f"`{self.prog} 03_layers --student ada bob`)")
        super().error(message)


def command(group, name: str, summary: str, example: str, aliases: tuple[str, ...] = ()) -> argparse.ArgumentParser:
    """A subcommand whose help shows `summary` and an example (one command a line)."""
    return group.add_parser(name, help=summary, description=summary[:1].upper() + summary[1:] + ".",
                            epilog="example:\n" + "\n".join(f"  {line}" for line in example.splitlines()),
                            aliases=list(aliases))


def module_argument(parser: argparse.ArgumentParser, optional: bool = False) -> None:
    parser.add_argument("module", nargs="?" if optional else None,
                        help="the module: its folder name, number or name (03_layers, 03 or layers)")
