"""`tito`: the command line. Each command parses its arguments, calls one library function
(tito.student, tito.instructor, tito.export, tito.doctor) and prints the result."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings
from pathlib import Path

from tito.errors import TitoError


def _paths():
    from tito.paths import get_paths

    return get_paths()


def _module(paths, name):
    from tito.registry import resolve

    return resolve(paths, name)


def _modules(paths, names):
    from tito.registry import discover

    return [_module(paths, name) for name in names] if names else discover(paths)


def _relative(paths, path: Path) -> str:
    try:
        return str(path.relative_to(paths.root))
    except ValueError:
        return str(path)


# -- module ---------------------------------------------------------------------------------
def cmd_module_list(args) -> int:
    from rich.table import Table

    from tito import student, ui

    paths = _paths()
    table = Table(title="TinyTorch modules", title_justify="left")
    for column in ("module", "state", "points", "notebook"):
        table.add_column(column)
    colours = {"completed": "green", "in progress": "yellow", "not started": "dim"}
    for row in student.status(paths):
        points = "—" if row.score is None else f"{row.score:g}/{row.max_score:g}"
        table.add_row(row.module.slug, f"[{colours[row.state]}]{row.state}[/]", points,
                      _relative(paths, row.module.student_notebook))
    ui.console.print(table)
    return 0


def cmd_module_start(args) -> int:
    from tito import student, ui

    paths = _paths()
    module = _module(paths, args.module)
    path, created = student.start(paths, module)
    where = _relative(paths, path)
    if created:
        ui.console.print(f"[green]Created[/] {where}")
    else:
        ui.console.print(f"{where} already exists: it was left as it is (your work is safe).")
    if args.no_lab:
        ui.console.print(f"Open it with: jupyter lab {where}")
        return 0
    command = student.lab_command(path)
    ui.console.print(f"Starting JupyterLab: {' '.join(command)}")
    return subprocess.call(command, cwd=paths.root)


def _print_report(report, title) -> None:
    from tito import ui

    ui.console.print(ui.grade_table(report, title))
    ui.show_flags(report)


def cmd_module_test(args) -> int:
    from tito import student, ui

    paths = _paths()
    module = _module(paths, args.module)
    started = time.perf_counter()
    what = "reference solution" if args.reference else _relative(paths, module.student_notebook)
    with ui.console.status(f"Grading {what} with nbgrader…"):
        report = student.test(paths, module, reference=args.reference)
    _print_report(report, f"{module.slug}: {what} ({time.perf_counter() - started:.1f} s)")
    ok = student.passes(report) if not args.reference else report.full_marks
    if ok:
        ui.console.print("[green]Full marks.[/]" + ("" if args.reference else
                         f" Next: tito module complete {module.slug}"))
    return 0 if ok else 1


def cmd_module_complete(args) -> int:
    from tito import student, ui

    paths = _paths()
    module = _module(paths, args.module)
    with ui.console.status(f"Grading {_relative(paths, module.student_notebook)} with nbgrader…"):
        result = student.complete(paths, module)
    _print_report(result.report, f"{module.slug}: your notebook")
    target = _relative(paths, result.package_file)
    if result.exported:
        ui.console.print(f"[green]Completed {module.slug}:[/] your code is now {target} "
                         f"(the package's tests pass against it).")
        return 0
    if not student.passes(result.report):
        ui.error(f"{module.slug} is not complete: nothing was exported, {target} is unchanged.",
                 "Fix the failing cells above, run `tito module test " + module.slug + "`, then try again.")
    else:
        ui.error(f"Your notebook has full marks, but the package tests in {_relative(paths, module.tests)} "
                 f"fail against your code; nothing was exported, {target} is unchanged.",
                 "Read the failures below, fix your notebook, and run complete again.")
        ui.errors.print(result.pytest_output[-3000:])
    return 1


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return True  # no one to ask; the backup keeps everything recoverable
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def cmd_module_reset(args) -> int:
    from tito import student, ui

    paths = _paths()
    module = _module(paths, args.module)
    what = _relative(paths, module.student_notebook)
    extra = f" and {_relative(paths, module.package_file)}" if args.package else ""
    if not args.yes and not _confirm(f"Replace {what}{extra} with a fresh copy (a backup is kept)?"):
        ui.console.print("Nothing changed.")
        return 1
    result = student.reset(paths, module, package=args.package)
    if result.notebook_backup:
        ui.console.print(f"Backed up your notebook to {_relative(paths, result.notebook_backup)}")
    ui.console.print(f"[green]Fresh copy:[/] {what}")
    if result.package_restored:
        if result.package_backup:
            ui.console.print(f"Backed up {_relative(paths, module.package_file)} to "
                             f"{_relative(paths, result.package_backup)}")
        ui.console.print(f"[green]Restored the reference build:[/] {_relative(paths, module.package_file)}")
    return 0


# -- src -----------------------------------------------------------------------------------
def cmd_src_export(args) -> int:
    from tito import export, ui

    paths = _paths()
    results = export.export_reference(_modules(paths, args.modules), check=args.check)
    stale = [r for r in results if r.changed]
    if args.check:
        for result in stale:
            ui.errors.print(f"[red]out of date:[/] {_relative(paths, result.path)}")
        if stale:
            ui.error(f"{len(stale)} generated file(s) differ from src/.", "Run `tito src export`.")
            return 1
        ui.console.print(f"[green]All {len(results)} generated files are up to date.[/]")
        return 0
    for result in results:
        state = "[green]updated[/]" if result.changed else "unchanged"
        ui.console.print(f"{state} {_relative(paths, result.path)}")
    return 0


# -- course --------------------------------------------------------------------------------
def cmd_course_build(args) -> int:
    """The main job on the bundled reference: package, student notebooks, graded reference."""
    from tito import export, student, ui

    paths = _paths()
    modules = _modules(paths, args.modules)
    for result in export.export_reference(modules):
        ui.console.print(f"{'[green]exported[/]' if result.changed else 'up to date'} "
                         f"{_relative(paths, result.path)}")
    all_full = True
    for module in modules:
        path, created = student.start(paths, module)
        ui.console.print(f"{'[green]created[/]' if created else 'kept (already there)'} "
                         f"{_relative(paths, path)}")
        started = time.perf_counter()
        with ui.console.status(f"Grading the {module.slug} reference solution with nbgrader…"):
            report = student.test(paths, module, reference=True)
        _print_report(report, f"{module.slug}: reference solution "
                              f"({time.perf_counter() - started:.1f} s)")
        all_full = all_full and report.full_marks
    return 0 if all_full else 1


def cmd_course_notebooks(args) -> int:
    """Create every student notebook that is missing (never overwriting one), each checked
    to hold no solution line of its source."""
    from tito import student, ui

    paths = _paths()
    for module in _modules(paths, args.modules):
        path, created = student.start(paths, module)
        ui.console.print(f"{'[green]created[/]' if created else 'kept (already there)'} {_relative(paths, path)}")
    return 0


# -- nbgrader ------------------------------------------------------------------------------
def cmd_nbgrader_generate(args) -> int:
    from tito import instructor, ui

    paths = _paths()
    module = _module(paths, args.module)
    with ui.console.status(f"Generating {module.slug} with nbgrader and checking it…"):
        result = instructor.generate(paths, module)
    ui.console.print(f"[green]Release:[/] {_relative(paths, result.release)}")
    ui.console.print(f"  reference solution: {result.reference.score:g}/{result.reference.max_score:g}")
    ui.console.print(f"  untouched release:  {result.untouched.score:g}/{result.untouched.max_score:g} "
                     "(every graded cell fails on the stubs)")
    ui.console.print("  no solution line and no hidden test in the release; nbgrader validate passes")
    return 0


def cmd_nbgrader_autograde(args) -> int:
    from tito import instructor, ui

    paths = _paths()
    module = _module(paths, args.module)
    started = time.perf_counter()
    with ui.console.status(f"Autograding {module.slug} with nbgrader…"):
        reports = instructor.autograde(paths, module, args.student, args.jobs)
    elapsed = time.perf_counter() - started
    ui.console.print(ui.batch_table(reports, f"{module.slug}: {len(reports)} submission(s), "
                                             f"{elapsed:.1f} s ({elapsed / len(reports):.2f} s each)"))
    if args.json:
        from tito import grading
        from tito.fileops import atomic_write_text

        atomic_write_text(Path(args.json), grading.report_json(reports) + "\n")
    return 0


def cmd_nbgrader_feedback(args) -> int:
    from tito import instructor, ui

    paths = _paths()
    module = _module(paths, args.module)
    pages = instructor.feedback(paths, module)
    for page in pages:
        ui.console.print(f"feedback: {_relative(paths, page)}")
    ui.console.print(f"[green]{len(pages)} feedback page(s) written.[/]")
    return 0


def cmd_nbgrader_export(args) -> int:
    from tito import instructor, ui

    paths = _paths()
    destination = instructor.export_csv(paths, Path(args.to).resolve())
    ui.console.print(f"[green]Grades written to[/] {destination}")
    return 0


# -- system --------------------------------------------------------------------------------
def cmd_system_doctor(args) -> int:
    from rich.table import Table

    from tito import doctor, ui

    checks = doctor.run_checks(_paths())
    table = Table(title="tito system doctor", title_justify="left")
    for column in ("check", "status", "detail", "how to fix"):
        table.add_column(column)
    for check in checks:
        table.add_row(check.name, "[green]ok[/]" if check.ok else "[red]missing[/]", check.detail,
                      "" if check.ok else check.fix)
    ui.console.print(table)
    return 0 if all(check.ok for check in checks) else 1


# -- parser --------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tito", description="TinyTorch course tool.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    groups = parser.add_subparsers(dest="group", required=True, metavar="{module,src,course,nbgrader,system}")

    module = groups.add_parser("module", help="student commands").add_subparsers(dest="command", required=True)
    for name in ("list", "status"):
        module.add_parser(name, help="every module with its state and points").set_defaults(func=cmd_module_list)
    start = module.add_parser("start", help="create your notebook (never overwrites) and open JupyterLab")
    start.add_argument("module")
    start.add_argument("--no-lab", action="store_true", help="only prepare the notebook")
    start.set_defaults(func=cmd_module_start)
    test = module.add_parser("test", help="grade your notebook exactly as the instructor will")
    test.add_argument("module")
    test.add_argument("--reference", action="store_true", help="grade the instructor solution instead")
    test.set_defaults(func=cmd_module_test)
    complete = module.add_parser("complete", help="at full marks, export your code into tinytorch")
    complete.add_argument("module")
    complete.set_defaults(func=cmd_module_complete)
    reset = module.add_parser("reset", help="back up your notebook and start from a fresh copy")
    reset.add_argument("module")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.add_argument("--package", action="store_true",
                       help="also restore the reference build of the module's package file")
    reset.set_defaults(func=cmd_module_reset)

    src = groups.add_parser("src", help="build commands").add_subparsers(dest="command", required=True)
    export = src.add_parser("export", help="regenerate tinytorch/core/*.py from src/")
    export.add_argument("modules", nargs="*")
    export.add_argument("--check", action="store_true", help="only list out-of-date files (exit 1 if any)")
    export.set_defaults(func=cmd_src_export)

    course = groups.add_parser("course", help="whole-course jobs").add_subparsers(dest="command", required=True)
    build = course.add_parser("build", help="export the package, prepare notebooks, grade the reference")
    build.add_argument("modules", nargs="*")
    build.set_defaults(func=cmd_course_build)
    prepare = course.add_parser("notebooks", help="create every missing student notebook (solution-free)")
    prepare.add_argument("modules", nargs="*")
    prepare.set_defaults(func=cmd_course_notebooks)

    nbgrader = groups.add_parser("nbgrader", help="instructor commands").add_subparsers(dest="command",
                                                                                         required=True)
    generate = nbgrader.add_parser("generate", help="build the release with nbgrader and check it")
    generate.add_argument("module")
    generate.set_defaults(func=cmd_nbgrader_generate)
    autograde = nbgrader.add_parser("autograde", help="grade every submission of a module")
    autograde.add_argument("module")
    autograde.add_argument("--student", help="grade only this student")
    autograde.add_argument("--jobs", type=_positive_int, help="parallel graders (default: 2 on large batches)")
    autograde.add_argument("--json", metavar="FILE", help="also write every cell's score to FILE as JSON")
    autograde.set_defaults(func=cmd_nbgrader_autograde)
    feedback = nbgrader.add_parser("feedback", help="write HTML feedback for graded submissions")
    feedback.add_argument("module")
    feedback.set_defaults(func=cmd_nbgrader_feedback)
    csv = nbgrader.add_parser("export", help="write nbgrader's grades CSV")
    csv.add_argument("--to", default="grades.csv", metavar="FILE.csv")
    csv.set_defaults(func=cmd_nbgrader_export)

    system = groups.add_parser("system", help="environment checks").add_subparsers(dest="command",
                                                                                    required=True)
    system.add_parser("doctor", help="check Python, packages, kernel and tinytorch").set_defaults(
        func=cmd_system_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.debug:
        warnings.filterwarnings("ignore")  # library deprecation chatter is not for students
    try:
        return args.func(args)
    except TitoError as problem:
        if args.debug:
            raise
        from tito import ui

        ui.error(problem.message, problem.hint)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as problem:  # noqa: BLE001  (the CLI's last line of defence)
        if args.debug:
            raise
        from tito import ui

        ui.error(f"unexpected {type(problem).__name__}: {problem}",
                 "Run the same command with --debug for the full traceback, and report it.")
        return 1
