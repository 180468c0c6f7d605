"""`tito`: the command line. Each command parses its arguments, calls one library function
(tito.student, tito.instructor, tito.export, tito.edition, tito.doctor) and prints the
result. In a student edition only the student commands exist."""

from __future__ import annotations

import argparse
import logging
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


def _warn_unsandboxed(args) -> bool:
    from tito import ui

    if getattr(args, "no_sandbox", False):
        ui.warning("--no-sandbox: student code runs WITHOUT isolation; it can read and change anything you can. "
                   "The report records this.")
        return False
    return True


# -- module ---------------------------------------------------------------------------------
def cmd_module_list(args) -> int:
    from rich.text import Text

    from tito import student, ui

    paths = _paths()
    table = ui.table("TinyTorch modules", ["module", "state", "points", "notebook"])
    colours = {"completed": "green", "in progress": "yellow", "not started": "dim"}
    notes = []
    for row in student.status(paths):
        points = "—" if row.score is None else f"{row.score:g}/{row.max_score:g}"
        if row.state == "completed":
            points += " (completed with)"
        elif row.score is not None:
            points += " (last test)"
        table.add_row(ui.plain(row.module.slug), Text(row.state, style=colours[row.state]), ui.plain(points),
                      ui.plain(_relative(paths, row.module.student_notebook)))
        if row.note:
            notes.append(f"{row.module.slug}: {row.note}")
    ui.console.print(table)
    for note in notes:
        ui.say((f"⚠ {note}", "yellow"))
    return 0


def cmd_module_start(args) -> int:
    from tito import student, ui

    paths = _paths()
    if args.all:
        for module in _modules(paths, []):
            path, created = student.start(paths, module, check=False)
            ui.say(("created", "green") if created else "kept (already there)", " ", _relative(paths, path))
        return 0
    if not args.module:
        raise TitoError("Which module? Give its name, e.g. `tito module start 03_layers`, or --all.")
    module = _module(paths, args.module)
    path, created = student.start(paths, module)
    where = _relative(paths, path)
    if created:
        ui.say(("Created", "green"), " ", where)
    else:
        ui.say(f"{where} already exists: it was left as it is (your work is safe).")
    if args.no_lab:
        ui.say(f"Open it with: jupyter lab {where}")
        return 0
    command = student.lab_command(path)
    ui.say(f"Starting JupyterLab: {' '.join(command)}")
    return subprocess.call(command, cwd=paths.root)


def _print_report(report, title) -> None:
    from tito import ui

    ui.console.print(ui.grade_table(report, title))
    ui.show_flags(report)
    if report.hidden_points:
        ui.say((f"ℹ {report.hidden_points:g} points are graded by your instructor:", "cyan"), " the cells marked "
               "in the notebook also run hidden checks that this test cannot see.")


def cmd_module_test(args) -> int:
    from tito import student, ui

    paths = _paths()
    module = _module(paths, args.module)
    sandboxed = _warn_unsandboxed(args)
    started = time.perf_counter()
    reference = getattr(args, "reference", False)
    what = "reference solution" if reference else _relative(paths, module.student_notebook)
    with ui.status(f"Grading {what} with nbgrader…"):
        if reference:
            from tito import notebooks

            report = student.grade(paths, module, notebooks.reference_submission(module), sandboxed=sandboxed,
                                   student="reference")
        else:
            report = student.test(paths, module, sandboxed=sandboxed)
    _print_report(report, f"{module.slug}: {what} ({time.perf_counter() - started:.1f} s)")
    ok = report.full_marks if reference else student.passes(report)
    if ok:
        ui.say(("Full marks.", "green"), "" if reference else f" Next: tito module complete {module.slug}")
    return 0 if ok else 1


