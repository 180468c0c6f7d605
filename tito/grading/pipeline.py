"""nbgrader's autograde and feedback steps, with tito's own among them: the submitted
folder checked by the intake, the kernel in the sandbox, outputs cut at a size, the
clean-room re-check, student content sanitized and hidden tests' code replaced by their
results. nbgrader_config.py configures nbgrader with these lists, and so does tito."""

from __future__ import annotations

from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from tito.grading import cleanroom
from tito.grading.feedback import FeedbackSummary, HideHiddenTests
from tito.grading.preprocessors import (
    CleanRoomCheck,
    RestoreHiddenTests,
    SandboxedExecute,
    SubmissionIntakeCheck,
    WriteGradeReport,
    site_modules,
)
from tito.grading.sanitize import LimitOutputChars, SanitizeOutputs
from tito.sandbox.bwrap import TinyTorchSandbox


class CleanRoomAlongside(CleanRoomCheck):
    """Before the notebook run: start the clean room on the same exported cells and tests
    (the run changes no source), so that it runs on another core beside the kernel and
    CleanRoomCheck, after the run, only collects its result. tito's engine only, where the
    site and the export target are set (nbgrader's own CLI keeps the clean room after)."""

    def preprocess(self, nb, resources: dict):
        settings = TinyTorchSandbox(parent=self)
        if not (cleanroom.ALONGSIDE and self.export_target and settings.site):
            return nb, resources
        try:
            cells = cleanroom.exported_cells(nb, self.export_target)
        except RuntimeError:  # nothing exported: CleanRoomCheck runs the tests against nothing, as before
            cells = []
        site_dir = Path(settings.site)
        timeout = float(self.config.Execute.get("timeout", 60) or 60)
        cleanroom.start_early(site_dir, self.export_target, cells, cleanroom.graded_tests(nb), site_modules(site_dir),
                              timeout, sandboxed=settings.enabled, limit=settings.limits())
        return nb, resources


AUTOGRADE_STEPS = [SubmissionIntakeCheck, SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                   LimitOutputChars, CleanRoomCheck, SanitizeOutputs, SaveAutoGrades, AssignLatePenalties,
                   CheckCellMetadata]
# The page leads with the reasons (FeedbackSummary), and shows hidden checks' results, not their code.
FEEDBACK_STEPS = [GetGrades, CSSHTMLHeaderPreprocessor, SanitizeOutputs, FeedbackSummary, HideHiddenTests]


def dotted(steps: list[type]) -> list[str]:
    """Class paths, as nbgrader's configuration holds them (plain text: it travels to workers as JSON)."""
    return [f"{step.__module__}.{step.__qualname__}" for step in steps]


AUTOGRADE_PREPROCESSORS = dotted(AUTOGRADE_STEPS)
# nbgrader's own autograde (and formgrader's button) also writes tito's report beside each
# autograded notebook and marks flagged submissions in the gradebook; tito's engine leaves
# that step out, its coordinator does it.
NBGRADER_AUTOGRADE_PREPROCESSORS = dotted(AUTOGRADE_STEPS + [WriteGradeReport])
# tito's own engine grades in a scratch course whose gradebook nobody reads: the score is
# the verdict's, recorded once by the coordinator (late penalty included), so the steps
# that store grades in a gradebook are left out there.
ENGINE_STEPS = [step for step in AUTOGRADE_STEPS if step not in (SaveAutoGrades, AssignLatePenalties)]
ENGINE_STEPS.insert(ENGINE_STEPS.index(SandboxedExecute), CleanRoomAlongside)
ENGINE_PREPROCESSORS = dotted(ENGINE_STEPS)
FEEDBACK_PREPROCESSORS = dotted(FEEDBACK_STEPS)


def sanitize_preprocessors() -> list[str]:
    """nbgrader's own sanitizing steps, with the hidden tests put back into each locked cell a
    student left untouched before OverwriteCells compares checksums: generate stores them with
    the hidden tests in (nbgrader #1961), so nbgrader would otherwise report every test cell of
    every submission as changed. An edited cell is still reported and restored."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import OverwriteCells

    steps = Autograde.sanitize_preprocessors.make_dynamic_default()
    steps.insert(steps.index(OverwriteCells), RestoreHiddenTests)
    return dotted(steps)
