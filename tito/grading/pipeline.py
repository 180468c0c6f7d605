"""nbgrader's autograde and feedback steps, with tito's own among them: the submitted
folder checked by the intake, the kernel in the sandbox, outputs cut at a size, the
clean-room re-check, student content sanitized and hidden tests' code replaced by their
results. nbgrader_config.py configures nbgrader with these lists, and so does tito."""

from __future__ import annotations

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from tito.grading.feedback import HideHiddenTests
from tito.grading.preprocessors import CleanRoomCheck, SandboxedExecute, SubmissionIntakeCheck
from tito.grading.sanitize import LimitOutputChars, SanitizeOutputs

AUTOGRADE_STEPS = [SubmissionIntakeCheck, SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                   LimitOutputChars, CleanRoomCheck, SanitizeOutputs, SaveAutoGrades, AssignLatePenalties,
                   CheckCellMetadata]
FEEDBACK_STEPS = [GetGrades, CSSHTMLHeaderPreprocessor, SanitizeOutputs, HideHiddenTests]


def dotted(steps: list[type]) -> list[str]:
    """Class paths, as nbgrader's configuration holds them (plain text: it travels to workers as JSON)."""
    return [f"{step.__module__}.{step.__qualname__}" for step in steps]


AUTOGRADE_PREPROCESSORS = dotted(AUTOGRADE_STEPS)
# tito's own engine grades in a scratch course whose gradebook nobody reads: the score is
# the verdict's, recorded once by the coordinator (late penalty included), so the steps
# that store grades in a gradebook are left out there.
ENGINE_PREPROCESSORS = dotted([step for step in AUTOGRADE_STEPS if step not in (SaveAutoGrades, AssignLatePenalties)])
FEEDBACK_PREPROCESSORS = dotted(FEEDBACK_STEPS)
