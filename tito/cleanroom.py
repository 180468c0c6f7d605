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
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from tito import export, sandbox

RUNNER = "_tito_cleanroom.py"  # the runner's name inside the site folder
FAILURE = "CleanRoomFailure"  # ename of the error output added to a cell that fails only here


@dataclass
class CleanRoomResult:
    ran: bool  # the runner delivered its report
    tests: dict[str, dict] = field(default_factory=dict)  # grade_id -> {passed, reason}
    export_errors: list[dict] = field(default_factory=list)  # cells that did not compile or raised
    tampering: list[str] = field(default_factory=list)  # NumPy/builtins/sys.modules changes put back
    problem: str = ""  # why there is no report

    def failure(self, grade_id: str) -> str:
        """'' if the test passed in the clean room, else why not."""
        if not self.ran:
            return f"the clean-room run of your exported code stopped early ({self.problem})"
        outcome = self.tests.get(grade_id)
        if outcome is None:
            return "the clean room did not run this test"
        return "" if outcome["passed"] else outcome["reason"] or "failed"

    def to_dict(self) -> dict:
        return {"ran": self.ran, "tests": self.tests, "export_errors": self.export_errors,
                "tampering": self.tampering, "problem": self.problem}


def graded_tests(notebook: NotebookNode) -> list[dict]:
    """[{grade_id, source}] of the graded code cells, in order."""
    from nbgrader import utils

    return [{"grade_id": cell.metadata["nbgrader"]["grade_id"], "source": cell.source}
            for cell in notebook.cells if cell.cell_type == "code" and utils.is_grade(cell)]


def exported_cells(notebook: NotebookNode, export_target: str) -> list[dict]:
    """The student's `#| export` cells exactly as nbdev exports them, cut into cells."""
    return export.split_cells(export.render_target(notebook, export_target, "your-notebook.ipynb"))


def run(site_dir: Path, export_target: str, cells: list[dict], tests: list[dict], prerequisites: list[str],
        timeout: float, sandboxed: bool = True, guarded: bool = True) -> CleanRoomResult:
    """Run `tests` against `cells` executed as `tinytorch.<export_target>`. (`guarded=False`
    switches the runner's self-protection off: only for tests that show what it stops.)"""
    nonce = secrets.token_hex(16)
    module_name = f"tinytorch.{export_target}"
    job = {"nonce": nonce, "module": module_name, "cells": cells, "tests": tests, "timeout": timeout,
           "prerequisites": prerequisites, "guard": guarded,
           "file": str(site_dir.joinpath("tinytorch", *export_target.split(".")).with_suffix(".py"))}
    limit = timeout * (len(cells) + len(tests) + 1) + 30
    completed = sandbox.run(site_dir, [sys.executable, str(site_dir / RUNNER)], stdin=json.dumps(job),
                            timeout=limit, sandboxed=sandboxed)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(nonce):
            data = json.loads(line[len(nonce):])
            return CleanRoomResult(True, data["tests"], data["export_errors"], data["tampering"])
    detail = (completed.stderr.strip().splitlines() or [""])[-1][:200]
    problem = f"exit code {completed.returncode}" + (f": {detail}" if detail else "")
    return CleanRoomResult(False, problem=problem)
