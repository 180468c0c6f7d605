"""The course loop, end to end, shared by the tests of tests/loop (conftest.py): one
generated course; three students who hand in with `tito module submit`; a Canvas-style
and a Moodle-style bulk download of their files (one late in each, hostile entries beside
them); collect, autograde, feedback, export in three formats and the class report, each by
the `tito` command an instructor types. Generating and grading cost real kernels, so each
step runs once a session."""

from __future__ import annotations

import json
import shutil
import stat
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from helpers import copy_repo, run_tito, tito_env

MODULE = "03_layers"
NOTEBOOK = "layers.ipynb"
CELL_TIMEOUT = "60"  # generous: a busy machine must not fail a cell
DUE = datetime(2026, 11, 20, 12, 0, 0)  # UTC
DUE_TEXT = "2026-11-20 12:00:00 UTC"
MAX_FILE_BYTES = 20_000_000  # SubmissionIntake.max_file_bytes (nbgrader_config.py leaves the default)

# Each student's notebook (see notebooks()) and the total the instructor's grading gives it.
TOTALS = {"ada": 100.0, "alan": 88.0, "grace": 30.0}
CANVAS = {"ada": ("lovelaceada", "1001", "9001"), "alan": ("turingalan", "1002", "9002"),
          "grace": ("hoppergrace", "1003", "9010")}
MOODLE = {"ada": ("Ada Lovelace", "5001"), "alan": ("Alan Turing", "5002"), "grace": ("Grace Hopper", "5003")}
# The course's student id of each collected submission, and who it is.
CANVAS_IDS = {"lovelaceada": "ada", "turingalan": "alan", "hoppergrace": "grace"}
MOODLE_IDS = {"ada_lovelace": "ada", "alan_turing": "alan", "grace_hopper": "grace"}
LATE = {"turingalan", "grace_hopper"}  # Canvas marks Alan late; Grace's Moodle upload is after the due date
# The hostile entries of each download, and the words its refusal must hold.
HOSTILE = {
    "canvas": {"mallory_1666_9666_layers.ipynb": "a symbolic link", "../evil.ipynb": "a path outside the download",
               "bigbob_1777_9777_layers.ipynb": "larger than the limit",
               "eveeve_1888_9888_layers.ipynb": "appears 2 times"},
    "moodle": {"Mallory Evil_5666_assignsubmission_file_layers.ipynb": "a symbolic link",
               "../evil.ipynb": "a path outside the download",
               "Big Bob_5777_assignsubmission_file_layers.ipynb": "larger than the limit",
               "Eve Eve_5888_assignsubmission_file_layers.ipynb": "appears 2 times"},
}


def course_env(root: Path) -> dict:
    return tito_env(root) | {"TINYTORCH_CELL_TIMEOUT": CELL_TIMEOUT}


def generate(base: Path) -> Path:
    """A repository copy with 03_layers generated (`tito nbgrader generate` through its API)."""
    import os

    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.workflows.instructor import assignments

    root = copy_repo(base / "repo")
    saved = dict(os.environ)
    os.environ.update(course_env(root))
    try:
        assignments.generate(Paths(root), resolve(Paths(root), MODULE))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return root


def copy_course(generated: Path, target: Path) -> Path:
    """Another checkout of the generated course (the gradebook and release included)."""
    shutil.copytree(generated, target, symlinks=True)
    return target


def notebooks(root: Path) -> dict:
    """Ada solves everything; Alan passes every visible check but not a hidden one (unsigned
    sizes); Grace did only Linear. (The same submissions as tests/nbgrader's batch.)"""
    from factory import edit, solved

    correct = solved(root)
    return {"ada": correct,
            "alan": edit(correct, "linear", "not isinstance(value, numbers.Integral)",
                         "not isinstance(value, (int, np.signedinteger))"),
            "grace": solved(root, only={"linear"})}


@dataclass
class HandedIn:
    files: dict[str, bytes]  # student -> the hand-in copy's bytes
    outputs: dict[str, str]  # student -> what `tito module submit` printed
    codes: dict[str, int]


def hand_in(generated: Path, base: Path) -> HandedIn:
    """Each student, in their own checkout, writes their notebook and runs `tito module
    submit 03_layers`."""
    from factory import write

    result = HandedIn({}, {}, {})
    for student, notebook in notebooks(generated).items():
        root = copy_course(generated, base / student)
        write(notebook, root / "modules" / MODULE / NOTEBOOK)
        run = run_tito(root, "module", "submit", MODULE, env=course_env(root))
        result.outputs[student], result.codes[student] = run.stdout + run.stderr, run.returncode
        result.files[student] = (root / "modules" / "hand-in" / MODULE / NOTEBOOK).read_bytes()
    return result


# -- LMS downloads ----------------------------------------------------------------------------------
def _time(hour: int, minute: int = 0) -> tuple:
    return (2026, 11, 20, hour, minute, 0)


def _add(archive: zipfile.ZipFile, name: str, data: bytes, when: tuple) -> None:
    info = zipfile.ZipInfo(name, when)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _add_link(archive: zipfile.ZipFile, name: str, target: str, when: tuple) -> None:
    info = zipfile.ZipInfo(name, when)
    info.create_system = 3  # Unix: the mode bits say what the entry is
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive.writestr(info, target)


