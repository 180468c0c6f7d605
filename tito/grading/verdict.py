"""The verdict on one submission: its score per graded cell, the reason of each failure
(traced to its root cause), and the flags an instructor should review. Read from the
submitted notebook, the release, and the notebook nbgrader autograded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nbformat import NotebookNode

from tito.course import notebooks
from tito.coursedir.converters import ConverterResult
from tito.coursedir.intake import Intake, odd_student_id
from tito.grading import scan
from tito.grading.cleanroom import CleanRoomResult
from tito.grading.report import CellResult, Flag, FlagKind, GradeReport
from tito.grading.setup import Setup
from tito.inline import RESULT_MARKER
from tito.sandbox import limits

TIMEOUT_ERRORS = {"CellTimeoutError", "KeyboardInterrupt"}
SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")
_LINE = re.compile(r"line (\d+)")
_TEST_PREFIX = re.compile(r"^test_\w+: ")  # the inline one-liner names the test; the table names the cell


@dataclass(frozen=True)
class GradedCell:
    grade_id: str
    max_score: float


def graded_cells(notebook: NotebookNode) -> list[GradedCell]:
    return [GradedCell(notebooks.grade_id(c), float(c.metadata["nbgrader"]["points"])) for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("grade")]


def not_graded(report: GradeReport, release: NotebookNode, why: str) -> None:
    """Every graded cell of `release` scores 0, with `why` as its reason."""
    report.cells = [CellResult(c.grade_id, 0.0, c.max_score, "not graded: " + why) for c in graded_cells(release)]


# -- before the run: what reading the submission shows ---------------------------------------------
def intake_flags(student: str, found: Intake) -> list[Flag]:
    """What the intake's reading of a submitted folder is worth flagging: an odd student id,
    refused files, a bad timestamp (a refused notebook is the submission's refusal instead)."""
    flags = []
    odd = odd_student_id(student)
    if odd:
        flags.append(Flag(FlagKind.ODD_STUDENT_ID, odd + ": check it where the id is used (CSV, LMS)"))
    if found.refused:
        flags.append(Flag(FlagKind.REFUSED_FILE, "left out of grading: " + found.refused_text()))
    if found.timestamp.problem and not found.notebook_refused:
        flags.append(Flag(FlagKind.BAD_TIMESTAMP, found.timestamp.problem + ": graded with no submission time "
                          "(so not late)"))
    return flags


def static_flags(report: GradeReport, submitted: NotebookNode, release: NotebookNode, setup: Setup) -> None:
    """Flags from reading the submission: edited or deleted locked cells, suspicious code."""
    by_id = {notebooks.grade_id(c): c for c in submitted.cells if notebooks.grade_id(c)}
    tampered, missing = [], []
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id")
        if not name:
            continue
        mine = by_id.get(name)
        if mine is None:
            if meta.get("grade") or meta.get("solution"):
                missing.append(name)
        elif (meta.get("locked") and mine.source.strip() != cell.source.strip()) or _flags(mine) != _flags(cell):
            tampered.append(name)
    if tampered:
        report.flag(FlagKind.TAMPERED, "locked cell edited, restored for grading: " + ", ".join(tampered), tampered)
    if missing:
        report.flag(FlagKind.MISSING, "cells missing from the submission: " + ", ".join(missing)
                    + " (graded cells were put back)", missing)
    student_cells = [(notebooks.grade_id(c) or c.get("id") or f"cell {i}", c.source) for i, c in
                     enumerate(submitted.cells) if c.cell_type == "code" and not (
                         c.metadata.get("nbgrader", {}).get("locked") and notebooks.grade_id(c) in by_id
                         and notebooks.grade_id(c) not in tampered)]
    findings = scan.suspicious_code(student_cells, f"tinytorch.{setup.export_target}")
    for later in setup.later_modules:
        findings += [f for f in scan.suspicious_code(student_cells, later) if later in f.what]
    if findings:
        report.flag(FlagKind.SUSPICIOUS_CODE, "review: " + _listed(findings), sorted({f.cell for f in findings}))


def _flags(cell: NotebookNode) -> tuple:
    """What nbgrader grades a cell as (its source aside): a student who flips one is put back."""
    meta = cell.metadata.get("nbgrader", {})
    points = meta.get("points") if meta.get("grade") else None
    try:
        points = None if points is None else float(points)
    except (TypeError, ValueError):
        pass
    return bool(meta.get("grade")), bool(meta.get("solution")), bool(meta.get("locked")), points


def _listed(findings: list) -> str:
    return "; ".join(str(f) for f in findings[:6]) + (f"; and {len(findings) - 6} more" if len(findings) > 6 else "")


# -- after the run: the scores and why -----------------------------------------------------------
@dataclass
class RootCauses:
    """Problems that make later cells fail for a reason of their own: a syntax error, a
    missing prerequisite, a timeout, a resource limit. A graded cell failing with a
    NameError names the earliest of them instead."""

    syntax: str = ""  # "SyntaxError in your cell 'x', line 3: ..."
    missing_prerequisite: str = ""
    timeout: str = ""  # what a timed-out graded cell says
    timeout_cell: str = ""  # what a NameError after a timed-out cell says
    limit: str = ""  # the first limit reached, and where
    limits_reached: dict[str, str] = field(default_factory=dict)  # resource -> "<limit> reached"

    @property
    def earlier(self) -> str:
        return self.syntax or self.missing_prerequisite or self.timeout_cell or self.limit


def score(report: GradeReport, autograded: NotebookNode, release: NotebookNode, setup: Setup) -> None:
    """Per-cell scores exactly as nbgrader's SaveAutoGrades computes them, the reason of
    each failure, and the flags the run itself raised."""
    from nbgrader import utils

    causes = root_causes(report, autograded, setup)
    by_id = {notebooks.grade_id(c): c for c in autograded.cells if notebooks.grade_id(c)}
    for graded in graded_cells(release):
        cell = by_id.get(graded.grade_id)
        points = 0.0
        if cell is not None:
            auto, _ = utils.determine_grade(cell)
            points = float(auto or 0.0)
        why = "" if points >= graded.max_score else reason(cell, causes)
        report.cells.append(CellResult(graded.grade_id, points, graded.max_score, why))
    clean_room = CleanRoomResult.read_from(autograded)
    if clean_room is not None:
        _clean_room_flags(report, clean_room)


def _clean_room_flags(report: GradeReport, clean_room: CleanRoomResult) -> None:
    if clean_room.mismatched:
        report.flag(FlagKind.CLEAN_ROOM_MISMATCH, "passes in the notebook but fails against the exported code "
                    "alone: " + ", ".join(clean_room.mismatched), clean_room.mismatched)
    if clean_room.tampering:
        report.flag(FlagKind.SUSPICIOUS_CODE, "the exported code changed NumPy or Python while the clean-room "
                    "tests ran: " + ", ".join(clean_room.tampering[:4]))
    if clean_room.stopped is not None:
        stop = clean_room.stopped
        report.flag(FlagKind.TIMEOUT, "clean room: " + stop.describe(), [stop.name] if stop.name else [])
    elif not clean_room.ran:
        report.flag(FlagKind.CLEAN_ROOM_MISMATCH, "the clean-room run stopped early: " + clean_room.problem)
    if clean_room.import_time:
        report.flag(FlagKind.IMPORT_TIME_CODE, "exported code does work when imported: "
                    + _listed(clean_room.import_time), sorted({f.cell for f in clean_room.import_time}))


def root_causes(report: GradeReport, autograded: NotebookNode, setup: Setup) -> RootCauses:
    """The root causes in the autograded notebook's error outputs, each flagged once."""
    causes = RootCauses()
    timed_out = []
    for index, cell in enumerate(autograded.cells):
        if cell.cell_type != "code":
            continue
        name = notebooks.grade_id(cell) or cell.get("id") or f"cell {index}"
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            ename, evalue = output.get("ename", ""), output.get("evalue", "")
            resource = limits.resource_of_error(ename, evalue)
            if ename in SYNTAX_ERRORS and not causes.syntax:
                line = _LINE.search(evalue)
                where = f"your cell '{name}'" + (f", line {line[1]}" if line else "")
                causes.syntax = f"{ename} in {where}: {evalue.split('(')[0].strip()}"
                report.flag(FlagKind.SYNTAX_ERROR, causes.syntax, [name])
            elif (ename in ("ModuleNotFoundError", "ImportError") and "tinytorch" in evalue
                  and not causes.missing_prerequisite):
                causes.missing_prerequisite = f"a module this one builds on cannot be imported ({evalue})"
                report.flag(FlagKind.MISSING_PREREQUISITE, causes.missing_prerequisite + ": complete the earlier "
                            "modules first (`tito module complete NN`)", [name])
            elif ename in TIMEOUT_ERRORS:
                timed_out.append(name)
            elif resource:
                reached = f"{setup.limits.named(resource)} reached"
                causes.limits_reached.setdefault(resource, reached)
                causes.limit = causes.limit or f"{reached} in your cell '{name}'"
                report.flag(FlagKind.RESOURCE_LIMIT, f"{reached} in your cell '{name}' ({ename}: "
                            f"{first_line(evalue)[:120]})", [name])
    if timed_out:
        limit = f"{setup.timeout:g} s"
        causes.timeout = f"interrupted after {limit} (the time limit of a cell)"
        causes.timeout_cell = f"your cell '{timed_out[0]}' was interrupted after {limit} (the time limit of a cell)"
        report.flag(FlagKind.TIMEOUT, f"cell(s) ran longer than {limit} and were interrupted: "
                    + ", ".join(timed_out), timed_out)
    return causes


def reason(cell: NotebookNode | None, causes: RootCauses) -> str:
    """First line of why a graded cell failed."""
    if cell is None:
        return "the cell is missing"
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "error":
            ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
            if ename in TIMEOUT_ERRORS:
                return causes.timeout or "interrupted: the cell ran too long"
            resource = limits.resource_of_error(ename, evalue)
            if resource:
                reached = causes.limits_reached.get(resource, resource + " limit reached")
                return f"{reached} ({ename}: {first_line(evalue)[:120]})"
            if ename == "NameError" and causes.earlier:
                return f"{ename}: {evalue}, because of an earlier problem: {causes.earlier}"
            lines = [line for line in output.get("traceback", []) if line.startswith(RESULT_MARKER)]
            text = lines[-1][len(RESULT_MARKER):] if lines else f"{ename}: {evalue}"
            return _TEST_PREFIX.sub("", first_line(text)) or ename
        if kind == "stream" and output.get("name") == "stderr":
            return "wrote to stderr (a warning counts as a failure): " + first_line(output.get("text", ""))
    return "failed"


def failure(result: ConverterResult, setup: Setup) -> tuple[FlagKind, str]:
    """Why nbgrader could not grade the submission at all."""
    text = result.text
    killed = [e for e in limits.EVENTS if e.step == "notebook run" and e.resource == "memory"]
    if killed:
        return FlagKind.RESOURCE_LIMIT, f"{killed[0].message}: the kernel was stopped, nothing could be graded"
    if "CellTimeoutError" in text and "Timeout waiting for IOPub output" in text:  # nbclient gave up on the kernel
        return (FlagKind.TIMEOUT, f"a cell ran past the cell time limit of {setup.timeout:g} s and ignored the "
                                  "interrupt: its kernel was stopped and nothing could be graded")
    if any(word in text for word in ("DeadKernelError", "Kernel died", "kernel died", "UnresponsiveKernelError",
                                     "unresponsive")):
        return (FlagKind.KERNEL_DIED, "the kernel died or stopped answering (os._exit, a crash, or running out "
                                      "of memory): nothing could be graded")
    last = (text.strip().splitlines() or ["unknown error"])[-1][:200]
    return FlagKind.UNREADABLE, f"nbgrader could not grade it: {last}"


def flag_missing_limits(report: GradeReport) -> None:
    missing = limits.missing()
    if missing:
        report.flag(FlagKind.LIMITS_NOT_IN_FORCE, "resource limits not in force on this grader: "
                    + "; ".join(f"{m.name} ({m.how})" for m in missing))


def flag_limits_reached(report: GradeReport, setup: Setup, skip_kernel_memory: bool = False) -> None:
    """Limits the sandbox's cgroups saw reached (the out-of-memory killer, refused forks)."""
    seen = {flag.message for flag in report.flags}
    for event in limits.EVENTS:
        if skip_kernel_memory and event.step == "notebook run" and event.resource == "memory":
            continue  # already the reason the submission could not be graded
        message = f"{event.step}: {event.message}"
        if message not in seen and event.step in ("notebook run", "clean room"):
            report.flag(FlagKind.RESOURCE_LIMIT, message)
            seen.add(message)


def first_line(text: object) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0][:300] if lines else ""
