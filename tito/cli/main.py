"""`tito`: the command line. Each command parses its arguments, calls one library function
of tito.workflows and prints the result (tito.cli.student, tito.cli.instructor). In a
student edition only the student commands exist."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from tito.cli import student, ui
from tito.cli.shared import TitoParser
from tito.course.paths import get_paths
from tito.errors import TitoError


def build_parser(instructor: bool = True) -> argparse.ArgumentParser:
    parser = TitoParser(prog="tito", description="TinyTorch course tool.",
                        epilog="examples:\n  tito module list\n  tito module test 03_layers\n  tito system doctor")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("--version", action=VersionAction, help="show tito's version and the course it acts on")
    names = "{module,src,course,nbgrader,release,system}" if instructor else "{module,system}"
    groups = parser.add_subparsers(dest="group", required=True, metavar=names)
    student.add_commands(groups, instructor)
    if instructor:
        from tito.cli import instructor as instructor_cli  # absent from the student edition

        instructor_cli.add_commands(groups)
    student.add_system_commands(groups)
    return parser


class VersionAction(argparse.Action):
    """`tito --version`: the installed distribution's version (looked up only when asked)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib import metadata

        names = metadata.packages_distributions().get("tito", [])
        version = metadata.version(names[0]) if names else "unknown"
        try:
            course = f", course at {get_paths().root}"
        except TitoError:
            course = ", no course found here"
        ui.say(f"tito {version} ({names[0] if names else 'not installed'}{course})")
        parser.exit()


def _is_instructor_edition() -> bool:
    try:
        return not get_paths().is_student_edition
    except TitoError:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(_is_instructor_edition())
    if not (argv if argv is not None else sys.argv[1:]):
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    if not args.debug:
        warnings.filterwarnings("ignore")  # library deprecation chatter is not for students
        # after Ctrl-C, asyncio reports the kernel tasks it abandoned; the user needs none of that
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    try:
        return args.func(args)
    except TitoError as problem:
        if args.debug:
            raise
        ui.error(problem.message, problem.hint)
        return 1
    except KeyboardInterrupt:
        ui.say_error(("Interrupted: nothing was recorded and no file was changed.", "yellow"))
        return 130
    except Exception as problem:  # noqa: BLE001  (the CLI's last line of defence)
        if args.debug:
            raise
        ui.error(f"unexpected {type(problem).__name__}: {problem}",
                 "Run the same command with --debug for the full traceback, and report it.")
        return 1
