"""Canvas and Moodle: the file names of their bulk downloads, the ids a course keeps from
them, and the files they import grades from.

File names (what each LMS writes in its "download all submissions" zip):
- Canvas: `lastfirst_userid_attachmentid_file.ipynb`, with `_LATE_` after the name when
  Canvas counts the submission late (its own due dates and extensions); `lastfirst` is the
  sortable name lowercased with everything but letters, digits and `_` removed, and
  `file` is the student's own file name (`layers-1.ipynb` for a second upload).
- Moodle: `Full Name_participantid_assignsubmission_file_file.ipynb`, or with "download
  submissions in folders", `Full Name_participantid_assignsubmission_file/file.ipynb`; the
  participant id is the assignment's own number for a student (the one its grading
  worksheet imports by).

`CanvasCollector` and `MoodleCollector` are nbgrader `FileNameCollectorPlugin`s, so that
nbgrader's own `nbgrader zip_collect --collector=...` reads the same names; `tito nbgrader
collect` uses the same parsing (`parse_name`).

Kept ids (the roster): `collect` writes, per module, which LMS id each student id came from
(`<course>/lms/<module>.json`); the exports read it, and nbgrader's `Student.lms_user_id`
where it has none. Grade files: Canvas's gradebook import CSV and Moodle's grading
worksheet (the assignment's "Upload grading worksheet"), every cell through csvsafe.
"""

from __future__ import annotations

import enum
import html
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Unicode

from tito.coursedir.config import CoursePaths
from tito.errors import TitoError
from tito.fileops import atomic_write_text
from tito.workflows.instructor import csvsafe


class Lms(str, enum.Enum):  # noqa: UP042  (the value is what options and the roster file say)
    CANVAS = "canvas"
    MOODLE = "moodle"

    @property
    def title(self) -> str:
        return self.value.capitalize()


# Canvas: `[[:word:]]` characters in the name (its sanitize_file_name), then ids of digits.
_CANVAS = re.compile(r"^(?P<name>\w+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>[^/]+)$")
# Moodle: underscores in the full name are replaced by spaces, so the first `_` ends it.
_MOODLE = re.compile(r"^(?P<name>[^/_]+)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)[_/](?P<file>.+)$")
_RESUBMITTED = re.compile(r"^(?P<stem>.+?)-\d+$")  # Canvas names a second upload `layers-1.ipynb`


@dataclass(frozen=True)
class LmsName:
    """What an LMS's file name says about the file."""

    lms: Lms
    name: str  # the student's name as the LMS wrote it ("lovelaceada", "Ada Lovelace")
    lms_id: str  # Canvas user id; Moodle participant id
    file_name: str  # the student's own file name, as uploaded ("layers-1.ipynb")
    submission_id: str = ""  # Canvas's attachment id (grows with each upload)
    lms_late: bool | None = None  # Canvas's own "late" mark; None where the LMS does not say

    @property
    def is_notebook(self) -> bool:
        return self.file_name.lower().endswith(".ipynb")

    def notebook_stem(self) -> str:
        """The notebook the file is, by name: `layers-1.ipynb` (a Canvas resubmission) is `layers`."""
        stem = PurePosixPath(self.file_name).stem
        match = _RESUBMITTED.match(stem) if self.lms is Lms.CANVAS else None
        return match["stem"] if match else stem


def parse_name(lms: Lms, path: str) -> LmsName | None:
    """What `path` (a '/'-separated path inside a download) says under `lms`'s scheme, or
    None. The scheme may start at any folder of the path (a download unpacked into a folder)."""
    parts = [part for part in path.split("/") if part]
    for start in range(len(parts)):
        found = _parse(lms, "/".join(parts[start:]))
        if found is not None:
            return found
    return None


def _parse(lms: Lms, text: str) -> LmsName | None:
    if lms is Lms.CANVAS:
        match = _CANVAS.match(text)
        if match is None:
            return None
        return LmsName(lms, match["name"], match["user"], match["file"], match["attachment"], bool(match["late"]))
    match = _MOODLE.match(text)
    if match is None:
        return None
    return LmsName(lms, match["name"].strip(), match["user"], PurePosixPath(match["file"]).name)


def detect(paths: Iterable[str]) -> Lms | None:
    """The LMS whose scheme names more of `paths` (None: neither names any, or both as many)."""
    listed = list(paths)
    counts = {lms: sum(parse_name(lms, path) is not None for path in listed) for lms in Lms}
    best = max(counts.values())
    winners = [lms for lms, count in counts.items() if count == best]
    return winners[0] if best and len(winners) == 1 else None


