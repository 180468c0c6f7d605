"""The student's commands (`tito module …`) and `tito system doctor`: parse, call one
library function of tito.workflows, print."""

from __future__ import annotations

import subprocess
import sys
import time

from rich.text import Text

from tito.cli import ui
from tito.cli.shared import (
    command,
    current_paths,
    module_argument,
    module_named,
    module_to_grade,
    modules_named,
    no_sandbox_option,
    print_report,
    relative,
)
from tito.errors import TitoError
from tito.workflows import doctor, lab, student
from tito.workflows.student import ModuleState

# -- module ---------------------------------------------------------------------------------
_STATE_STYLES = {ModuleState.COMPLETED: "green", ModuleState.IN_PROGRESS: "yellow", ModuleState.PROVIDED: "cyan",
                 ModuleState.NOT_STARTED: "dim"}


def state_sentence(row: student.ModuleStatus) -> str:
    """A module's state as the list shows it, in whole words."""
    if row.state is ModuleState.COMPLETED:
        return f"completed with {row.score:g}/{row.max_score:g}"
    if row.state is ModuleState.IN_PROGRESS:
        return "in progress: not tested yet" if row.score is None else \
            f"in progress: last test {row.score:g}/{row.max_score:g}"
    if row.state is ModuleState.NOT_STARTED and row.score is not None:
        return f"not started (last test {row.score:g}/{row.max_score:g})"
    return row.state.value


def cmd_module_list(args) -> int:
    paths = current_paths()
    table = ui.table("TinyTorch modules", ["module", "state", "notebook (in modules/<module>/)"])
    notes = []
    for row in student.status(paths):
        table.add_row(ui.plain(row.module.slug), Text(state_sentence(row), style=_STATE_STYLES[row.state]),
                      ui.plain(row.module.notebook_name))
        if row.note:
            notes.append(f"{row.module.slug}: {row.note}")
    ui.console.print(table)
    for note in notes:
        ui.say((f"⚠ {note}", "yellow"))
    return 0


def cmd_module_start(args) -> int:
    paths = current_paths()
    if args.all:
        for module in modules_named(paths, []):
            path, created = student.start(paths, module, check=False)
            ui.say(("created", "green") if created else "kept (already there)", " ", relative(paths, path))
        return 0
    if not args.module:
        raise TitoError("Which module? Give its name, e.g. `tito module start 03_layers`, or --all.")
    module = module_named(paths, args.module)
    path, created = student.start(paths, module)
    where = relative(paths, path)
    if created:
        ui.say(("Created", "green"), " ", where)
    else:
        ui.say(f"{where} already exists: it was left as it is (your work is safe).")
    if args.no_lab:
        ui.say(f"Open it with: jupyter lab {where}")
        return 0
    command = lab.lab_command(path)
    ui.say(f"Starting JupyterLab: {' '.join(command)}")
    return subprocess.call(command, cwd=paths.root)


def cmd_module_test(args) -> int:
    paths, module, sandboxed = module_to_grade(args)
    started = time.perf_counter()
    reference = getattr(args, "reference", False)
    what = "reference solution" if reference else relative(paths, module.student_notebook)
    for copy in [] if reference else student.newer_copies(module):
        ui.warning(f"{relative(paths, copy)} was saved after {relative(paths, module.student_notebook)}: only "
                   f"{module.notebook_name} is graded (and handed in). Copy your work into it.")
    with ui.status(f"Grading {what} with nbgrader…"):
        if reference:
            report = student.test_reference(paths, module, sandboxed=sandboxed)
        else:
            report = student.test(paths, module, sandboxed=sandboxed)
    print_report(report, f"{module.slug}: {what} ({time.perf_counter() - started:.1f} s)")
    ok = report.full_marks if reference else student.passes(report)
    first = None if ok or reference else student.first_problem(report)
    here = None if ok or reference or first else student.start_here(module)
    if first:
        ui.say(("Start here:", "cyan"), f" {first}")
    elif here:
        ui.say(("Start here:", "cyan"), f" {here.part}: the cell '{here.cell}' still raises NotImplementedError. "
               f"Replace that line with your code, then run `tito module test {module.slug}` again.")
    if ok:
        ui.say(("Full marks.", "green"), "" if reference else f" Next: tito module complete {module.slug}")
    return 0 if ok else 1


def cmd_module_complete(args) -> int:
    paths, module, sandboxed = module_to_grade(args)
    with ui.status(f"Grading {relative(paths, module.student_notebook)} with nbgrader…"):
        result = student.complete(paths, module, sandboxed=sandboxed)
    print_report(result.report, f"{module.slug}: your notebook")
    target = relative(paths, result.package_file)
    if result.exported:
        ui.say((f"Completed {module.slug}:", "green"), f" your code is now {target} "
               f"and `import {module.import_name}` gives it ({result.tests.summary}).")
        if result.backup:
            ui.say(f"Your previous build was backed up to {relative(paths, result.backup)}.")
        return 0
    if not student.passes(result.report):
        ui.error(f"{module.slug} is not complete: nothing was exported.",
                 "Fix the failing cells above, run `tito module test " + module.slug + "`, then try again.")
    else:
        ui.error(f"Your notebook has full marks, but the package tests in {relative(paths, module.tests)} fail "
                 f"against your code ({result.tests.summary}); nothing was exported.",
                 "Read the failures below, fix your notebook, and run complete again.")
        for line in result.tests.failures[:20]:
            ui.say_error(f"  ❌ {line}")
    return 1


