"""From hand-in to LMS import without touching a file by hand, on both LMS formats.

Three students hand in with `tito module submit`. Their files go into a Canvas-style and a
Moodle-style bulk download (Canvas marks Alan late; Grace's Moodle upload is after the due
date), each with hostile entries (a symbolic link, `../evil.ipynb`, a file over the size
cap, a name twice in the zip) beside the honest ones. `tito nbgrader collect` takes both,
`autograde` grades the six submissions, `export` writes Canvas's and Moodle's import files
and nbgrader's CSV, and `report` draws the class. Every score is checked in every file,
the late ones are marked, and every hostile entry is refused by name (loop_course.py)."""

from __future__ import annotations

import csv
import io
import re
import shutil
from html.parser import HTMLParser

import pytest
from helpers import run_tito
from loop_course import (
    CANVAS,
    CANVAS_IDS,
    DUE,
    HOSTILE,
    LATE,
    MODULE,
    MOODLE,
    MOODLE_IDS,
    NOTEBOOK,
    TOTALS,
    copy_course,
    course_env,
)

pytestmark = pytest.mark.slow

EVERYONE = CANVAS_IDS | MOODLE_IDS  # course student id -> the person


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _gradebook(loop):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{loop.course / 'gradebook.db'}", "tinytorch")


# -- hand-in -----------------------------------------------------------------------------------------------
def test_each_student_hands_in_the_notebook_that_was_checked(handed_in, generated):
    import nbformat
    from loop_course import notebooks

    written = notebooks(generated)
    for student, total in TOTALS.items():
        output = handed_in.outputs[student]
        assert handed_in.codes[student] == 0, output
        assert f"Ready to hand in: modules/hand-in/{MODULE}/{NOTEBOOK} ({total:g}/100)" in output, output
        assert f"Next: upload modules/hand-in/{MODULE}/{NOTEBOOK} to your course page" in output
        handed = nbformat.reads(handed_in.files[student].decode(), as_version=4)
        assert [c.source for c in handed.cells] == [c.source for c in written[student].cells]


# -- collect ---------------------------------------------------------------------------------------------
def test_collect_takes_both_downloads_and_refuses_every_hostile_entry_by_name(loop):
    for lms, download in loop.downloads.items():
        output = loop.out(f"collect {lms}")
        assert loop.runs[f"collect {lms}"].returncode == 0, output
        assert f"{download.name}: {lms.capitalize()} (detected)" in output
        for name, why in HOSTILE[lms].items():
            assert re.search(rf"{re.escape(download.name)}: {re.escape(name)}: {why}", output), (name, output)
        unmatched = 2 if lms == "canvas" else 1  # notes.txt and README.txt; Moodle's online text
        assert f"3 collected (1 late), 4 refused, {unmatched} unmatched" in output, output
    assert sorted(p.name for p in (loop.course / "submitted").iterdir()) == sorted(EVERYONE)
    assert not list(loop.base.parent.rglob("evil.ipynb")), "nothing was written outside the course"
    for student in EVERYONE:
        folder = loop.course / "submitted" / student / MODULE
        assert sorted(p.name for p in folder.iterdir()) == ["layers.ipynb", "timestamp.txt"]


def test_each_file_is_the_student_s_own_and_the_newest_of_two_is_kept_and_said(loop):
    for student, person in EVERYONE.items():
        collected = (loop.course / "submitted" / student / MODULE / NOTEBOOK).read_bytes()
        assert collected == loop.handed_in.files[person], student
    output = " ".join(loop.out("collect canvas").split())
    assert ("hoppergrace: 2 notebooks; kept the newest, canvas-submissions.zip: hoppergrace_1003_9010_layers-1.ipynb "
            "(2026-11-20 11:00:00 UTC); left out canvas-submissions.zip: hoppergrace_1003_9003_layers.ipynb") in output


def test_timestamps_are_written_and_the_late_ones_are_late_as_nbgrader_counts(loop):
    times = {student: (loop.course / "submitted" / student / MODULE / "timestamp.txt").read_text()
             for student in EVERYONE}
    assert times["turingalan"] == "2026-11-20 12:30:00.000000 UTC"
    assert times["grace_hopper"] == "2026-11-20 13:15:00.000000 UTC"
    assert times["lovelaceada"] == "2026-11-20 10:00:00.000000 UTC"
    with _gradebook(loop) as book:
        assert book.find_assignment(MODULE).duedate == DUE
        late = {s.student.id for s in book.assignment_submissions(MODULE) if s.total_seconds_late > 0}
    assert late == LATE


