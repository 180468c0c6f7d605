"""`tito nbgrader report`: one static HTML page about a module's whole class.

What it shows, and where each number comes from:
- the score distribution and every student's score: the gradebook (the score after any
  late penalty, as the grade export writes it), figure and table;
- the pass rate of each graded cell: the gradebook's grade of that cell in every submission
  (full points is a pass; a submission that could not be graded fails every cell);
- the most frequent failure reasons per cell, grouped (numbers and addresses in a reason do
  not split a group): tito's stored report of each graded submission;
- the flags to review and late submissions, each with a link to the student's feedback page;
- grading time per submission: what autograde measured on its worker;
- submissions that could not be graded, and why.

The page is data, never code: every text in it is escaped (student ids, reasons and flag
messages are student text), it has no script and loads nothing (figures are PNG `data:`
images drawn by matplotlib, styles are inline), and its Content-Security-Policy is the
feedback pages' (no script, no network). It opens from disk with no network.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import statistics
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from tito.course.paths import Paths
from tito.course.registry import Module
from tito.coursedir.config import CoursePaths, load_config
from tito.coursedir.database import opened
from tito.errors import TitoError
from tito.grading.feedback import CSP_META
from tito.grading.report import Flag
from tito.grading.verdict import graded_cells
from tito.workflows.instructor import assignments, gradebook

REASONS_PER_CELL = 5  # groups of failure reasons shown per cell
STUDENTS_PER_REASON = 8  # ids shown beside a reason, then "and N more"


@dataclass(frozen=True)
class StudentRow:
    student: str
    score: float  # after the late penalty, as exported
    max_score: float
    graded: bool
    reason: str = ""  # why it could not be graded
    late: str = ""  # the late note ('' when on time)
    seconds: float | None = None  # grading time, where autograde measured it
    feedback: Path | None = None  # the feedback page, if written
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class CellStats:
    grade_id: str
    points: float
    passed: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass(frozen=True)
class ReasonGroup:
    grade_id: str
    reason: str  # the group's most frequent wording
    students: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.students)


@dataclass
class ClassReport:
    module: str
    max_score: float
    generated: datetime
    duedate: datetime | None
    students: list[StudentRow] = field(default_factory=list)
    cells: list[CellStats] = field(default_factory=list)
    reasons: list[ReasonGroup] = field(default_factory=list)

    @property
    def scores(self) -> list[float]:
        return [row.score for row in self.students]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.students else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.scores) if self.students else 0.0

    @property
    def full_marks(self) -> int:
        return sum(1 for row in self.students if row.score >= self.max_score)

    @property
    def ungradable(self) -> list[StudentRow]:
        return [row for row in self.students if not row.graded]

    @property
    def to_review(self) -> list[StudentRow]:
        return [row for row in self.students if row.flags or row.late]

    @property
    def timed(self) -> list[StudentRow]:
        return [row for row in self.students if row.seconds is not None]


# -- the numbers ----------------------------------------------------------------------------------------
def class_report(paths: Paths, module: Module) -> ClassReport:
    """The class's results for `module`, from the gradebook and the stored reports."""
    from nbgrader.api import MissingEntry

    assignments.ensure_generated(paths, module)
    course = CoursePaths.of(load_config(paths))
    notebook_id = Path(module.notebook_name).stem
    with opened(course.db_url) as book:
        try:
            assignment = book.find_assignment(module.slug)
        except MissingEntry as error:
            raise TitoError(f"{module.slug} is not in the gradebook.",
                            f"Run `tito nbgrader generate {module.slug}` first.") from error
        report = ClassReport(module.slug, assignment.max_score, datetime.now(UTC).replace(tzinfo=None),
                             assignment.duedate)
        definition = next(n for n in assignment.notebooks if n.name == notebook_id)
        points = {cell.name: cell.max_score for cell in definition.grade_cells}
        release = nbformat.read(course.release(module.slug, module.notebook_name), as_version=4)
        in_order = [cell.grade_id for cell in graded_cells(release) if cell.grade_id in points]
        cells = {name: [0, 0, points[name]] for name in in_order + sorted(set(points) - set(in_order))}
        for submission in sorted(book.assignment_submissions(module.slug), key=lambda s: s.student.id):
            report.students.append(_student_row(course, module, submission))
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.cell.name in cells:
                        cells[grade.cell.name][1] += 1
                        cells[grade.cell.name][0] += (grade.score or 0.0) >= grade.max_score
    if not report.students:
        raise TitoError(f"No graded submissions of {module.slug} in the gradebook.",
                        f"Run `tito nbgrader autograde {module.slug}` first.")
    report.cells = [CellStats(name, points, passed, total) for name, (passed, total, points) in cells.items()]
    report.reasons = failure_reasons(course, module, report.students)
    return report