def cmd_module_complete(args) -> int:
    from tito import student, ui

    paths = _paths()
    module = _module(paths, args.module)
    sandboxed = _warn_unsandboxed(args)
    with ui.status(f"Grading {_relative(paths, module.student_notebook)} with nbgrader…"):
        result = student.complete(paths, module, sandboxed=sandboxed)
    _print_report(result.report, f"{module.slug}: your notebook")
    target = _relative(paths, result.package_file)
    if result.exported:
        ui.say((f"Completed {module.slug}:", "green"), f" your code is now {target} "
               f"and `import {module.import_name}` gives it ({result.tests.summary}).")
        if result.backup:
            ui.say(f"Your previous build was backed up to {_relative(paths, result.backup)}.")
        return 0
    if not student.passes(result.report):
        ui.error(f"{module.slug} is not complete: nothing was exported.",
                 "Fix the failing cells above, run `tito module test " + module.slug + "`, then try again.")
    else:
        ui.error(f"Your notebook has full marks, but the package tests in {_relative(paths, module.tests)} fail "
                 f"against your code ({result.tests.summary}); nothing was exported.",
                 "Read the failures below, fix your notebook, and run complete again.")
        for line in result.tests.failures[:20]:
            ui.say_error(f"  ❌ {line}")
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
    extra = f" and remove your build {_relative(paths, module.completed_file)}" if args.package else ""
    if not args.yes and not _confirm(f"Replace {what} with a fresh copy{extra} (a backup is kept)?"):
        ui.say("Nothing changed.")
        return 1
    result = student.reset(paths, module, package=args.package)
    if result.notebook_backup:
        ui.say(f"Backed up your notebook to {_relative(paths, result.notebook_backup)}")
    ui.say(("Fresh copy:", "green"), " ", what)
    if result.build_removed:
        ui.say(f"Backed up your build to {_relative(paths, result.build_backup)} and removed it.")
        shipped = module.package_file.is_file()
        ui.say(f"`import {module.import_name}` now gives " +
               ("the build shipped with the course." if shipped else "nothing until you complete it again."))
    elif args.package:
        ui.say(f"You have no completed build of {module.slug}: nothing else to reset.")
    return 0


# -- src / course ---------------------------------------------------------------------------
def _note_completed_builds(paths, modules) -> None:
    from tito import ui

    for module in modules:
        if module.completed_file.is_file():
            ui.say(("ℹ", "cyan"), f" your own build {_relative(paths, module.completed_file)} was left as it is "
                   f"and is still what `import {module.import_name}` gives; "
                   f"`tito module reset {module.slug} --package` switches back to the reference build.")


def cmd_src_export(args) -> int:
    from tito import export, ui

    paths = _paths()
    modules = _modules(paths, args.modules)
    results = export.export_reference(modules, check=args.check)
    stale = [r for r in results if r.changed]
    if args.check:
        for result in stale:
            ui.say_error(("out of date:", "red"), " ", _relative(paths, result.path))
        if stale:
            ui.error(f"{len(stale)} generated file(s) differ from src/.", "Run `tito src export`.")
            return 1
        ui.say((f"All {len(results)} generated files are up to date.", "green"))
        return 0
    for result in results:
        ui.say(("updated", "green") if result.changed else "unchanged", " ", _relative(paths, result.path))
    _note_completed_builds(paths, modules)
    return 0


def cmd_course_build(args) -> int:
    """The main job on the bundled reference: package, student notebooks, graded reference."""
    from tito import export, notebooks, student, ui

    paths = _paths()
    modules = _modules(paths, args.modules)
    for result in export.export_reference(modules):
        ui.say(("exported", "green") if result.changed else "up to date", " ", _relative(paths, result.path))
    _note_completed_builds(paths, modules)
    all_full = True
    for module in modules:
        path, created = student.start(paths, module)
        ui.say(("created", "green") if created else "kept (already there)", " ", _relative(paths, path))
        started = time.perf_counter()
        with ui.status(f"Grading the {module.slug} reference solution with nbgrader…"):
            report = student.grade(paths, module, notebooks.reference_submission(module), student="reference")
        _print_report(report, f"{module.slug}: reference solution ({time.perf_counter() - started:.1f} s)")
        all_full = all_full and report.full_marks
    return 0 if all_full else 1


