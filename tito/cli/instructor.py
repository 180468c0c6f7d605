"""The instructor's commands (`tito src`, `course`, `nbgrader`, `release`): parse, call
one library function of tito.workflows, print. Not in the student edition."""

from __future__ import annotations

import time
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
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
    positive_int,
    print_report,
    relative,
)
from tito.course import export
from tito.fileops import atomic_write_text
from tito.grading.report import reports_json
from tito.workflows import build


# -- src / course ---------------------------------------------------------------------------
def _note_completed_builds(paths, modules) -> None:
    for module in modules:
        if module.completed_file.is_file():
            ui.say(("ℹ", "cyan"), f" your own build {relative(paths, module.completed_file)} was left as it is "
                   f"and is still what `import {module.import_name}` gives; "
                   f"`tito module reset {module.slug} --package` switches back to the reference build.")


def cmd_src_export(args) -> int:
    paths = current_paths()
    modules = modules_named(paths, args.modules)
    results = export.export_reference(modules, check=args.check)
    stale = [r for r in results if r.changed]
    if args.check:
        for result in stale:
            ui.say_error(("out of date:", "red"), " ", relative(paths, result.path))
        if stale:
            ui.error(f"{len(stale)} generated file(s) differ from src/.", "Run `tito src export`.")
            return 1
        ui.say((f"All {len(results)} generated files are up to date.", "green"))
        return 0
    for result in results:
        ui.say(("updated", "green") if result.changed else "unchanged", " ", relative(paths, result.path))
    _note_completed_builds(paths, modules)
    return 0


def cmd_course_build(args) -> int:
    """The main job on the bundled reference: package, student notebooks, graded reference."""
    paths = current_paths()
    modules = modules_named(paths, args.modules)
    for result in export.export_reference(modules):
        ui.say(("exported", "green") if result.changed else "up to date", " ", relative(paths, result.path))
    _note_completed_builds(paths, modules)
    all_full = True
    for module in modules:
        started = time.perf_counter()
        with ui.status(f"Preparing {module.slug} and grading its reference solution with nbgrader…"):
            built = build.build_module(paths, module)
        ui.say(("created", "green") if built.created else "kept (already there)", " ", relative(paths, built.notebook))
        print_report(built.report, f"{module.slug}: reference solution ({time.perf_counter() - started:.1f} s)")
        all_full = all_full and built.report.full_marks
    return 0 if all_full else 1


# -- nbgrader ------------------------------------------------------------------------------
def cmd_nbgrader_generate(args) -> int:
    from tito.workflows.instructor import assignments  # imports nbgrader: only for these commands

    paths, module, sandboxed = module_to_grade(args)
    with ui.status(f"Generating {module.slug} with nbgrader and checking it…"):
        result = assignments.generate(paths, module, sandboxed=sandboxed)
    ui.say(("Release:", "green"), " ", relative(paths, result.release))
    ui.say(f"  reference solution: {result.reference.score:g}/{result.reference.max_score:g}")
    ui.say(f"  untouched release:  {result.untouched.score:g}/{result.untouched.max_score:g} "
           "(every graded cell fails on the stubs)")
    ui.say("  no solution line and no hidden test in the release; nbgrader validate passes")
    return 0


def cmd_nbgrader_autograde(args) -> int:
    from tito.workflows.instructor import assignments  # imports nbgrader: only for these commands

    paths, module, sandboxed = module_to_grade(args)
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
        result = assignments.autograde(paths, module, args.student, jobs=args.jobs, scheduler=cluster,
                                      sandboxed=sandboxed, progress=progress, waiting=waiting)
    elapsed = time.perf_counter() - started
    reports = result.reports
    ui.console.print(ui.batch_table(reports, f"{module.slug}: {len(reports)} submission(s), {elapsed:.1f} s "
                                             f"({elapsed / len(reports):.2f} s each)"))
    full = sum(report.full_marks for report in reports)
    ungradable = sum(not report.graded for report in reports)
    flagged = sum(bool(report.flags) for report in reports)
    ui.say((f"{len(reports)} graded:", "bold"), f" {full} at full marks, {len(reports) - full} below "
           f"({ungradable} could not be graded), {flagged} flagged for review"
           + ("; every report is in " + args.json if args.json else "; --json FILE writes every report"))
    if args.json:
        atomic_write_text(Path(args.json), reports_json(reports) + "\n")
    return 0


