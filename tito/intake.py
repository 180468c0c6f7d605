"""The one way into a submission folder: everything a student handed in is read here.

A submission folder is hostile input. Only regular files are read, and only names listed
in the folder itself (so no path leaves it); nothing is followed: a symbolic link, device,
fifo or socket is refused by name, and so is a subfolder. Files are opened with
`O_NOFOLLOW` relative to the opened folder, checked again on the open descriptor, and read
at most one byte past their cap. A bad `timestamp.txt` or an odd student id is a problem
of that student, reported, never an error of the batch.

Used by tito's autograde (the coordinator), by the sandboxed kernel manager that copies
files beside the notebook, and by nbgrader's own CLI through `SubmissionIntakeCheck`.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from traitlets import Integer
from traitlets.config import LoggingConfigurable

TIMESTAMP_FILE = "timestamp.txt"
MAX_TIMESTAMP_BYTES = 1024  # nbgrader writes about 30
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a fifo never hangs open()
_ODD_ID = re.compile(r"[*?\[\]]|[\x00-\x1f\x7f]|^[=+\-@]|^\s|\s$")


@dataclass(frozen=True)
class IntakeLimits:
    max_file_bytes: int = 20_000_000
    max_submission_bytes: int = 50_000_000  # the notebook included


class SubmissionIntake(LoggingConfigurable):
    """Size caps of a submission, read from nbgrader_config.py like nbgrader's own settings."""

    max_file_bytes = Integer(IntakeLimits.max_file_bytes, help="Largest file of a submission that is read "
                             "(the notebook included); a larger one is left out and named.").tag(config=True)
    max_submission_bytes = Integer(IntakeLimits.max_submission_bytes, help="Most bytes read from one submission "
                                   "folder, the notebook included.").tag(config=True)

    def limits(self) -> IntakeLimits:
        return IntakeLimits(self.max_file_bytes, self.max_submission_bytes)


@dataclass(frozen=True)
class Refused:
    name: str
    why: str

    def __str__(self) -> str:
        return f"{self.name}: {self.why}"


@dataclass(frozen=True)
class Timestamp:
    text: str | None  # as nbgrader reads it (stripped); None when missing or unusable
    value: datetime | None  # parsed by nbgrader's utils.parse_utc, naive UTC
    problem: str = ""  # why there is no usable time ('' when there is)


@dataclass
class Intake:
    folder: Path
    notebook: bytes | None  # None: see notebook_problem
    notebook_problem: str = ""
    notebook_refused: bool = False  # the notebook exists but was refused (a link, too large...), not just absent
    files: dict[str, bytes] = field(default_factory=dict)  # accepted files beside the notebook
    refused: list[Refused] = field(default_factory=list)
    timestamp: Timestamp = Timestamp(None, None, f"no {TIMESTAMP_FILE}")
    other_notebooks: list[str] = field(default_factory=list)  # *.ipynb that are not the expected notebook


class _TooLarge(Exception):
    pass


def odd_student_id(student: str) -> str:
    """Why a student id (a folder name) needs care in globs, paths or spreadsheets; '' if it does not."""
    if not _ODD_ID.search(student):
        return ""
    reasons = []
    if re.search(r"[*?\[\]]", student):
        reasons.append("glob characters")
    if re.search(r"[\x00-\x1f\x7f]", student):
        reasons.append("control characters")
    if student != student.strip():
        reasons.append("leading or trailing spaces")
    if student[:1] in "=+-@":
        reasons.append(f"a leading {student[0]!r} (a formula in a spreadsheet)")
    return f"student id {student!r} has " + " and ".join(reasons)


def real_folder_problem(folder: Path, top: Path | None = None) -> str:
    """'' if `folder` and every folder between `top` and it is a real folder (no link);
    else what is wrong."""
    parts = [folder]
    if top is not None and folder.is_relative_to(top):
        below = folder.relative_to(top).parts
        parts = [top.joinpath(*below[:n]) for n in range(1, len(below) + 1)]
    for part in parts:
        try:
            mode = os.lstat(part).st_mode
        except OSError as error:
            return f"{part.name}/ cannot be read ({error.strerror})"
        if stat.S_ISLNK(mode):
            return f"the folder {part.name}/ is a symbolic link (not followed)"
        if not stat.S_ISDIR(mode):
            return f"{part.name} is not a folder"
    return ""


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link (not followed)"
    if stat.S_ISDIR(mode):
        return "a folder (subfolders are not read)"
    if stat.S_ISFIFO(mode):
        return "a fifo (not opened)"
    if stat.S_ISSOCK(mode):
        return "a socket (not opened)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device (not opened)"
    return "not a regular file"


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB ({count} bytes)"


def _read(name: str, folder_fd: int, cap: int, listed: os.stat_result) -> bytes:
    """The bytes of regular file `name` in the opened folder (the file `listed` saw), never
    following a link and never reading more than cap+1 bytes. Raises OSError, or _TooLarge
    past `cap`."""
    fd = os.open(name, _OPEN_FLAGS, dir_fd=folder_fd)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (listed.st_dev, listed.st_ino):
            raise OSError(errno.EINVAL, "replaced while it was being read")
        if opened.st_size > cap:
            raise _TooLarge
        chunks, total = [], 0
        while total <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:
            raise _TooLarge
        return b"".join(chunks)
    finally:
        os.close(fd)