# -- nbgrader ------------------------------------------------------------------------------
def cmd_nbgrader_generate(args) -> int:
    from tito import instructor, ui

    paths = _paths()
    module = _module(paths, args.module)
    sandboxed = _warn_unsandboxed(args)
    with ui.status(f"Generating {module.slug} with nbgrader and checking it…"):
        result = instructor.generate(paths, module, sandboxed=sandboxed)
    ui.say(("Release:", "green"), " ", _relative(paths, result.release))
    ui.say(f"  reference solution: {result.reference.score:g}/{result.reference.max_score:g}")
    ui.say(f"  untouched release:  {result.untouched.score:g}/{result.untouched.max_score:g} "
           "(every graded cell fails on the stubs)")
    ui.say("  no solution line and no hidden test in the release; nbgrader validate passes")
    return 0


def cmd_nbgrader_autograde(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tito import instructor, ui

    paths = _paths()
    module = _module(paths, args.module)
    sandboxed = _warn_unsandboxed(args)
    cluster = _cluster(args)
    started = time.perf_counter()
    columns = [TextColumn("autograding {task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
               TextColumn("[red]{task.fields[failed]} below full marks"), TimeElapsedColumn()]
    with Progress(*columns, console=ui.console, transient=True) as bar:
        task = bar.add_task(module.slug, total=None, failed=0)

        def progress(report) -> None:
            bar.update(task, advance=1, failed=bar.tasks[0].fields["failed"] + (not report.full_marks))

        def waiting(other: str) -> None:
            ui.say((f"Waiting for {other} of {module.slug} to finish (one at a time per course)…", "yellow"))

        if args.student:
            bar.update(task, total=len(args.student))
        result = instructor.autograde(paths, module, args.student, jobs=args.jobs, scheduler=cluster,
                                      sandboxed=sandboxed, progress=progress, waiting=waiting)
    elapsed = time.perf_counter() - started
    reports = result.reports
    ui.console.print(ui.batch_table(reports, f"{module.slug}: {len(reports)} submission(s), {elapsed:.1f} s "
                                             f"({elapsed / len(reports):.2f} s each)"))
    if args.json:
        from tito.fileops import atomic_write_text
        from tito.report import reports_json

        atomic_write_text(Path(args.json), reports_json(reports) + "\n")
    return 0


def cmd_nbgrader_feedback(args) -> int:
    from tito import instructor, ui

    paths = _paths()
    module = _module(paths, args.module)
    cluster = _cluster(args)
    with ui.status(f"Writing feedback for {module.slug}…"):
        pages = instructor.feedback(paths, module, args.student, jobs=args.jobs, scheduler=cluster)
    for page in pages:
        ui.say(f"feedback: {_relative(paths, page)}")
    ui.say((f"{len(pages)} feedback page(s) written.", "green"))
    return 0


def cmd_nbgrader_export(args) -> int:
    from tito import instructor, ui

    paths = _paths()
    destination = instructor.export_csv(paths, Path(args.to).expanduser().resolve(), force=args.force)
    ui.say(("Grades written to", "green"), " ", str(destination))
    return 0


# -- release --------------------------------------------------------------------------------
def cmd_release_student(args) -> int:
    from tito import edition, ui

    paths = _paths()
    with ui.status("Building the student edition and checking every file for answers…"):
        result = edition.release(paths, Path(args.to).expanduser().resolve(), provide=args.provide or [])
    ui.say(("Student edition written to", "green"), f" {result.folder} ({len(result.files)} files, "
           f"commit {result.commit[:12]})")
    for line in result.summary:
        ui.say(f"  {line}")
    return 0


# -- system --------------------------------------------------------------------------------
def cmd_system_doctor(args) -> int:
    from rich.text import Text

    from tito import doctor, ui

    checks = doctor.run_checks(_paths())
    table = ui.table("tito system doctor", ["check", "status", "detail", "how to fix"])
    for check in checks:
        if check.required:
            state = Text("ok", style="green") if check.ok else Text("missing", style="red")
        else:
            state = Text("in force", style="green") if check.ok else Text("not in force", style="yellow")
        table.add_row(ui.plain(check.name), state, ui.plain(check.detail), ui.plain("" if check.ok else check.fix))
    ui.console.print(table)
    return 0 if all(check.ok for check in checks if check.required) else 1


# -- parser --------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def _no_sandbox(parser) -> None:
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run student code without the bubblewrap sandbox (only for code you trust)")


def _student_commands(groups, instructor: bool) -> None:
    module = groups.add_parser("module", help="student commands").add_subparsers(dest="command", required=True)
    for name in ("list", "status"):
        module.add_parser(name, help="every module with its state and points").set_defaults(func=cmd_module_list)
    start = module.add_parser("start", help="create your notebook (never overwrites) and open JupyterLab")
    start.add_argument("module", nargs="?")
    start.add_argument("--no-lab", action="store_true", help="only prepare the notebook")
    start.add_argument("--all", action="store_true", help="create every module's notebook that is missing (no lab)")
    start.set_defaults(func=cmd_module_start)
    test = module.add_parser("test", help="grade your notebook with the instructor's engine")
    test.add_argument("module")
    if instructor:
        test.add_argument("--reference", action="store_true", help="grade the instructor solution instead")
    _no_sandbox(test)
    test.set_defaults(func=cmd_module_test)
    complete = module.add_parser("complete", help="at full marks, make your code the package's module")
    complete.add_argument("module")
    _no_sandbox(complete)
    complete.set_defaults(func=cmd_module_complete)
    reset = module.add_parser("reset", help="back up your notebook and start from a fresh copy")
    reset.add_argument("module")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.add_argument("--package", action="store_true",
                       help="also back up and remove your completed build of the module")
    reset.set_defaults(func=cmd_module_reset)


def _cluster_options(parser, help: str) -> None:
    parser.add_argument("--scheduler", metavar="ADDRESS", help=help)
    parser.add_argument("--tls-ca-file", metavar="PEM", help="the cluster's CA certificate (default: Dask's config)")
    parser.add_argument("--tls-cert", metavar="PEM", help="this client's certificate (default: Dask's config)")
    parser.add_argument("--tls-key", metavar="PEM", help="this client's private key (default: Dask's config)")
    parser.add_argument("--insecure-cluster", action="store_true",
                        help="allow a plain tcp:// scheduler on another host (no authentication; reports are flagged)")


def _cluster(args):
    """The Dask cluster of --scheduler and its TLS options (None: grade on this machine)."""
    from tito import distributed, ui

    if not args.scheduler:
        return None
    cluster = distributed.Cluster(args.scheduler, args.tls_ca_file, args.tls_cert, args.tls_key,
                                  insecure=args.insecure_cluster)
    distributed.check_address(cluster)
    distributed.security(cluster)  # certificates that cannot be loaded: an error now, before any grading
    if cluster.insecure and cluster.is_open:
        ui.warning(f"--insecure-cluster: {cluster.address} is an open Dask scheduler (tcp://, no TLS). Anyone who "
                   "can reach it can read the hidden tests and run code on this host. Every report records this.")
    return cluster


def _instructor_commands(groups) -> None:
    src = groups.add_parser("src", help="build commands").add_subparsers(dest="command", required=True)
    export = src.add_parser("export", help="regenerate tinytorch/core/*.py from src/")
    export.add_argument("modules", nargs="*")
    export.add_argument("--check", action="store_true", help="only list out-of-date files (exit 1 if any)")
    export.set_defaults(func=cmd_src_export)

    course = groups.add_parser("course", help="whole-course jobs").add_subparsers(dest="command", required=True)
    build = course.add_parser("build", help="export the package, prepare notebooks, grade the reference")
    build.add_argument("modules", nargs="*")
    build.set_defaults(func=cmd_course_build)

    nbgrader = groups.add_parser("nbgrader", help="instructor commands").add_subparsers(dest="command",
                                                                                         required=True)
    generate = nbgrader.add_parser("generate", help="build the release with nbgrader and check it")
    generate.add_argument("module")
    _no_sandbox(generate)
    generate.set_defaults(func=cmd_nbgrader_generate)
    autograde = nbgrader.add_parser("autograde", help="grade every submission of a module")
    autograde.add_argument("module")
    autograde.add_argument("--student", nargs="+", metavar="ID", help="grade only these students")
    autograde.add_argument("--jobs", type=_positive_int, help="local worker processes (default: one per core)")
    _cluster_options(autograde, "grade on a Dask cluster with mutual TLS (tls://host:8786)")
    autograde.add_argument("--json", metavar="FILE", help="also write every report (cells, reasons, flags) as JSON")
    _no_sandbox(autograde)
    autograde.set_defaults(func=cmd_nbgrader_autograde)
    feedback = nbgrader.add_parser("feedback", help="write HTML feedback for graded submissions")
    feedback.add_argument("module")
    feedback.add_argument("--student", nargs="+", metavar="ID", help="only these students")
    feedback.add_argument("--jobs", type=_positive_int, help="local worker processes (default: one per core)")
    _cluster_options(feedback, "render on a Dask cluster with mutual TLS (tls://host:8786)")
    feedback.set_defaults(func=cmd_nbgrader_feedback)
    csv = nbgrader.add_parser("export", help="write the grades CSV (with reasons and flags)")
    csv.add_argument("--to", default="grades.csv", metavar="FILE.csv")
    csv.add_argument("--force", action="store_true", help="replace FILE.csv if it exists")
    csv.set_defaults(func=cmd_nbgrader_export)

    release = groups.add_parser("release", help="publish an edition").add_subparsers(dest="command", required=True)
    student = release.add_parser("student", help="write the student edition (no answers) as a new git repository")
    student.add_argument("--to", required=True, metavar="DIR",
                         help="a new or empty folder, or an earlier edition to update (adds a commit)")
    student.add_argument("--provide", nargs="+", metavar="MODULE",
                         help="modules shipped with their reference build (past assignments)")
    student.set_defaults(func=cmd_release_student)


def build_parser(instructor: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tito", description="TinyTorch course tool.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    names = "{module,src,course,nbgrader,release,system}" if instructor else "{module,system}"
    groups = parser.add_subparsers(dest="group", required=True, metavar=names)
    _student_commands(groups, instructor)
    if instructor:
        _instructor_commands(groups)
    system = groups.add_parser("system", help="environment checks").add_subparsers(dest="command",
                                                                                    required=True)
    system.add_parser("doctor", help="check Python, packages, kernel, sandbox and tinytorch").set_defaults(
        func=cmd_system_doctor)
    return parser


def _is_instructor_edition() -> bool:
    try:
        return not _paths().is_student_edition
    except TitoError:
        return True


def main(argv: list[str] | None = None) -> int:
    args = build_parser(_is_instructor_edition()).parse_args(argv)
    if not args.debug:
        warnings.filterwarnings("ignore")  # library deprecation chatter is not for students
        # after Ctrl-C, asyncio reports the kernel tasks it abandoned; the user needs none of that
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    try:
        return args.func(args)
    except TitoError as problem:
        if args.debug:
            raise
        from tito import ui

        ui.error(problem.message, problem.hint)
        return 1
    except KeyboardInterrupt:
        from tito import ui

        ui.say_error(("Interrupted: nothing was recorded and no file was changed.", "yellow"))
        return 130
    except Exception as problem:  # noqa: BLE001  (the CLI's last line of defence)
        if args.debug:
            raise
        from tito import ui

        ui.error(f"unexpected {type(problem).__name__}: {problem}",
                 "Run the same command with --debug for the full traceback, and report it.")
        return 1