def cmd_nbgrader_feedback(args) -> int:
    from tito.workflows.instructor import assignments  # imports nbgrader: only for these commands

    paths = current_paths()
    module = module_named(paths, args.module)
    cluster = _cluster(args)
    with ui.status(f"Writing feedback for {module.slug}…"):
        pages = assignments.feedback(paths, module, args.student, jobs=args.jobs, scheduler=cluster)
    for page in pages:
        ui.say(f"feedback: {relative(paths, page)}")
    ui.say((f"{len(pages)} feedback page(s) written.", "green"))
    return 0


def cmd_nbgrader_export(args) -> int:
    from tito.workflows.instructor import assignments  # imports nbgrader: only for these commands

    paths = current_paths()
    module = module_named(paths, args.module) if args.module else None
    result = assignments.export_grades(paths, Path(args.to).expanduser().resolve(),
                                       assignments.ExportFormat(args.format), module, args.column, force=args.force)
    if result.format is assignments.ExportFormat.NBGRADER:
        ui.say(("Grades written to", "green"), " ", str(result.destination))
        return 0
    what = {"canvas": "Canvas gradebook import", "moodle": "Moodle grading worksheet"}[result.format.value]
    ui.say(("Grades written to", "green"), f" {result.destination} ({what}, {result.module}: "
           f"{result.rows} student(s), {len(result.late)} late)")
    if result.format is assignments.ExportFormat.CANVAS:
        ui.say("  Canvas imports no comments: reasons and flags are in `--format nbgrader` and the class report.")
    for line in result.left_out:
        ui.say(("  left out:", "yellow"), f" {line}")
    return 0


def cmd_nbgrader_collect(args) -> int:
    from tito.workflows.instructor import collect, lms  # imports nbgrader: only for these commands

    paths = current_paths()
    module = module_named(paths, args.module)
    chosen = lms.Lms(args.lms) if args.lms else None
    with ui.status(f"Collecting {module.slug} from {len(args.paths)} download(s)…"):
        result = collect.collect(paths, module, [Path(p).expanduser() for p in args.paths], lms_name=chosen,
                                 duedate=args.duedate, zone=args.timezone)
    for download in result.downloads:
        how = "detected" if download.detected else "--lms"
        ui.say(f"{download.name}: {download.lms.title} ({how}), {download.entries} entries")
    _collected_table(result, paths)
    for title, items in (("Refused (not collected):", result.refused), ("Unmatched:", result.unmatched)):
        if items:
            ui.say((title, "yellow" if title.startswith("U") else "red"))
            for item in items:
                ui.say(f"  {item}")
    for note in result.notes:
        ui.say(("ℹ", "cyan"), f" {note}")
    due = f"due {result.duedate:%Y-%m-%d %H:%M:%S} UTC" if result.duedate else "no due date"
    ui.say((f"{len(result.collected)} collected", "green"), f" ({len(result.late)} late), "
           f"{len(result.refused)} refused, {len(result.unmatched)} unmatched, into "
           f"{relative(paths, result.submitted)}/ ({due}).")
    if not result.collected:
        ui.error(f"No notebook of {module.slug} was collected.", "Check the refused and unmatched entries above.")
        return 1
    return 0


