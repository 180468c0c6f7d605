"""The one way into a submission folder: everything a student handed in is read here.

A submission folder is hostile input. Only regular files are read, and only names listed
in the folder itself (so no path leaves it); nothing is followed: a symbolic link, device,
fifo or socket is refused by name, and so is a subfolder, a hard link (another name for a
file elsewhere) and a file on another file system than its folder. At most `max_files`
files beside the notebook are read, each costing at least 4 KiB of the submission's budget,
and a huge folder is listed only a little past that count. Every name put in a message is
printable (bytes that are not UTF-8, control and invisible format characters escaped). Files are opened with
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
import unicodedata
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from traitlets import Integer
from traitlets.config import LoggingConfigurable

from tito.coursedir.config import TIMESTAMP_FILE, CoursePaths

MAX_TIMESTAMP_BYTES = 1024  # nbgrader writes about 30
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a fifo never hangs open()
_ODD_ID = re.compile(r"[*?\[\]]|[\x00-\x1f\x7f]|^[=+\-@]|^\s|\s$")
MIN_FILE_CHARGE = 4096  # what a file costs at least: an empty file is not free for nbgrader's copy step
LISTING_MARGIN = 100  # entries listed past max_files, so the count of refused ones says something
NAMES_SHOWN = 5  # names of one kind of refusal in a message, then "and N more"
HARD_LINK = "a hard link (another name for a file elsewhere: not read)"
OTHER_DEVICE = "on another file system than its folder (a mount: not read)"


@dataclass(frozen=True)
class IntakeLimits:
    max_file_bytes: int = 20_000_000
    max_submission_bytes: int = 50_000_000  # the notebook included
    max_files: int = 100  # beside the notebook and timestamp.txt


class SubmissionIntake(LoggingConfigurable):
    """Size caps of a submission, read from nbgrader_config.py like nbgrader's own settings."""

    max_file_bytes = Integer(IntakeLimits.max_file_bytes, help="Largest file of a submission that is read "
                             "(the notebook included); a larger one is left out and named.").tag(config=True)
    max_submission_bytes = Integer(IntakeLimits.max_submission_bytes, help="Most bytes read from one submission "
                                   "folder, the notebook included; each file counts at least 4 KiB.").tag(config=True)
    max_files = Integer(IntakeLimits.max_files, help="Most files read beside the notebook of one submission; "
                        "the others are left out and named.").tag(config=True)

    def limits(self) -> IntakeLimits:
        return IntakeLimits(self.max_file_bytes, self.max_submission_bytes, self.max_files)


