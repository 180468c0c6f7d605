"""What grading found: per-cell results, structured flags and the report of one submission.

Flags inform the instructor; they never raise a score. Other code compares them by
`kind`, never by their text.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field


class FlagKind(str, enum.Enum):  # noqa: UP042  (str() of a member stays its name, as stored reports expect)
    TAMPERED = "tampered"  # a locked cell was edited (restored for grading)
    MISSING = "missing"  # graded or solution cells were deleted
    TIMEOUT = "timeout"  # a cell ran past the time limit and was interrupted
    KERNEL_DIED = "kernel_died"  # the kernel died or stopped answering; grading stopped
    UNREADABLE = "unreadable"  # no notebook, or a file that is not a notebook
    SYNTAX_ERROR = "syntax_error"  # student code that Python cannot parse
    SUSPICIOUS_CODE = "suspicious_code"  # interpreter manipulation found in student cells
    IMPORT_TIME_CODE = "import_time_code"  # exported code that does work when imported
    CLEAN_ROOM_MISMATCH = "clean_room_mismatch"  # passes in the notebook, fails on the exported code
    MISSING_PREREQUISITE = "missing_prerequisite"  # an earlier module cannot be imported
    UNSANDBOXED = "unsandboxed"  # graded with --no-sandbox
    REFUSED_FILE = "refused_file"  # a file of the submission was not read (link, device, too large, outside)
    BAD_TIMESTAMP = "bad_timestamp"  # timestamp.txt missing or unreadable: graded with no submission time
    ODD_STUDENT_ID = "odd_student_id"  # a student folder name with glob characters, spaces or control characters
    GRADING_ERROR = "grading_error"  # an unexpected error while reading, grading or recording this submission
    RESOURCE_LIMIT = "resource_limit"  # a sandboxed run reached its memory, process, disk, output or time limit
    LIMITS_NOT_IN_FORCE = "limits_not_in_force"  # some resource limits could not be applied on this machine
    INSECURE_CLUSTER = "insecure_cluster"  # graded on a Dask cluster without TLS (--insecure-cluster)


# About the grading machine, not the submission: not a reason to mark a submission for review.
MACHINE_FLAGS = frozenset({FlagKind.LIMITS_NOT_IN_FORCE})
REVIEW_HEADING = "tito flags for review:"  # first line of the gradebook comment that lists them


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    message: str
    cells: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "message": self.message, "cells": list(self.cells)}

    def __str__(self) -> str:
        return self.message


@dataclass
class CellResult:
    grade_id: str
    score: float
    max_score: float
    reason: str = ""  # first line of why the cell failed: the assertion message or the exception

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    def to_dict(self) -> dict:
        return {"grade_id": self.grade_id, "score": self.score, "max_score": self.max_score,
                "passed": self.passed, "reason": self.reason}


@dataclass
class GradeReport:
    student: str
    module: str
    cells: list[CellResult] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    graded: bool = True  # False when the submission could not be graded at all
    sandboxed: bool = True
    hidden_points: float = 0.0  # points of cells whose hidden checks this run could not see

    @property
    def score(self) -> float:
        return sum(cell.score for cell in self.cells)

    @property
    def max_score(self) -> float:
        return sum(cell.max_score for cell in self.cells)

    @property
    def full_marks(self) -> bool:
        return self.graded and bool(self.cells) and self.score >= self.max_score

    @property
    def reason(self) -> str:
        """Why an ungradable submission could not be graded ('' when it was graded)."""
        if self.graded:
            return ""
        return "; ".join(flag.message for flag in self.flags) or "could not be graded"

    @property
    def review_flags(self) -> list[Flag]:
        """The flags about this submission (what formgrader's "Flagged?" column marks)."""
        return [flag for flag in self.flags if flag.kind not in MACHINE_FLAGS]

    def review_comment(self) -> str:
        """The review flags as a comment for nbgrader's gradebook ('' without any)."""
        flags = self.review_flags
        if not flags:
            return ""
        return "\n".join([REVIEW_HEADING, *(f"- {flag.kind.value}: {flag.message}" for flag in flags)])

    def has(self, *kinds: FlagKind) -> bool:
        return any(flag.kind in kinds for flag in self.flags)

    def flag(self, kind: FlagKind, message: str, cells: list[str] | tuple[str, ...] = ()) -> None:
        self.flags.append(Flag(kind, message, tuple(cells)))

    def to_dict(self) -> dict:
        return {
            "student": self.student, "module": self.module, "score": self.score,
            "max_score": self.max_score, "graded": self.graded, "reason": self.reason,
            "sandboxed": self.sandboxed, "flags": [flag.to_dict() for flag in self.flags],
            "cells": [cell.to_dict() for cell in self.cells],
        }

    @classmethod
    def from_dict(cls, data: dict) -> GradeReport:
        report = cls(data["student"], data["module"], graded=data["graded"], sandboxed=data["sandboxed"])
        report.cells = [CellResult(c["grade_id"], c["score"], c["max_score"], c["reason"]) for c in data["cells"]]
        report.flags = [Flag(FlagKind(f["kind"]), f["message"], tuple(f["cells"])) for f in data["flags"]]
        return report


def mark_for_review(submitted, report: GradeReport, solution_cells: list[str]) -> None:
    """nbgrader's gradebook as formgrader shows it: `submitted` (nbgrader's SubmittedNotebook)
    flagged when the report has review flags (the "Flagged?" column), and the flags in the
    automatic comment of its first solution cell (formgrader shows it in that cell's comment
    box). Marking again replaces what an earlier run wrote."""
    submitted.flagged = bool(report.review_flags)
    comments = {comment.name: comment for comment in submitted.comments}
    first = next((name for name in solution_cells if name in comments), None)
    if first is None:
        return
    comment = comments[first]
    kept = (comment.auto_comment or "").split(REVIEW_HEADING)[0].strip()
    comment.auto_comment = "\n\n".join(part for part in (kept, report.review_comment()) if part) or None


def reports_json(reports: list[GradeReport]) -> str:
    return json.dumps([report.to_dict() for report in reports], indent=2)
