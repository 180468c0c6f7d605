"""`tito course build`, the main job on the bundled reference, one module at a time: its
student notebook prepared (never overwritten) and its reference solution graded by the
same engine as students' work. (The package export before it is tito.course.export.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tito.course.paths import Paths
from tito.course.registry import Module
from tito.grading.report import GradeReport
from tito.workflows import student


@dataclass
class BuiltModule:
    module: Module
    notebook: Path  # the student notebook, in modules/
    created: bool  # False: it was there already, and kept
    report: GradeReport  # the reference solution's grades


def build_module(paths: Paths, module: Module) -> BuiltModule:
    notebook, created = student.start(paths, module)
    return BuiltModule(module, notebook, created, student.test_reference(paths, module))