def printable(name: str) -> str:
    """`name` fit for any message: bytes that are not UTF-8 (os.fsdecode's surrogates) shown as
    \\xff, control and invisible format characters (U+202E...) as \\u202e, as repr() shows them."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


@dataclass(frozen=True)
class Refused:
    name: str  # as the OS names it (to find or remove the file); `shown` in messages
    why: str

    @property
    def shown(self) -> str:
        return printable(self.name)

    def __str__(self) -> str:
        return f"{self.shown}: {self.why}"


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
    other_notebooks: list[str] = field(default_factory=list)  # *.ipynb that are not the expected notebook (shown)
    unlisted: bool = False  # the folder holds more entries than were listed (past max_files + LISTING_MARGIN)

    def refused_text(self) -> str:
        """What was refused and why, short: the first few names of each reason, then "and N more"."""
        by_reason: dict[str, list[str]] = {}
        for entry in self.refused:
            by_reason.setdefault(entry.why, []).append(entry.shown)
        parts = []
        for why, names in by_reason.items():
            shown = ", ".join(names[:NAMES_SHOWN])
            more = len(names) - NAMES_SHOWN
            if more > 0:
                shown += f" and {more} more"
            parts.append(f"{shown}: {why}")
        if self.unlisted:
            parts.append(f"more entries were not even listed (a folder is listed up to {LISTING_MARGIN} entries "
                         "past the limit of files)")
        return "; ".join(parts)


class _TooLarge(Exception):
    pass


class _Refusal(Exception):
    """The opened file is not one to read (`args[0]` says why)."""


def odd_student_id(student: str) -> str:
    """Why a student id (a folder name) needs care in globs, paths or spreadsheets; '' if it does not."""
    categories = {unicodedata.category(char) for char in student}
    if not _ODD_ID.search(student) and not categories & {"Cs", "Cf", "Cc"}:
        return ""
    reasons = []
    if "Cs" in categories:
        reasons.append("bytes that are not UTF-8")
    if "Cf" in categories:
        reasons.append("invisible format characters")
    if re.search(r"[*?\[\]]", student):
        reasons.append("glob characters")
    if "Cc" in categories:
        reasons.append("control characters")
    if student != student.strip():
        reasons.append("leading or trailing spaces")
    if student[:1] in "=+-@":
        reasons.append(f"a leading {student[0]!r} (a formula in a spreadsheet)")
    return f"student id '{printable(student)}' has " + " and ".join(reasons)


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
            return f"{printable(part.name)}/ cannot be read ({error.strerror})"
        if stat.S_ISLNK(mode):
            return f"the folder {printable(part.name)}/ is a symbolic link (not followed)"
        if not stat.S_ISDIR(mode):
            return f"{printable(part.name)} is not a folder"
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


def _problem(info: os.stat_result, folder_dev: int) -> str:
    """Why the file `info` describes is not read ('' if it is a regular file of its folder's file system)."""
    if not stat.S_ISREG(info.st_mode):
        return _kind(info.st_mode)
    if info.st_nlink != 1:
        return HARD_LINK
    if info.st_dev != folder_dev:
        return OTHER_DEVICE
    return ""


def _read(name: str, folder_fd: int, cap: int, listed: os.stat_result, folder_dev: int) -> bytes:
    """The bytes of regular file `name` in the opened folder (the file `listed` saw), never
    following a link and never reading more than cap+1 bytes. Raises OSError, _Refusal for a
    file that is not one to read (a hard link made since it was listed...), or _TooLarge past `cap`."""
    fd = os.open(name, _OPEN_FLAGS, dir_fd=folder_fd)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (listed.st_dev, listed.st_ino):
            raise OSError(errno.EINVAL, "replaced while it was being read")
        problem = _problem(opened, folder_dev)
        if problem:
            raise _Refusal(problem)
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
    reader = _Reader(folder_fd, limits)
    for name in (notebook_name, TIMESTAMP_FILE):  # by name: wherever they are in a huge listing
        if not name:
            continue
        try:
            info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        except OSError as error:
            _refuse(intake, name, f"cannot be read ({error.strerror or error})", notebook_name)
            continue
        _take(intake, reader, name, info, notebook_name)
    entries, intake.unlisted = _list(folder_fd, {notebook_name, TIMESTAMP_FILE}, limits.max_files + LISTING_MARGIN)
    for entry in entries:
        name = entry.name
        if name.endswith(".ipynb"):
            intake.other_notebooks.append(printable(name))
            continue
        if reader.files == limits.max_files:
            intake.refused.append(Refused(name, f"past the limit of {limits.max_files} files for one submission"))
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as error:  # gone since it was listed
            _refuse(intake, name, f"cannot be read ({error.strerror or error})", notebook_name)
            continue
        _take(intake, reader, name, info, notebook_name)
    if len(intake.other_notebooks) > NAMES_SHOWN:  # a list for messages: kept short
        more = len(intake.other_notebooks) - NAMES_SHOWN
        intake.other_notebooks[NAMES_SHOWN:] = [f"and {more} more" + (" (not all listed)" if intake.unlisted else "")]
    return intake


def _list(folder_fd: int, skipped: set[str], most: int) -> tuple[list[os.DirEntry], bool]:
    """At most `most` entries of the folder but `skipped`, sorted by name, and whether there were more
    (readdir gives names without a stat, so a folder of 30,000 files costs little)."""
    entries = []
    with os.scandir(folder_fd) as listing:
        for entry in listing:
            if entry.name in skipped:
                continue
            if len(entries) == most:
                return sorted(entries, key=lambda kept: kept.name), True
            entries.append(entry)
    return sorted(entries, key=lambda kept: kept.name), False


@dataclass
class _Reader:
    """Reads the files of one opened submission folder within its budget."""

    folder_fd: int
    limits: IntakeLimits
    budget: int = -1
    files: int = 0  # files read beside the notebook
    folder_dev: int = field(init=False)

    def __post_init__(self) -> None:
        self.budget = self.limits.max_submission_bytes
        self.folder_dev = os.fstat(self.folder_fd).st_dev

    def read(self, name: str, info: os.stat_result) -> tuple[bytes | None, str]:
        """The file's bytes, or None and why not; a file read is charged at least MIN_FILE_CHARGE."""
        cap = MAX_TIMESTAMP_BYTES if name == TIMESTAMP_FILE else min(self.limits.max_file_bytes, self.budget)
        problem = _problem(info, self.folder_dev)
        if problem:
            return None, problem
        if info.st_size > cap:
            return None, _over(name, info.st_size, cap, self.limits)
        try:
            data = _read(name, self.folder_fd, cap, info, self.folder_dev)
        except _TooLarge:
            return None, _over(name, cap + 1, cap, self.limits)
        except _Refusal as refusal:
            return None, str(refusal)
        except OSError as error:
            return None, f"cannot be read ({error.strerror or error})"
        if name == TIMESTAMP_FILE:
            return data, ""
        charge = max(len(data), MIN_FILE_CHARGE)
        if charge > self.budget:
            return None, _over_submission(self.limits)
        self.budget -= charge
        return data, ""


def _take(intake: Intake, reader: _Reader, name: str, info: os.stat_result, notebook_name: str) -> None:
    data, why = reader.read(name, info)
    if data is None:
        _refuse(intake, name, why, notebook_name)
    elif name == TIMESTAMP_FILE:
        intake.timestamp = parse_timestamp(data)
    elif name == notebook_name:
        intake.notebook, intake.notebook_problem = data, ""
    else:
        reader.files += 1
        intake.files[name] = data


def _over(name: str, size: int, cap: int, limits: IntakeLimits) -> str:
    if name == TIMESTAMP_FILE:
        return f"larger than the limit of {_size(cap)} for one file"
    if size > limits.max_file_bytes:
        return f"larger than the limit of {_size(limits.max_file_bytes)} for one file"
    return _over_submission(limits)


def _over_submission(limits: IntakeLimits) -> str:
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


class NotAccepted:
    """Every name but the files the intake accepted (`name in refused` is True for any other name)."""

    def __init__(self, accepted: Iterable[str]) -> None:
        self.accepted = frozenset(accepted)

    def __contains__(self, name: object) -> bool:
        return name not in self.accepted


def refused_in_submitted(config, folder: Path, limits) -> Container[str]:
    """Names the intake did not accept in submitted/<student>/<assignment>/ when `folder` is
    that submission's autograded/ folder (nbgrader's own CLI), where nbgrader copied every
    file, following links, even those the intake never listed (past max_files); an empty
    set otherwise."""
    course = CoursePaths.of(config)
    student, assignment = folder.parent.name, folder.name
    try:
        if course.autograded(student, assignment).resolve() != folder.resolve():
            return set()
        submitted = course.submitted(student, assignment)
    except (OSError, ValueError):
        return set()
    return NotAccepted(read_submission(submitted, "", limits).files)