def _add_hostile(archive: zipfile.ZipFile, lms: str, honest: bytes) -> None:
    link, outside, big, duplicate = HOSTILE[lms]
    _add_link(archive, link, "/etc/passwd", _time(10))
    _add(archive, outside, honest, _time(10))
    _add(archive, big, b"\0" * (MAX_FILE_BYTES + 1), _time(10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: that is the point
        _add(archive, duplicate, honest, _time(10))
        _add(archive, duplicate, honest, _time(11))


def canvas_zip(path: Path, files: dict[str, bytes], fresh: bytes) -> Path:
    """Canvas's "Download Submissions": `lastfirst[_LATE]_userid_attachmentid_file`. Grace
    uploaded twice: a fresh notebook first, her work as `layers-1.ipynb` later (the newest)."""
    with zipfile.ZipFile(path, "w") as archive:
        name, user, attachment = CANVAS["ada"]
        _add(archive, f"{name}_{user}_{attachment}_{NOTEBOOK}", files["ada"], _time(10))
        name, user, attachment = CANVAS["alan"]
        _add(archive, f"{name}_LATE_{user}_{attachment}_{NOTEBOOK}", files["alan"], _time(12, 30))
        name, user, attachment = CANVAS["grace"]
        _add(archive, f"{name}_{user}_9003_{NOTEBOOK}", fresh, _time(9))
        _add(archive, f"{name}_{user}_{attachment}_layers-1.ipynb", files["grace"], _time(11))
        _add(archive, "lovelaceada_1001_9005_notes.txt", b"my notes\n", _time(10))
        _add(archive, "README.txt", b"not a submission\n", _time(10))
        _add_hostile(archive, "canvas", files["ada"])
    return path


def moodle_zip(path: Path, files: dict[str, bytes]) -> Path:
    """Moodle's "Download all submissions": `Full Name_participantid_assignsubmission_file_file`,
    Alan's in a folder as "download submissions in folders" makes it; Grace's after the due date."""
    with zipfile.ZipFile(path, "w") as archive:
        name, participant = MOODLE["ada"]
        _add(archive, f"{name}_{participant}_assignsubmission_file_{NOTEBOOK}", files["ada"], _time(10))
        name, participant = MOODLE["alan"]
        _add(archive, f"{name}_{participant}_assignsubmission_file/{NOTEBOOK}", files["alan"], _time(11))
        name, participant = MOODLE["grace"]
        _add(archive, f"{name}_{participant}_assignsubmission_file_{NOTEBOOK}", files["grace"], _time(13, 15))
        _add(archive, f"{name}_{participant}_assignsubmission_onlinetext_onlinetext.html", b"<p>hi</p>", _time(13))
        _add_hostile(archive, "moodle", files["ada"])
    return path


# -- the loop ------------------------------------------------------------------------------------------
@dataclass
class Loop:
    root: Path
    base: Path
    handed_in: HandedIn
    downloads: dict[str, Path]
    runs: dict[str, object] = field(default_factory=dict)  # step -> subprocess.CompletedProcess
    reports: dict[str, dict] = field(default_factory=dict)  # student -> autograde --json report

    @property
    def course(self) -> Path:
        return self.root / "nbgrader"

    def out(self, step: str) -> str:
        return self.runs[step].stdout + self.runs[step].stderr

    def env(self) -> dict:
        return course_env(self.root)


def run_loop(generated: Path, handed_in: HandedIn, base: Path) -> Loop:
    """collect (Canvas, then Moodle), autograde, feedback, export ×3 and report on a copy of
    the generated course, each as the instructor's `tito` command."""
    from factory import fresh, write

    root = copy_course(generated, base / "course")
    fresh_path = write(fresh(root), base / "fresh.ipynb")
    downloads = {"canvas": canvas_zip(base / "canvas-submissions.zip", handed_in.files, fresh_path.read_bytes()),
                 "moodle": moodle_zip(base / "moodle-submissions.zip", handed_in.files)}
    loop = Loop(root, base, handed_in, downloads)
    env = loop.env()
    steps = {
        "collect canvas": ["nbgrader", "collect", MODULE, str(downloads["canvas"]), "--duedate", DUE_TEXT],
        "collect moodle": ["nbgrader", "collect", MODULE, str(downloads["moodle"])],
        "autograde": ["nbgrader", "autograde", MODULE, "--json", str(base / "autograde.json")],
        "feedback": ["nbgrader", "feedback", MODULE],
        "export canvas": ["nbgrader", "export", "--format", "canvas", "--to", str(base / "canvas.csv")],
        "export moodle": ["nbgrader", "export", "--format", "moodle", "--to", str(base / "moodle.csv")],
        "export nbgrader": ["nbgrader", "export", "--to", str(base / "grades.csv")],
        "report": ["nbgrader", "report", MODULE, "--to", str(base / "report.html")],
    }
    for step, args in steps.items():
        loop.runs[step] = run_tito(root, *args, env=env)
    if (base / "autograde.json").is_file():
        loop.reports = {r["student"]: r for r in json.loads((base / "autograde.json").read_text())}
    return loop