@functools.lru_cache(maxsize=4096)
def parse_utc(text: str) -> datetime:
    """nbgrader's utils.parse_utc, remembered: the coordinator reads each timestamp here and
    records it later, and dateutil's parser is the slowest part of reading a submission."""
    from nbgrader import utils

    return utils.parse_utc(text)


def parse_timestamp(data: bytes) -> Timestamp:
    """timestamp.txt as nbgrader reads it (utils.parse_utc), or the problem."""
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return Timestamp(None, None, f"{TIMESTAMP_FILE} is not text")
    if not text:
        return Timestamp(None, None, f"{TIMESTAMP_FILE} is empty")
    try:
        return Timestamp(text, parse_utc(text))
    except Exception as error:  # noqa: BLE001  (dateutil raises ParserError, OverflowError, TypeError...)
        shown = text[:40] + ("…" if len(text) > 40 else "")
        return Timestamp(None, None, f"{TIMESTAMP_FILE} says {shown!r}, not a time ({type(error).__name__})")


def read_submission(folder: Path, notebook_name: str, limits: IntakeLimits, top: Path | None = None) -> Intake:
    """Read the submission in `folder` (with every folder from `top` down to it a real
    folder, not a link): the notebook, the regular files beside it, what was refused and
    why, and the timestamp. Never raises for anything a student can put in the folder."""
    problem = real_folder_problem(folder, top)
    if problem:
        return Intake(folder, None, f"{problem}: the submission was not read", notebook_refused=True)
    try:
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        return Intake(folder, None, f"the submission folder cannot be read ({error.strerror})", notebook_refused=True)
    try:
        return _read_folder(folder, folder_fd, notebook_name, limits)
    finally:
        os.close(folder_fd)


def _read_folder(folder: Path, folder_fd: int, notebook_name: str, limits: IntakeLimits) -> Intake:
    intake = Intake(folder, None, f"no {notebook_name} in the submission")
    with os.scandir(folder_fd) as listing:
        entries = sorted(listing, key=lambda entry: (entry.name != notebook_name, entry.name))  # notebook first
    budget = limits.max_submission_bytes
    for entry in entries:
        name = entry.name
        if name.endswith(".ipynb") and name != notebook_name:
            intake.other_notebooks.append(name)
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as error:  # gone since it was listed
            _refuse(intake, name, f"cannot be read ({error.strerror or error})", notebook_name)
            continue
        cap = MAX_TIMESTAMP_BYTES if name == TIMESTAMP_FILE else min(limits.max_file_bytes, budget)
        why = ""
        data = None
        if not stat.S_ISREG(info.st_mode):
            why = _kind(info.st_mode)
        elif info.st_size > cap:
            why = _over(name, info.st_size, cap, limits)
        else:
            try:
                data = _read(name, folder_fd, cap, info)
            except _TooLarge:
                why = _over(name, cap + 1, cap, limits)
            except OSError as error:
                why = f"cannot be read ({error.strerror or error})"
        if data is None:
            _refuse(intake, name, why, notebook_name)
            continue
        if name == TIMESTAMP_FILE:
            intake.timestamp = parse_timestamp(data)
            continue
        budget -= len(data)
        if name == notebook_name:
            intake.notebook, intake.notebook_problem = data, ""
        else:
            intake.files[name] = data
    return intake


def _over(name: str, size: int, cap: int, limits: IntakeLimits) -> str:
    if name == TIMESTAMP_FILE:
        return f"larger than the limit of {_size(cap)} for one file"
    if size > limits.max_file_bytes:
        return f"larger than the limit of {_size(limits.max_file_bytes)} for one file"
    return f"over the limit of {_size(limits.max_submission_bytes)} for the whole submission"


def _refuse(intake: Intake, name: str, why: str, notebook_name: str) -> None:
    if name == TIMESTAMP_FILE:
        intake.timestamp = Timestamp(None, None, f"{TIMESTAMP_FILE} is {why}" if why.startswith("a ")
                                     else f"{TIMESTAMP_FILE} {why}")
    elif name == notebook_name:
        intake.notebook_problem = f"{name} was refused: {why}"
        intake.notebook_refused = True
    else:
        intake.refused.append(Refused(name, why))


def refused_in_submitted(config, folder: Path, limits) -> set[str]:
    """Names the intake refuses in submitted/<student>/<assignment>/ when `folder` is that
    submission's autograded/ folder (nbgrader's own CLI); an empty set otherwise."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    student, assignment = folder.parent.name, folder.name
    try:
        autograded = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
        if autograded.resolve() != folder.resolve():
            return set()
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    except (OSError, ValueError):
        return set()
    found = read_submission(submitted, "", limits)
    return {entry.name for entry in found.refused}