def _student_row(course: CoursePaths, module: Module, submission) -> StudentRow:
    student = submission.student.id
    stored = gradebook.stored_report(course, module.slug, student)
    penalty = submission.late_submission_penalty or 0.0
    page = course.feedback(student, module.slug, module.notebook_name.replace(".ipynb", ".html"))
    graded = stored.graded if stored is not None else True
    return StudentRow(student, max(0.0, submission.score - penalty), submission.max_score, graded,
                      stored.reason if stored is not None else "", assignments.late_note(submission),
                      assignments.grading_seconds(course, module.slug, student), page if page.is_file() else None,
                      tuple(stored.flags) if stored is not None else ())


def reason_key(reason: str) -> str:
    """What groups failure reasons: the wording, with numbers and addresses left out."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x…", reason)
    text = re.sub(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", "#", text)
    return " ".join(text.split()).lower()


def failure_reasons(course: CoursePaths, module: Module, students: list[StudentRow]) -> list[ReasonGroup]:
    """Each cell's failure reasons in the graded submissions, grouped, most frequent first."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    order: dict[str, int] = {}
    for row in students:
        stored = gradebook.stored_report(course, module.slug, row.student)
        if stored is None or not stored.graded:
            continue
        for index, cell in enumerate(stored.cells):
            order.setdefault(cell.grade_id, index)
            if not cell.passed:
                reason = cell.reason or "(no reason recorded)"
                groups.setdefault((cell.grade_id, reason_key(reason)), []).append((row.student, reason))
    result = []
    for (grade_id, _), members in groups.items():
        wording = Counter(reason for _, reason in members).most_common(1)[0][0]
        result.append(ReasonGroup(grade_id, wording, tuple(sorted({student for student, _ in members}))))
    result.sort(key=lambda group: (order.get(group.grade_id, 0), -group.count, group.reason))
    kept, shown = [], Counter()
    for group in result:
        if shown[group.grade_id] < REASONS_PER_CELL:
            kept.append(group)
            shown[group.grade_id] += 1
    return kept


# -- the figures -----------------------------------------------------------------------------------------
def _png(figure) -> str:
    """The figure as a data: URL (PNG), the only kind of image the page's policy allows."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _plain(text: str) -> str:
    """Text matplotlib draws as it is (a `$` would start mathtext)."""
    return text.replace("$", r"\$")


def figures(report: ClassReport) -> dict[str, str]:
    """name -> PNG data URL: the score distribution, the pass rate per cell, grading times."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    result = {}
    top = report.max_score or 1.0
    figure = Figure(figsize=(6.4, 2.8))
    axes = figure.subplots()
    bins = [top * step / 10 for step in range(11)]
    axes.hist(report.scores, bins=bins, color="#4c72b0", edgecolor="white")
    axes.axvline(report.mean, color="#c44e52", linestyle="--", label=f"mean {report.mean:.1f}")
    axes.set_xlabel(f"score (of {top:g})")
    axes.set_ylabel("students")
    axes.set_xlim(0, top)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(frameon=False)
    result["scores"] = _png(figure)

    figure = Figure(figsize=(6.4, 0.45 * len(report.cells) + 0.8))
    axes = figure.subplots()
    names = [_plain(cell.grade_id) for cell in report.cells][::-1]
    rates = [100 * cell.rate for cell in report.cells][::-1]
    axes.barh(names, rates, color=["#55a868" if rate >= 80 else "#dd8452" if rate >= 50 else "#c44e52"
                                   for rate in rates])
    axes.set_xlim(0, 100)
    axes.set_xlabel("passed (% of submissions)")
    result["cells"] = _png(figure)

    timed = sorted((row.seconds for row in report.timed), reverse=True)
    if timed:
        figure = Figure(figsize=(6.4, 2.4))
        axes = figure.subplots()
        axes.bar(range(1, len(timed) + 1), timed, color="#8172b3")
        axes.set_xlabel("submissions, slowest first")
        axes.set_ylabel("seconds")
        result["times"] = _png(figure)
    return result