def test_the_lms_ids_are_kept_for_the_export(loop):
    from tito.course.paths import Paths
    from tito.coursedir.config import CoursePaths, load_config
    from tito.workflows.instructor import lms

    roster = lms.load_roster(CoursePaths.of(load_config(Paths(loop.root))), MODULE)
    assert {s: (i.lms.value, i.lms_id) for s, i in roster.items()} == (
        {student: ("canvas", CANVAS[person][1]) for student, person in CANVAS_IDS.items()}
        | {student: ("moodle", MOODLE[person][1]) for student, person in MOODLE_IDS.items()})
    assert roster["turingalan"].lms_late is True and roster["lovelaceada"].lms_late is False


# -- grades -----------------------------------------------------------------------------------------------
def test_every_submission_gets_its_score(loop):
    assert loop.runs["autograde"].returncode == 0, loop.out("autograde")
    assert {s: r["score"] for s, r in loop.reports.items()} == {s: TOTALS[p] for s, p in EVERYONE.items()}
    with _gradebook(loop) as book:
        assert {s.student.id: s.score for s in book.assignment_submissions(MODULE)} == \
            {s: TOTALS[p] for s, p in EVERYONE.items()}


def test_the_canvas_file_is_canvas_s_gradebook_import_with_every_score(loop):
    assert loop.runs["export canvas"].returncode == 0, loop.out("export canvas")
    rows = _rows((loop.base / "canvas.csv").read_text())
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", MODULE]
    assert rows[1] == ["Points Possible", "", "", "", "", "100.0"]
    assert {row[1]: float(row[5]) for row in rows[2:]} == {CANVAS[p][1]: TOTALS[p] for p in CANVAS}
    assert {row[0] for row in rows[2:]} == set(CANVAS_IDS)
    assert "3 student(s), 1 late" in loop.out("export canvas")
    assert "left out: ada_lovelace: collected from Moodle, not Canvas" in loop.out("export canvas")


def test_the_moodle_file_is_the_grading_worksheet_with_every_score_and_the_late_one_marked(loop):
    from tito.workflows.instructor.lms import MOODLE_COLUMNS

    assert loop.runs["export moodle"].returncode == 0, loop.out("export moodle")
    rows = _rows((loop.base / "moodle.csv").read_text())
    assert rows[0] == MOODLE_COLUMNS
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert {row["Identifier"]: float(row["Grade"]) for row in table} == \
        {f"Participant {MOODLE[p][1]}": TOTALS[p] for p in MOODLE}
    comments = {row["Full name"]: row["Feedback comments"] for row in table}
    assert comments["Grace Hopper"] == "late: submitted 2026-11-20 13:15:00 UTC, 1 h 15 min after the due date"
    assert comments["Ada Lovelace"] == comments["Alan Turing"] == ""