def slug(name: str) -> str:
    """A student id from a name: ASCII letters and digits, lowercased, `_` between words."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_")[:40]


def default_student_id(found: LmsName) -> str:
    return slug(found.name) or f"{found.lms.value}-{found.lms_id}"


# -- nbgrader's file-name plugins ----------------------------------------------------------------------
class LmsCollector(FileNameCollectorPlugin):
    """A file-name collector for nbgrader's `zip_collect`: the LMS's scheme instead of a
    regular expression to write. The student id is the name made an id (`lovelaceada`,
    `ada_lovelace`), the timestamp the extracted file's time (tito's SafeExtractor sets it
    from the zip), so that zip_collect keeps the newest of a student's files. `tito nbgrader
    collect` also keeps the LMS ids and a course's own student ids."""

    lms = Lms.CANVAS
    named_regexp = Unicode("(unused: the LMS's own file-name scheme)").tag(config=True)

    def collect(self, submitted_file: str) -> dict | None:
        found = parse_name(self.lms, Path(submitted_file).as_posix())
        if found is None or not found.is_notebook:
            self.log.warning("Not a %s notebook submission: %s", self.lms.title, submitted_file)
            return None
        modified = datetime.fromtimestamp(Path(submitted_file).stat().st_mtime, UTC)
        return {"student_id": default_student_id(found), "file_id": found.notebook_stem(),
                "timestamp": modified.strftime("%Y-%m-%d %H:%M:%S.%f UTC"), "lms_id": found.lms_id}


class CanvasCollector(LmsCollector):
    lms = Lms.CANVAS


class MoodleCollector(LmsCollector):
    lms = Lms.MOODLE


# -- the ids a course keeps (the roster) ------------------------------------------------------------------
@dataclass(frozen=True)
class LmsIdentity:
    """Where a student id of the course came from: the LMS and its id for the student."""

    lms: Lms
    lms_id: str
    name: str = ""
    submission_id: str = ""
    lms_late: bool | None = None


def roster_path(course: CoursePaths, module_slug: str) -> Path:
    return course.root / "lms" / f"{module_slug}.json"


def load_roster(course: CoursePaths, module_slug: str) -> dict[str, LmsIdentity]:
    """student id -> LmsIdentity, as collect kept them ({} before the first collect)."""
    path = roster_path(course, module_slug)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(student): LmsIdentity(Lms(entry["lms"]), str(entry["lms_id"]), str(entry.get("name", "")),
                                          str(entry.get("submission_id", "")), entry.get("lms_late"))
                for student, entry in data["students"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise TitoError(f"{path} is damaged ({type(error).__name__}: {error}).",
                        "Restore it from a backup, or delete it and collect the downloads again.") from error


def save_roster(course: CoursePaths, module_slug: str, roster: dict[str, LmsIdentity]) -> Path:
    path = roster_path(course, module_slug)
    students = {student: asdict(identity) | {"lms": identity.lms.value} for student, identity in sorted(roster.items())}
    atomic_write_text(path, json.dumps({"module": module_slug, "students": students}, indent=2) + "\n")
    return path


# -- grade files --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GradeRow:
    """One student's grade for one assignment, with what an LMS file may carry besides."""

    student: str
    name: str  # as the LMS knows the student ("" if unknown)
    lms_id: str
    score: float | None  # None: no submission (left empty: the LMS keeps what it has)
    max_score: float
    submitted: datetime | None  # naive UTC
    notes: tuple[str, ...] = ()  # why it could not be graded, flags, late: what to review


CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def canvas_csv(rows: list[GradeRow], column: str) -> str:
    """Canvas's gradebook import: its five student columns, then the assignment's column
    (`column`: its name in Canvas, or `Name (assignment id)` as Canvas exports it), and the
    "Points Possible" row. Canvas matches students by ID; its import has no column for
    comments (an unknown column becomes a new assignment), so notes are not written."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow([*CANVAS_COLUMNS, column])
    writer.writerow(["Points Possible", "", "", "", "", rows[0].max_score if rows else ""])
    for row in rows:
        writer.writerow([row.name or row.student, row.lms_id, "", "", "", "" if row.score is None else row.score])
    return buffer.getvalue()


# Moodle's offline grading worksheet (mod/assign/feedback/offline): its importer finds the
# columns by these names (get_string('recordid'), 'grade', 'lastmodifiedgrade'), the
# participant by "Participant <id>", and the feedback comments plugin's column by its name.
MOODLE_COLUMNS = ["Identifier", "Full name", "Status", "Grade", "Maximum Grade", "Grade can be changed",
                  "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
MOODLE_PARTICIPANT = "Participant "


def moodle_csv(rows: list[GradeRow], exported_at: datetime) -> str:
    """Moodle's grading worksheet, for the assignment's "Upload grading worksheet": one row
    per participant, the grade, and the notes as feedback comments (Moodle stores them as
    HTML: escaped here, one line each). "Last modified (grade)" is the export time, so the
    import replaces grades set in Moodle before it."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(MOODLE_COLUMNS)
    for row in rows:
        submitted = f"{row.submitted:%Y-%m-%d %H:%M:%S} UTC" if row.submitted else ""
        status = "Submitted for grading" if row.score is not None else "No submission"
        grade = "" if row.score is None else f"{row.score:.2f}"
        comments = "<br>".join(html.escape(note, quote=False) for note in row.notes)
        writer.writerow([MOODLE_PARTICIPANT + row.lms_id, row.name or row.student, status, grade,
                         f"{row.max_score:.2f}", "Yes", submitted, f"{exported_at:%Y-%m-%d %H:%M:%S} UTC", comments])
    return buffer.getvalue()