def _collected_table(result, paths) -> None:
    if not result.collected:
        return
    several = len(result.downloads) > 1
    table = ui.table(f"{result.module}: collected", ["student", "LMS id", "file", "submitted", "note"])
    table.columns[2].overflow = "fold"  # a file name is shown whole, folded if it must be
    for item in result.collected:
        when = f"{item.timestamp:%Y-%m-%d %H:%M} UTC" if item.timestamp else "no time"
        note = ", ".join(part for part in ("late" if item.late else "", item.status if item.status != "new" else "")
                         if part)
        shown_note = Text(note, style="yellow") if item.late else ui.plain(note)
        where = f"{item.download}: {item.entry}" if several else item.entry
        table.add_row(ui.plain(item.student), ui.plain(item.identity.lms_id), ui.plain(where), ui.plain(when),
                      shown_note)
    ui.console.print(table)


def cmd_nbgrader_report(args) -> int:
    from tito.workflows.instructor import class_report  # imports nbgrader and matplotlib: only for this command

    paths = current_paths()
    module = module_named(paths, args.module)
    with ui.status(f"Writing the class report of {module.slug}…"):
        result = class_report.write_report(paths, module, Path(args.to).expanduser().resolve(), force=args.force)
    report = result.report
    ui.say(("Class report written to", "green"), f" {result.destination}")
    ui.say(f"  {len(report.students)} submission(s), mean {report.mean:.1f}/{report.max_score:g}, "
           f"{report.full_marks} at full marks, {len(report.to_review)} flagged or late, "
           f"{len(report.ungradable)} not gradable")
    return 0


# -- release --------------------------------------------------------------------------------
def cmd_release_student(args) -> int:
    from tito.workflows.instructor import edition  # imports nbgrader: only for this command

    paths = current_paths()
    with ui.status("Building the student edition and checking every file for answers…"):
        result = edition.release(paths, Path(args.to).expanduser().resolve(), provide=args.provide or [],
                                 withdraw=args.withdraw or [])
    ui.say(("Student edition written to", "green"), f" {result.folder} ({len(result.files)} files, "
           f"commit {result.commit[:12]})")
    for line in result.summary:
        ui.say(f"  {line}")
    return 0


# -- parser ----------------------------------------------------------------------------------
def _cluster_options(parser, help: str) -> None:
    parser.add_argument("--scheduler", metavar="ADDRESS", help=help)
    parser.add_argument("--tls-ca-file", metavar="PEM", help="the cluster's CA certificate (default: Dask's config)")
    parser.add_argument("--tls-cert", metavar="PEM", help="this client's certificate (default: Dask's config)")
    parser.add_argument("--tls-key", metavar="PEM", help="this client's private key (default: Dask's config)")
    parser.add_argument("--insecure-cluster", action="store_true",
                        help="allow a plain tcp:// scheduler on another host (no authentication; reports are flagged)")


def _cluster(args):
    """The Dask cluster of --scheduler and its TLS options (None: grade on this machine)."""
    from tito.workflows.instructor import distributed

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