def test_the_nbgrader_csv_has_every_score_and_marks_the_late_ones(loop):
    rows = _rows((loop.base / "grades.csv").read_text())
    table = {row[3]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert {s: float(row["score"]) for s, row in table.items()} == {s: TOTALS[p] for s, p in EVERYONE.items()}
    assert {s for s, row in table.items() if row["flags"].startswith("late: submitted")} == LATE
    assert table["turingalan"]["flags"] == "late: submitted 2026-11-20 12:30:00 UTC, 30 min after the due date"


def test_an_export_never_replaces_a_file_without_force(loop):
    target = loop.base / "canvas.csv"
    before = target.read_bytes()
    again = run_tito(loop.root, "nbgrader", "export", "--format", "canvas", "--to", str(target), env=loop.env())
    assert again.returncode == 1 and "already exists" in again.stderr and target.read_bytes() == before
    forced = run_tito(loop.root, "nbgrader", "export", "--format", "canvas", "--to", str(target), "--force",
                      env=loop.env())
    assert forced.returncode == 0, forced.stderr


# -- the class report ---------------------------------------------------------------------------------------
class _Page(HTMLParser):
    """What the report says, by the data attributes of its tables, and what could run."""

    def __init__(self):
        super().__init__()
        self.table = ""
        self.scores: dict[str, float] = {}
        self.cells: list[tuple[int, int]] = []
        self.links: dict[str, set[str]] = {}
        self.counts: list[int] = []
        self.flags: list[str] = []
        self.images: list[str] = []
        self.live: list[str] = []
        self.meta: list[dict] = []
        self._student = ""
        self._row: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "table":
            self.table = values.get("id", "")
        if tag in ("script", "iframe", "object", "embed", "form") or any(n.startswith("on") for n, _ in attrs):
            self.live.append(tag)
        if tag == "meta":
            self.meta.append(values)
        if tag == "img":
            self.images.append(values.get("src", ""))
        if "data-student" in values:
            self._student = values["data-student"]
            if tag == "a":
                self.links.setdefault(self.table, set()).add(values["href"])
        if "data-score" in values and self.table == "scores":
            self.scores[self._student] = float(values["data-score"])
        if "data-passed" in values:
            self.cells.append((int(values["data-passed"]), int(values["data-total"])))
        if "data-count" in values:
            self.counts.append(int(values["data-count"]))
        if tag == "tr":
            self._row = []

    def handle_data(self, data):
        self._row.append(data)

    def handle_endtag(self, tag):
        if tag == "tr" and self.table == "flags":
            self.flags.append("".join(self._row))


def test_the_report_s_numbers_match_the_gradebook(loop):
    assert loop.runs["report"].returncode == 0, loop.out("report")
    page = _Page()
    html = (loop.base / "report.html").read_text()
    page.feed(html)
    with _gradebook(loop) as book:
        submissions = book.assignment_submissions(MODULE)
        scores = {s.student.id: s.score for s in submissions}
        names = [cell.name for cell in book.find_notebook("layers", MODULE).grade_cells]
        passed = {name: 0 for name in names}
        for submission in submissions:
            for grade in submission.notebooks[0].grades:
                passed[grade.cell.name] += grade.score >= grade.max_score
    assert page.scores == scores
    assert sorted(page.cells) == sorted((passed[name], len(scores)) for name in names)
    assert f"mean<b>{sum(scores.values()) / len(scores):.1f} / 100</b>" in html
    # Both Graces fail the same seven cells (Layer's, Dropout's and Sequential's two each, and
    # integration) for the same reasons, both Alans one: grouped
    assert sorted(page.counts) == [2] * 8
    assert "Layer.__call__ is not implemented yet" in html
    late = [row for row in page.flags if "late: submitted" in row]
    assert len(late) == 2 and {row.split("late")[0] for row in late} == LATE
    for href in set().union(*page.links.values()):
        assert (loop.base / href).is_file() and href.endswith(f"{MODULE}/layers.html"), href
    assert len(page.links["scores"]) == len(scores)
    assert page.live == [] and len(page.images) >= 3
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert any(meta.get("http-equiv") == "Content-Security-Policy" and "script-src 'none'" in meta["content"]
               for meta in page.meta)
    assert "6 submission(s), mean 72.7/100, 2 at full marks, 2 flagged or late, 0 not gradable" in loop.out("report")


# -- again --------------------------------------------------------------------------------------------------
def test_collecting_again_keeps_the_ids_and_backs_up_what_a_newer_file_replaces(loop, tmp_path):
    import zipfile

    root = copy_course(loop.root, tmp_path / "course")
    newer = tmp_path / "canvas-again.zip"
    shutil.copy(loop.downloads["canvas"], newer)
    with zipfile.ZipFile(newer, "a") as archive:
        archive.writestr(zipfile.ZipInfo("lovelaceada_1001_9100_layers-2.ipynb", (2026, 11, 20, 11, 30, 0)),
                         loop.handed_in.files["grace"])
    run = run_tito(root, "nbgrader", "collect", MODULE, str(newer), env=course_env(root))
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 0, output
    assert re.search(r"lovelaceada .*9100_layers-2\.ipynb .* replaced", output), output
    assert re.search(r"turingalan .* late, unchanged", output), output
    backups = list((root / "nbgrader" / "collect-backups" / "lovelaceada" / MODULE).iterdir())
    assert [b.read_bytes() for b in backups] == [loop.handed_in.files["ada"]]
    assert (root / "nbgrader" / "submitted" / "lovelaceada" / MODULE / NOTEBOOK).read_bytes() == \
        loop.handed_in.files["grace"]
    assert sorted(p.name for p in (root / "nbgrader" / "submitted").iterdir()) == sorted(EVERYONE)