def cmd_module_submit(args) -> int:
    paths, module, sandboxed = module_to_grade(args)
    with ui.status(f"Checking {relative(paths, module.student_notebook)} with nbgrader…"):
        result = student.submit(paths, module, sandboxed=sandboxed)
    report = result.report
    print_report(report, f"{module.slug}: your notebook")
    if not result.written:
        ui.error(f"Nothing was written for hand-in: {result.problem}.",
                 "Undo your changes to those locked cells (copy them from a fresh notebook: `tito module reset "
                 f"{module.slug}` keeps a backup of yours), then run submit again.")
        return 1
    where = relative(paths, result.hand_in)
    visible = " on the tests you can see" if report.hidden_points else ""
    ui.say(("Ready to hand in:", "green"), f" {where} ({report.score:g}/{report.max_score:g}{visible})")
    if result.backup:
        ui.say(f"Your earlier hand-in copy was backed up to {relative(paths, result.backup)}.")
    if not report.graded:
        ui.warning(f"your notebook could not be graded ({report.reason}): as it is, it scores 0.")
    if result.exchange:
        folder = relative(paths, result.hand_in.parent.parent)
        ui.say("Next: hand it in through your course's nbgrader exchange:")
        ui.say(f"  cd {folder} && nbgrader submit {module.slug} --course {result.exchange.course_id}")
    else:
        ui.say(f"Next: upload {where} to your course page (Canvas, Moodle…), keeping its name "
               f"{module.notebook_name}.")
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return True  # no one to ask; the backup keeps everything recoverable
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def cmd_module_reset(args) -> int:
    paths = current_paths()
    module = module_named(paths, args.module)
    what = relative(paths, module.student_notebook)
    extra = f" and remove your build {relative(paths, module.completed_file)}" if args.package else ""
    if not args.yes and not _confirm(f"Replace {what} with a fresh copy{extra} (a backup is kept)?"):
        ui.say("Nothing changed.")
        return 1
    result = student.reset(paths, module, package=args.package)
    if result.notebook_backup:
        ui.say(f"Backed up your notebook to {relative(paths, result.notebook_backup)}")
    ui.say(("Fresh copy:", "green"), " ", what)
    if result.build_removed:
        ui.say(f"Backed up your build to {relative(paths, result.build_backup)} and removed it.")
        shipped = module.package_file.is_file()
        ui.say(f"`import {module.import_name}` now gives " +
               ("the build shipped with the course." if shipped else "nothing until you complete it again."))
    elif args.package:
        ui.say(f"You have no completed build of {module.slug}: nothing else to reset.")
    return 0


# -- system --------------------------------------------------------------------------------
def cmd_system_doctor(args) -> int:
    checks = doctor.run_checks(current_paths())
    table = ui.table("tito system doctor", ["check", "status", "detail", "how to fix"])
    for check in checks:
        good, bad = check.states
        state = Text(good, style="green") if check.ok else Text(bad, style="red" if check.required else "yellow")
        table.add_row(ui.plain(check.name), state, ui.plain(check.detail), ui.plain("" if check.ok else check.fix))
    ui.console.print(table)
    return 0 if all(check.ok for check in checks if check.required) else 1


# -- parser ----------------------------------------------------------------------------------
def add_commands(groups, instructor: bool) -> None:
    group = groups.add_parser("module", help="your modules: list, start, test, complete, reset")
    module = group.add_subparsers(dest="command", required=True, metavar="{list,start,test,complete,submit,reset}")
    command(module, "list", "every module with its state (alias: status)", "tito module list",
            aliases=("status",)).set_defaults(func=cmd_module_list)
    start = command(module, "start", "create your notebook (never overwrites) and open JupyterLab",
                    "tito module start 03_layers\ntito module start --all --no-lab")
    module_argument(start, optional=True)
    start.add_argument("--no-lab", action="store_true", help="only prepare the notebook")
    start.add_argument("--all", action="store_true", help="create every module's notebook that is missing (no lab)")
    start.set_defaults(func=cmd_module_start)
    test = command(module, "test", "grade your notebook with the instructor's engine", "tito module test 03_layers")
    module_argument(test)
    if instructor:
        test.add_argument("--reference", action="store_true", help="grade the instructor solution instead")
    no_sandbox_option(test)
    test.set_defaults(func=cmd_module_test)
    complete = command(module, "complete", "at full marks, make your code the package's module",
                       "tito module complete 03_layers")
    module_argument(complete)
    no_sandbox_option(complete)
    complete.set_defaults(func=cmd_module_complete)
    submit = command(module, "submit", "check your notebook and write the copy to hand in",
                     "tito module submit 03_layers")
    module_argument(submit)
    no_sandbox_option(submit)
    submit.set_defaults(func=cmd_module_submit)
    reset = command(module, "reset", "back up your notebook and start from a fresh copy",
                    "tito module reset 03_layers\ntito module reset 03_layers --package --yes")
    module_argument(reset)
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation (without a terminal nobody "
                       "is asked; a backup is kept either way)")
    reset.add_argument("--package", action="store_true",
                       help="also back up and remove your completed build of the module")
    reset.set_defaults(func=cmd_module_reset)


def add_system_commands(groups) -> None:
    system = groups.add_parser("system", help="environment checks").add_subparsers(dest="command", required=True)
    command(system, "doctor", "check Python, packages, kernel, sandbox and tinytorch",
            "tito system doctor").set_defaults(func=cmd_system_doctor)