def add_commands(groups) -> None:
    src = groups.add_parser("src", help="the package from src/").add_subparsers(dest="command", required=True)
    export_parser = command(src, "export", "regenerate tinytorch/core/*.py from src/",
                            "tito src export\ntito src export --check")
    export_parser.add_argument("modules", nargs="*", help="modules to export (default: all)")
    export_parser.add_argument("--check", action="store_true", help="only list out-of-date files (exit 1 if any)")
    export_parser.set_defaults(func=cmd_src_export)

    course = groups.add_parser("course", help="whole-course jobs").add_subparsers(dest="command", required=True)
    build_parser = command(course, "build", "export the package, prepare notebooks, grade the reference",
                           "tito course build\ntito course build 03_layers")
    build_parser.add_argument("modules", nargs="*", help="modules to build (default: all)")
    build_parser.set_defaults(func=cmd_course_build)

    nbgrader = groups.add_parser("nbgrader", help="instructor commands").add_subparsers(dest="command",
                                                                                         required=True)
    generate = command(nbgrader, "generate", "build the release with nbgrader and check it",
                       "tito nbgrader generate 03_layers")
    module_argument(generate)
    no_sandbox_option(generate)
    generate.set_defaults(func=cmd_nbgrader_generate)
    autograde = command(nbgrader, "autograde", "grade every submission of a module",
                        "tito nbgrader autograde 03_layers\ntito nbgrader autograde 03_layers --student ada bob "
                        "--json reports.json")
    module_argument(autograde)
    autograde.add_argument("--student", nargs="+", metavar="ID", help="grade only these students")
    autograde.add_argument("--jobs", type=positive_int, help="local worker processes (default: one per core)")
    _cluster_options(autograde, "grade on a Dask cluster with mutual TLS (tls://host:8786)")
    autograde.add_argument("--json", metavar="FILE", help="also write every report (cells, reasons, flags) as JSON")
    no_sandbox_option(autograde)
    autograde.set_defaults(func=cmd_nbgrader_autograde)
    feedback = command(nbgrader, "feedback", "write HTML feedback for graded submissions",
                       "tito nbgrader feedback 03_layers")
    module_argument(feedback)
    feedback.add_argument("--student", nargs="+", metavar="ID", help="only these students")
    feedback.add_argument("--jobs", type=positive_int, help="local worker processes (default: one per core)")
    _cluster_options(feedback, "render on a Dask cluster with mutual TLS (tls://host:8786)")
    feedback.set_defaults(func=cmd_nbgrader_feedback)
    csv = command(nbgrader, "export", "write the grades CSV (with reasons and flags)",
                  "tito nbgrader export --to grades.csv")
    csv.add_argument("--to", default="grades.csv", metavar="FILE.csv",
                     help="the CSV file to write (default: grades.csv; never replaced without --force)")
    csv.add_argument("--force", action="store_true", help="replace FILE.csv if it exists")
    csv.add_argument("--format", choices=["nbgrader", "canvas", "moodle"], default="nbgrader",
                     help="nbgrader's CSV (every assignment), Canvas's gradebook import or Moodle's grading worksheet")
    csv.add_argument("--module", metavar="MODULE", help="the assignment of a Canvas or Moodle file "
                     "(needed when the gradebook has several)")
    csv.add_argument("--column", metavar="NAME", help="Canvas: the assignment's column as Canvas names it, "
                     "e.g. 'Layers (4242)' (default: the module)")
    csv.set_defaults(func=cmd_nbgrader_export)
    collect = nbgrader.add_parser("collect", help="collect submissions from a Canvas or Moodle bulk download")
    collect.add_argument("module")
    collect.add_argument("paths", nargs="+", metavar="PATH", help="the LMS's download: a .zip, or the folder it "
                         "was unpacked to")
    collect.add_argument("--lms", choices=["canvas", "moodle"], help="the file-name scheme (default: detected)")
    collect.add_argument("--duedate", metavar="TIME", help="set the module's due date in the gradebook first, "
                         "e.g. '2026-11-20 23:59:00 UTC' (late: after it, as nbgrader counts)")
    collect.add_argument("--timezone", default="UTC", metavar="ZONE",
                         help="the zone of the times in the zip (a zip names none; default UTC)")
    collect.set_defaults(func=cmd_nbgrader_collect)
    report = nbgrader.add_parser("report", help="write one HTML page about the class: scores, cells, reasons, flags")
    report.add_argument("module")
    report.add_argument("--to", default="report.html", metavar="FILE.html")
    report.add_argument("--force", action="store_true", help="replace FILE.html if it exists")
    report.set_defaults(func=cmd_nbgrader_report)

    release = groups.add_parser("release", help="publish an edition").add_subparsers(dest="command", required=True)
    student = command(release, "student", "write the student edition (no answers) as a new git repository",
                      "tito release student --to ../tinytorch-student --provide 01 02")
    student.add_argument("--to", required=True, metavar="DIR",
                         help="a new or empty folder, or an earlier edition to update (adds a commit)")
    student.add_argument("--provide", nargs="+", metavar="MODULE",
                         help="modules shipped with their reference build (past assignments); an update keeps "
                              "those the edition provides already")
    student.add_argument("--withdraw", nargs="+", metavar="MODULE",
                         help="stop providing these modules in an update (students who pull lose their builds)")
    student.set_defaults(func=cmd_release_student)