# -- the page -----------------------------------------------------------------------------------------------
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 62rem;
       color: #1f2328; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem;
     border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
.summary { display: flex; gap: 1.2rem; flex-wrap: wrap; margin: 1rem 0; }
.summary div { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem .9rem; }
.summary b { display: block; font-size: 1.3rem; }
table { border-collapse: collapse; margin: .6rem 0; width: 100%; font-size: .92rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #59636e; } .late { color: #9a6700; font-weight: 600; } .bad { color: #cf222e; }
img { max-width: 100%; } code { font-size: .88em; } td:first-child code { white-space: nowrap; }
"""


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: float) -> str:
    return f"{value:g}"


def _link(row: StudentRow, here: Path) -> str:
    """The student's id, linked to their feedback page (relative to the report's folder)."""
    if row.feedback is None:
        return f'<span data-student="{_text(row.student)}">{_text(row.student)}</span>'
    target = urllib.parse.quote(Path(os.path.relpath(row.feedback, here)).as_posix())
    return f'<a href="{_text(target)}" data-student="{_text(row.student)}">{_text(row.student)}</a>'


def _table(headers: list[tuple[str, str]], rows: list[list[str]], name: str) -> str:
    """headers: (text, css class); cells are HTML made by the caller from escaped text."""
    head = "".join(f'<th class="{css}">{_text(text)}</th>' for text, css in headers)
    body = "".join("<tr>" + "".join(f'<td class="{headers[i][1]}">{cell}</td>' for i, cell in enumerate(row))
                   + "</tr>" for row in rows)
    return f'<table id="{name}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render(report: ClassReport, here: Path) -> str:
    """The report as one HTML page; links are relative to `here`, the folder it is written to."""
    images = figures(report)
    parts = [_header(report), _scores(report, here, images), _cells(report, images), _reasons(report),
             _review(report, here), _times(report, here, images), _ungradable(report, here)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n" + CSP_META +
            f"\n<title>{_text(report.module)}: class report</title>\n<style>{_STYLE}</style></head>\n<body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def _header(report: ClassReport) -> str:
    due = f"{report.duedate:%Y-%m-%d %H:%M} UTC" if report.duedate else "none set"
    boxes = [("submissions", len(report.students)), ("mean", f"{report.mean:.1f} / {_number(report.max_score)}"),
             ("median", _number(report.median)), ("full marks", report.full_marks),
             ("flagged or late", len(report.to_review)), ("not gradable", len(report.ungradable))]
    summary = "".join(f'<div id="summary-{_text(name.replace(" ", "-"))}">{_text(name)}<b>{_text(value)}</b></div>'
                      for name, value in boxes)
    return (f"<h1>{_text(report.module)}: the class</h1>\n<p class=\"muted\">From the gradebook and the graded "
            f"reports, {report.generated:%Y-%m-%d %H:%M} UTC. Due date: {_text(due)}.</p>\n"
            f'<div class="summary">{summary}</div>')


def _scores(report: ClassReport, here: Path, images: dict[str, str]) -> str:
    rows = [[_link(row, here), f'<span data-score="{_number(row.score)}">{_number(row.score)}</span>',
             _number(row.max_score), f'<span class="late">{_text(row.late)}</span>' if row.late else ""]
            for row in report.students]
    table = _table([("student", ""), ("score", "num"), ("of", "num"), ("late", "")], rows, "scores")
    return (f'<h2>Score distribution</h2>\n<img id="figure-scores" alt="histogram of the scores" '
            f'src="{images["scores"]}">\n<details open><summary>Every score</summary>{table}</details>')


def _cells(report: ClassReport, images: dict[str, str]) -> str:
    rows = [[f"<code>{_text(cell.grade_id)}</code>", _number(cell.points),
             f'<span data-passed="{cell.passed}" data-total="{cell.total}">{cell.passed} / {cell.total}</span>',
             f"{100 * cell.rate:.0f} %"] for cell in report.cells]
    table = _table([("graded cell", ""), ("points", "num"), ("passed", "num"), ("rate", "num")], rows, "cells")
    return (f'<h2>Pass rate per graded cell</h2>\n<img id="figure-cells" alt="pass rate of each graded cell" '
            f'src="{images["cells"]}">\n{table}')


def _reasons(report: ClassReport) -> str:
    if not report.reasons:
        return "<h2>Most frequent failure reasons</h2>\n<p>No graded cell failed.</p>"
    rows = []
    for group in report.reasons:
        shown = ", ".join(group.students[:STUDENTS_PER_REASON])
        more = group.count - STUDENTS_PER_REASON
        rows.append([f"<code>{_text(group.grade_id)}</code>", _text(group.reason),
                     f'<span data-count="{group.count}">{group.count}</span>',
                     _text(shown + (f" and {more} more" if more > 0 else ""))])
    table = _table([("graded cell", ""), ("why it failed", ""), ("students", "num"), ("who", "muted")], rows,
                   "reasons")
    return ("<h2>Most frequent failure reasons</h2>\n<p class=\"muted\">Per cell, grouped by wording (numbers "
            f"left out), at most {REASONS_PER_CELL} per cell.</p>\n{table}")


def _review(report: ClassReport, here: Path) -> str:
    rows = []
    for row in report.to_review:
        for flag in row.flags:
            rows.append([_link(row, here), f"<code>{_text(flag.kind.value)}</code>", _text(flag.message)])
        if row.late:
            rows.append([_link(row, here), '<code class="late">late</code>', _text(row.late)])
    if not rows:
        return "<h2>Flags to review</h2>\n<p>No flag, and no late submission.</p>"
    table = _table([("student", ""), ("flag", ""), ("what", "")], rows, "flags")
    return f"<h2>Flags to review</h2>\n<p class=\"muted\">Each name links to the feedback page.</p>\n{table}"


def _times(report: ClassReport, here: Path, images: dict[str, str]) -> str:
    timed = report.timed
    if not timed:
        return "<h2>Grading time per submission</h2>\n<p>Not measured (graded before tito recorded times).</p>"
    seconds = [row.seconds for row in timed]
    rows = [[_link(row, here), f'<span data-seconds="{row.seconds:.2f}">{row.seconds:.2f}</span>']
            for row in sorted(timed, key=lambda r: -r.seconds)]
    table = _table([("student", ""), ("seconds", "num")], rows, "times")
    return (f"<h2>Grading time per submission</h2>\n<p>{len(timed)} measured on the grading worker: mean "
            f"{statistics.fmean(seconds):.2f} s, slowest {max(seconds):.2f} s, {sum(seconds):.1f} s in all.</p>\n"
            f'<img id="figure-times" alt="grading time of each submission" src="{images["times"]}">\n'
            f"<details><summary>Every time</summary>{table}</details>")


def _ungradable(report: ClassReport, here: Path) -> str:
    if not report.ungradable:
        return "<h2>Submissions that could not be graded</h2>\n<p>None.</p>"
    rows = [[_link(row, here), _text(row.reason or "could not be graded")] for row in report.ungradable]
    table = _table([("student", ""), ("why", "")], rows, "ungradable")
    return f"<h2>Submissions that could not be graded</h2>\n{table}"


@dataclass(frozen=True)
class ReportResult:
    destination: Path
    report: ClassReport


def write_report(paths: Paths, module: Module, destination: Path, force: bool = False) -> ReportResult:
    """Write the class report of `module` to `destination` (an HTML file; checked first, and
    never over an existing file without `force`)."""
    assignments.check_destination(destination, force)
    report = class_report(paths, module)
    assignments.write_text(destination, render(report, destination.parent))
    return ReportResult(destination, report)
