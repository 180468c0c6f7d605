"""The clean-room re-check: every graded test, hidden ones included, run against the
student's exported code alone, in a fresh sandboxed interpreter.

The notebook run can be fooled by anything an earlier cell does to the kernel (IPython
hooks, tracing, names defined in cells that are not exported). The clean room never runs
those cells: it executes the `#| export` cells (as nbdev exports them) into the module the
package would import, then each graded test. A cell's score is the lower of the two runs.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from tito.course import export
from tito.grading.scan import Finding
from tito.sandbox import bwrap as sandbox
from tito.sandbox import limits
from tito.sandbox.site import RUNNER

FAILURE = "CleanRoomFailure"  # ename of the error output added to a cell that fails only here
METADATA_KEY = "clean_room"  # under the graded notebook's metadata["tito"]


STEP_GRACE = 5.0  # seconds the host waits past the cell timeout before it kills the clean room


@dataclass(frozen=True)
class Stop:
    """Where the host stopped the clean room: the step that ran past its deadline."""

    kind: str  # "test", "exported cell" or "start-up"
    name: str  # the test's grade_id or the exported cell's id ('' at start-up)
    limit: float  # the limit it ran past, in seconds (the cell timeout, or the run's total)
    after: float  # when the host stopped it (the limit plus a grace), in seconds
    total: bool  # the run's total limit (else the step's)

    @property
    def where(self) -> str:
        return f"{self.kind} '{self.name}'" if self.name else self.kind

    def describe(self) -> str:
        which = "the clean room's total limit" if self.total else "the cell time limit"
        return f"{self.where} ran past {which} of {self.limit:g} s and was stopped after {self.after:g} s"


@dataclass
class CleanRoomResult:
    """What the clean room found; CleanRoomCheck keeps it in the graded notebook's metadata
    (`write_to`), where the grading engine reads it back (`read_from`)."""

    ran: bool  # the runner delivered its report
    tests: dict[str, dict] = field(default_factory=dict)  # grade_id -> {passed, reason}
    export_errors: list[dict] = field(default_factory=list)  # cells that did not compile or raised
    tampering: list[str] = field(default_factory=list)  # NumPy/builtins/sys.modules changes put back
    problem: str = ""  # why there is no report
    stopped: Stop | None = None  # the host killed the run at a deadline (tests holds what finished)
    mismatched: list[str] = field(default_factory=list)  # graded cells passing in the notebook, failing here
    import_time: list[Finding] = field(default_factory=list)  # exported statements that do work when imported
    sandboxed: bool = True

    def failure(self, grade_id: str) -> str:
        """'' if the test passed in the clean room, else why not."""
        outcome = self.tests.get(grade_id)
        if self.stopped is not None and outcome is None:
            if self.stopped.kind == "test" and self.stopped.name == grade_id:
                return (f"timed out: the clean room stopped this test after {self.stopped.after:g} s "
                        f"(the time limit of a cell is {self.stopped.limit:g} s)")
            return f"not run: the clean room was stopped at {self.stopped.where} after {self.stopped.after:g} s"
        if not self.ran and self.stopped is None:
            return f"the clean-room run of your exported code stopped early ({self.problem})"
        if outcome is None:
            return "the clean room did not run this test"
        return "" if outcome["passed"] else outcome["reason"] or "failed"

    def to_dict(self) -> dict:
        stopped = None if self.stopped is None else {**asdict(self.stopped), "message": self.stopped.describe()}
        return {"ran": self.ran, "tests": self.tests, "export_errors": self.export_errors,
                "tampering": self.tampering, "problem": self.problem, "stopped": stopped,
                "mismatched": self.mismatched, "import_time": [asdict(f) for f in self.import_time],
                "sandboxed": self.sandboxed}

    @classmethod
    def from_dict(cls, data: dict) -> CleanRoomResult:
        stopped = data.get("stopped")
        return cls(data.get("ran", False), data.get("tests", {}), data.get("export_errors", []),
                   data.get("tampering", []), data.get("problem", ""),
                   Stop(**{k: v for k, v in stopped.items() if k != "message"}) if stopped else None,
                   data.get("mismatched", []), [Finding(**f) for f in data.get("import_time", [])],
                   data.get("sandboxed", True))

    def write_to(self, notebook: NotebookNode) -> None:
        notebook.metadata.setdefault("tito", {})[METADATA_KEY] = self.to_dict()

    @classmethod
    def read_from(cls, notebook: NotebookNode) -> CleanRoomResult | None:
        """The result CleanRoomCheck kept in `notebook`, if it ran."""
        data = notebook.metadata.get("tito", {}).get(METADATA_KEY)
        return cls.from_dict(data) if data else None


def graded_tests(notebook: NotebookNode) -> list[dict]:
    """[{grade_id, source}] of the graded code cells, in order."""
    from nbgrader import utils

    return [{"grade_id": cell.metadata["nbgrader"]["grade_id"], "source": cell.source}
            for cell in notebook.cells if cell.cell_type == "code" and utils.is_grade(cell)]


_RENDERED: dict[str, list[dict]] = {}  # the last renders, by what they depend on
_RENDERED_KEPT = 4


def exported_cells(notebook: NotebookNode, export_target: str) -> list[dict]:
    """The student's `#| export` cells exactly as nbdev exports them, cut into cells.
    Rendered once per content (0.15 s with nbdev): the grading steps that need it share it."""
    key = json.dumps([export_target, [(c.get("id"), c.cell_type, c.source) for c in notebook.cells]])
    if key not in _RENDERED:
        cells = export.split_cells(export.render_target(notebook, export_target, "your-notebook.ipynb"))
        if len(_RENDERED) >= _RENDERED_KEPT:
            _RENDERED.clear()
        _RENDERED[key] = cells
    return [dict(cell) for cell in _RENDERED[key]]


def run(site_dir: Path, export_target: str, cells: list[dict], tests: list[dict], prerequisites: list[str],
        timeout: float, sandboxed: bool = True, guarded: bool = True, total: float | None = None,
        limit: limits.Limits | None = None) -> CleanRoomResult:
    """Run `tests` against `cells` executed as `tinytorch.<export_target>`, with the resource
    `limit` (the defaults if None). The host kills the run when a step (an exported cell, a
    test) outlives `timeout` plus a grace, or the whole run outlives `total`.
    (`guarded=False` switches the runner's self-protection off: only for tests that show
    what it stops.) If `start_early` started this very run, its result."""
    arguments = (site_dir, export_target, cells, tests, prerequisites, timeout, sandboxed, guarded, total, limit)
    with _EARLY_LOCK:
        early = _EARLY.pop(_key(arguments), None)
    if early is not None:
        return early[0].result()
    return _run(*arguments)


# -- the clean room beside the notebook run ------------------------------------------------------
ALONGSIDE = True  # start the clean room beside the notebook run (off in workers that fill every core)
_EARLY: dict[str, tuple[Future, threading.Event, threading.Thread]] = {}
_EARLY_LOCK = threading.Lock()


def _key(arguments: tuple) -> str:
    site_dir, *rest, limit = arguments
    return json.dumps([str(site_dir), *rest, asdict(limit) if limit else None])


def start_early(site_dir: Path, export_target: str, cells: list[dict], tests: list[dict], prerequisites: list[str],
                timeout: float, sandboxed: bool = True, limit: limits.Limits | None = None) -> None:
    """Start `run(...)` with these arguments now, in a thread (the sandboxed interpreter
    runs on another core while the notebook runs); the later `run` call with the same
    arguments waits for it and gets its result. Whatever is not collected is stopped by
    `discard_early()`."""
    arguments = (site_dir, export_target, cells, tests, prerequisites, timeout, sandboxed, True, None, limit)
    future: Future = Future()
    cancel = threading.Event()

    def work() -> None:
        try:
            future.set_result(_run(*arguments, cancel=cancel))
        except BaseException as error:  # noqa: BLE001  (handed to whoever collects the result)
            future.set_exception(error)

    thread = threading.Thread(target=work, name="clean-room", daemon=True)
    with _EARLY_LOCK:
        stale = _EARLY.pop(_key(arguments), None)
        _EARLY[_key(arguments)] = (future, cancel, thread)
    if stale:
        _stop(stale)
    thread.start()


def discard_early() -> None:
    """Stop the early clean rooms that nobody collected (the notebook run failed) and wait
    until their sandboxes are gone."""
    with _EARLY_LOCK:
        pending = list(_EARLY.values())
        _EARLY.clear()
    for started in pending:
        _stop(started)


def _stop(started: tuple[Future, threading.Event, threading.Thread]) -> None:
    _, cancel, thread = started
    cancel.set()
    if thread.ident is not None:
        thread.join()


def _run(site_dir: Path, export_target: str, cells: list[dict], tests: list[dict], prerequisites: list[str],
         timeout: float, sandboxed: bool = True, guarded: bool = True, total: float | None = None,
         limit: limits.Limits | None = None, cancel: threading.Event | None = None) -> CleanRoomResult:
    nonce = secrets.token_hex(16)
    module_name = f"tinytorch.{export_target}"
    job = {"nonce": nonce, "module": module_name, "cells": cells, "tests": tests, "timeout": timeout,
           "prerequisites": prerequisites, "guard": guarded,
           "file": str(site_dir.joinpath("tinytorch", *export_target.split(".")).with_suffix(".py"))}
    if total is None:
        total = timeout * (len(cells) + len(tests) + 1) + 30
    deadline = sandbox.Deadline(timeout + STEP_GRACE, total, marker=f"{nonce} step ")
    completed = sandbox.run(site_dir, [sys.executable, str(site_dir / RUNNER)], stdin=json.dumps(job),
                            sandboxed=sandboxed, deadline=deadline, limit=limit, step="clean room", proc=False,
                            cancel=cancel)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(nonce + "{"):
            data = json.loads(line[len(nonce):])
            return CleanRoomResult(True, data["tests"], data["export_errors"], data["tampering"])
    if completed.stopped == "cancelled":
        return CleanRoomResult(False, problem="cancelled by the host")
    if completed.stopped:
        return _stopped(completed, deadline, timeout)
    detail = (completed.stderr.strip().splitlines() or [""])[-1][:200]
    problem = f"exit code {completed.returncode}" + (f": {detail}" if detail else "")
    return CleanRoomResult(False, problem=problem)


def _stopped(completed: sandbox.RunResult, deadline: sandbox.Deadline, timeout: float) -> CleanRoomResult:
    """The results the runner announced before the step that the host stopped."""
    progress = json.loads(completed.step) if completed.step else {"step": {"kind": "start-up"}, "report": {}}
    step, report = progress["step"], progress["report"]
    total = completed.stopped == "total"
    after = deadline.total_seconds if total else deadline.step_seconds
    stop = Stop(step["kind"], step.get("name", ""), after if total else timeout, after, total)
    return CleanRoomResult(False, report.get("tests", {}), report.get("export_errors", []),
                           report.get("tampering", []), problem=stop.describe(), stopped=stop)
