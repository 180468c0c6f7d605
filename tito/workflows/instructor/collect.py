"""`tito nbgrader collect`: an LMS's bulk download (a zip, or the folder it unpacked to)
into the course's `submitted/<student>/<module>/`, the way nbgrader's `zip_collect` does,
with the intake's rules for what may come in.

A download is hostile input. Every entry is checked before anything is read: no symbolic
link, device, fifo or hard link is followed (folders are walked without following links,
and files opened with O_NOFOLLOW and checked again on the open descriptor), no path leaves
the download (absolute paths, `..`, a drive letter), an entry named twice in one zip is
ambiguous and taken from neither, and files are capped at `SubmissionIntake.max_file_bytes`
(read at most one byte past the cap, whatever size the zip's header claims). Each refused
entry is named with its reason; nothing is extracted to disk but the accepted notebooks,
written atomically under the course's own folders (none of which may be a link).

Each notebook is matched to a student by the LMS's file names (tito.workflows.instructor.lms):
a student id of the course (the gradebook student whose `lms_user_id` is that LMS id, the
id an earlier collect gave, or the name made an id), and the LMS ids are kept for the
grade export. A student with several notebooks keeps the newest (and it is said). The
submission time, the file's time in the download, goes in `timestamp.txt` as nbgrader's
exchange writes it, so that autograde marks a submission late as nbgrader does: after the
assignment's due date in the gradebook (`--duedate` sets it). Canvas's zip holds the time
it was made rather than each submission's, but marks late files itself: its mark decides
on which side of the due date a file's time falls.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from nbgrader.plugins import ExtractorPlugin

from tito.course.paths import Paths
from tito.course.registry import Module
from tito.coursedir import intake
from tito.coursedir.config import TIMESTAMP_FILE, CoursePaths, load_config
from tito.coursedir.database import opened
from tito.errors import TitoError
from tito.fileops import atomic_write_bytes
from tito.workflows.instructor import lms
from tito.workflows.instructor.assignments import ensure_generated
from tito.workflows.instructor.lms import Lms, LmsIdentity, LmsName

MAX_ENTRIES = 20_000  # entries read from one download; the others are refused in one line
MAX_DEPTH = 4  # folders inside a downloaded folder (Moodle puts one per student)
BACKUPS = "collect-backups"  # in the course folder: submissions that a newer one replaced
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"  # nbgrader's exchange: Exchange.timestamp_format in UTC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
OUTSIDE = "a path outside the download (not extracted)"
_STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}")


# -- reading a download -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One file of a download, listed but not read."""

    path: str  # '/'-separated, as the download names it
    size: int
    time: datetime | None  # naive UTC
    problem: str = ""  # why it is not read ('' if it may be)
    key: object = None  # how its download finds it again

    @property
    def shown(self) -> str:
        return intake.printable(self.path)


class Unreadable(Exception):
    """An entry that turned out not to be one to read (`args[0]` says why)."""


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB ({count} bytes)"


def over_cap(cap: int) -> str:
    return f"larger than the limit of {_size(cap)} for one file (not read)"


class Download:
    """A zip or a folder: its entries, and a way to read one within a cap."""

    def __init__(self, source: Path):
        self.source = source
        self.entries: list[Entry] = []

    @property
    def name(self) -> str:
        return intake.printable(self.source.name)

    def read(self, entry: Entry, cap: int) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass


class ZipDownload(Download):
    def __init__(self, source: Path, zone: tzinfo, cap: int):
        super().__init__(source)
        try:
            self.archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise TitoError(f"{source} cannot be read as a zip file ({type(error).__name__}: {error}).",
                            "Give the LMS's download as it came (a .zip), or the folder it was unpacked to.") from error
        infos = [info for info in self.archive.infolist() if not info.is_dir()]
        counts: dict[str, int] = {}
        for info in infos:
            counts[info.filename] = counts.get(info.filename, 0) + 1
        named: set[str] = set()
        for info in infos[:MAX_ENTRIES]:
            if info.filename in named:
                continue  # an entry named twice is listed (and refused) once
            named.add(info.filename)
            problem = zip_problem(info, cap)
            if counts[info.filename] > 1:
                problem = f"appears {counts[info.filename]} times in the zip (ambiguous: none was taken)"
            self.entries.append(Entry(info.filename.replace("\\", "/"), info.file_size, zip_time(info, zone),
                                      problem, info))
        if len(infos) > MAX_ENTRIES:
            self.entries.append(Entry(f"(and {len(infos) - MAX_ENTRIES} more entries)", 0, None,
                                      f"past the limit of {MAX_ENTRIES} entries in one download (not read)"))

    def read(self, entry: Entry, cap: int) -> bytes:
        try:
            with self.archive.open(entry.key) as stream:
                data = stream.read(cap + 1)
        except Exception as error:  # noqa: BLE001  (zipfile raises BadZipFile, NotImplementedError, RuntimeError...)
            raise Unreadable(f"cannot be read from the zip ({type(error).__name__}: {error})") from error
        if len(data) > cap:
            raise Unreadable(over_cap(cap))
        return data

    def close(self) -> None:
        self.archive.close()


_S_IFMT_NAMES = {stat.S_IFLNK: "a symbolic link (not followed)", stat.S_IFDIR: "a folder",
                 stat.S_IFIFO: "a fifo (not opened)", stat.S_IFSOCK: "a socket (not opened)",
                 stat.S_IFCHR: "a device (not opened)", stat.S_IFBLK: "a device (not opened)"}


def zip_problem(info: zipfile.ZipInfo, cap: int) -> str:
    """Why a zip entry is not read ('' if it may be): a link or other special file (Unix
    mode bits), a path leaving the download, encryption, or a size over `cap`."""
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return _S_IFMT_NAMES.get(stat.S_IFMT(mode), "not a regular file")
    if outside(info.filename):
        return OUTSIDE
    if info.flag_bits & 0x1:
        return "encrypted (not read)"
    if info.file_size > cap:
        return over_cap(cap)
    return ""


def outside(name: str) -> bool:
    """Whether a path inside a download would land outside it: absolute, a drive letter,
    a `..` component, or a NUL (backslashes count as separators)."""
    text = name.replace("\\", "/")
    return text.startswith("/") or bool(re.match(r"^[A-Za-z]:", text)) or "\0" in text or ".." in text.split("/")


def zip_time(info: zipfile.ZipInfo, zone: tzinfo) -> datetime | None:
    """The entry's modification time in UTC: the extended timestamp (Info-ZIP's 0x5455, in
    UTC) where the zip has one, else the DOS time, read in `zone` (a zip names no zone)."""
    utc = _extended_mtime(info.extra)
    if utc is not None:
        return datetime.fromtimestamp(utc, UTC).replace(tzinfo=None)
    try:
        local = datetime(*info.date_time)
    except ValueError:
        return None
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def _extended_mtime(extra: bytes) -> int | None:
    offset = 0
    while offset + 4 <= len(extra):
        header, size = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4:offset + 4 + size]
        if header == 0x5455 and len(body) >= 5 and body[0] & 1:
            return struct.unpack_from("<I", body, 1)[0]
        offset += 4 + size
    return None


class FolderDownload(Download):
    """A download unpacked into a folder: walked without following any link."""

    def __init__(self, source: Path, cap: int):
        super().__init__(source)
        try:
            self.top = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as error:
            raise TitoError(f"{source} cannot be read ({error.strerror}).", "Check the path and its permissions.") \
                from error
        self.device = os.fstat(self.top).st_dev
        self.cap = cap
        self._walk(self.top, (), 0)
        if len(self.entries) > MAX_ENTRIES:
            more = len(self.entries) - MAX_ENTRIES
            self.entries[MAX_ENTRIES:] = [Entry(f"(and {more} more entries)", 0, None,
                                                f"past the limit of {MAX_ENTRIES} entries in one download (not read)")]

    def _walk(self, folder: int, parts: tuple[str, ...], depth: int) -> None:
        with os.scandir(folder) as listing:
            names = sorted(entry.name for entry in listing)
        for name in names:
            if len(self.entries) > MAX_ENTRIES:
                return
            here = (*parts, name)
            path = "/".join(here)
            try:
                info = os.stat(name, dir_fd=folder, follow_symlinks=False)
            except OSError as error:
                self.entries.append(Entry(path, 0, None, f"cannot be read ({error.strerror})"))
                continue
            if stat.S_ISDIR(info.st_mode):
                self._walk_folder(folder, name, here, depth, info)
                continue
            problem = self._problem(info)
            time = datetime.fromtimestamp(info.st_mtime, UTC).replace(tzinfo=None)
            self.entries.append(Entry(path, info.st_size, time, problem, (here, info.st_dev, info.st_ino)))

    def _walk_folder(self, folder: int, name: str, here: tuple[str, ...], depth: int, info: os.stat_result) -> None:
        path = "/".join(here)
        if info.st_dev != self.device:
            self.entries.append(Entry(path + "/", 0, None, intake.OTHER_DEVICE))
            return
        if depth + 1 > MAX_DEPTH:
            self.entries.append(Entry(path + "/", 0, None, f"a folder more than {MAX_DEPTH} levels deep (not read)"))
            return
        try:
            inner = os.open(name, _FOLDER_FLAGS, dir_fd=folder)
        except OSError as error:
            self.entries.append(Entry(path + "/", 0, None, f"cannot be read ({error.strerror})"))
            return
        try:
            self._walk(inner, here, depth + 1)
        finally:
            os.close(inner)

    def _problem(self, info: os.stat_result) -> str:
        if not stat.S_ISREG(info.st_mode):
            return _S_IFMT_NAMES.get(stat.S_IFMT(info.st_mode), "not a regular file")
        if info.st_nlink != 1:
            return intake.HARD_LINK
        if info.st_dev != self.device:
            return intake.OTHER_DEVICE
        if info.st_size > self.cap:
            return over_cap(self.cap)
        return ""

    def read(self, entry: Entry, cap: int) -> bytes:
        parts, device, inode = entry.key
        descriptors = []
        try:
            folder = self.top
            for part in parts[:-1]:
                folder = os.open(part, _FOLDER_FLAGS, dir_fd=folder)
                descriptors.append(folder)
            handle = os.open(parts[-1], _FILE_FLAGS, dir_fd=folder)
            descriptors.append(handle)
            opened_info = os.fstat(handle)
            if (opened_info.st_dev, opened_info.st_ino) != (device, inode):
                raise Unreadable("replaced while it was being collected (not read)")
            problem = self._problem(opened_info)
            if problem:
                raise Unreadable(problem)
            return _read_capped(handle, cap)
        except OSError as error:
            reason = "a symbolic link (not followed)" if error.errno == errno.ELOOP else error.strerror
            raise Unreadable(f"cannot be read ({reason})") from error
        finally:
            for descriptor in reversed(descriptors):
                os.close(descriptor)

    def close(self) -> None:
        os.close(self.top)


def _read_capped(handle: int, cap: int) -> bytes:
    chunks, total = [], 0
    while total <= cap:
        chunk = os.read(handle, min(1 << 20, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > cap:
        raise Unreadable(over_cap(cap))
    return b"".join(chunks)


@contextlib.contextmanager
def open_download(source: Path, zone: tzinfo, cap: int) -> Iterator[Download]:
    """The download at `source`: a folder, or a zip file."""
    if source.is_dir():
        download: Download = FolderDownload(source, cap)
    elif source.is_file():
        download = ZipDownload(source, zone, cap)
    else:
        raise TitoError(f"{source} does not exist.", "Give the path of the LMS's download (a .zip or a folder).")
    try:
        yield download
    finally:
        download.close()


class SafeExtractor(ExtractorPlugin):
    """nbgrader's ExtractorPlugin with the rules of `tito nbgrader collect`, for nbgrader's own
    `nbgrader zip_collect --extractor=tito.workflows.instructor.collect.SafeExtractor`: each zip
    (and folder) of the archive folder is extracted into a folder of its name, only its
    accepted entries, every refused one named in the log. No archive inside is opened."""

    def extract(self, archive_path: str, extracted_path: str) -> None:
        cap = intake.SubmissionIntake(parent=self).max_file_bytes
        for source in sorted(Path(archive_path).iterdir()):
            with open_download(source, UTC, cap) as download:
                target = Path(extracted_path) / source.stem
                for entry in download.entries:
                    self._extract(download, entry, target, cap)

    def _extract(self, download: Download, entry: Entry, target: Path, cap: int) -> None:
        if entry.problem:
            self.log.warning("Refused %s: %s: %s", download.name, entry.shown, entry.problem)
            return
        try:
            data = download.read(entry, cap)
        except Unreadable as why:
            self.log.warning("Refused %s: %s: %s", download.name, entry.shown, why)
            return
        destination = target.joinpath(*entry.path.split("/"))
        atomic_write_bytes(destination, data)
        if entry.time:
            stamp = entry.time.replace(tzinfo=UTC).timestamp()
            os.utime(destination, (stamp, stamp))


# -- collecting -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Skipped:
    """An entry that was not collected, and why."""

    download: str
    entry: str  # shown (printable)
    why: str

    def __str__(self) -> str:
        return f"{self.download}: {self.entry}: {self.why}"


@dataclass(frozen=True)
class Collected:
    student: str
    identity: LmsIdentity
    download: str  # the download's file name (shown)
    entry: str  # the entry it came from (shown)
    timestamp: datetime | None  # naive UTC
    late: bool  # after the due date, as nbgrader counts it
    status: str  # "new", "replaced", "unchanged" or "kept" (the one already collected is newer)


@dataclass(frozen=True)
class DownloadInfo:
    name: str
    lms: Lms
    detected: bool
    entries: int


@dataclass
class CollectResult:
    module: str
    submitted: Path  # the course's submitted/ folder
    duedate: datetime | None
    downloads: list[DownloadInfo] = field(default_factory=list)
    collected: list[Collected] = field(default_factory=list)
    refused: list[Skipped] = field(default_factory=list)
    unmatched: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # newest kept, times set from Canvas's marks...

    @property
    def late(self) -> list[Collected]:
        return [item for item in self.collected if item.late]


@dataclass(frozen=True)
class _Candidate:
    download: Download
    entry: Entry
    found: LmsName
    named_right: bool  # the file is the module's notebook by name (layers.ipynb, layers-1.ipynb)

    @property
    def source(self) -> str:
        return f"{self.download.name}: {self.entry.shown}"

    def order(self) -> tuple:
        submission = int(self.found.submission_id) if self.found.submission_id.isdigit() else -1
        return self.entry.time or datetime.min, submission, self.entry.path


def parse_zone(name: str) -> tzinfo:
    from dateutil.tz import gettz

    zone = gettz(name)
    if zone is None:
        raise TitoError(f"Unknown time zone {name!r}.", "Give a zone name such as UTC or Europe/Berlin.")
    return zone


def collect(paths: Paths, module: Module, sources: list[Path], *, lms_name: Lms | None = None,
            duedate: str | None = None, zone: str = "UTC") -> CollectResult:
    """Collect the notebooks of `module` from LMS downloads into submitted/, with
    timestamp.txt, and keep each student's LMS ids. Never raises for what a download holds:
    refused and unmatched entries are named in the result."""
    ensure_generated(paths, module)
    config = load_config(paths)
    course = CoursePaths.of(config)
    cap = intake.SubmissionIntake(config=config).max_file_bytes
    result = CollectResult(module.slug, course.submitted_root, set_due_date(course, module, duedate))
    roster = lms.load_roster(course, module.slug)
    with contextlib.ExitStack() as stack:
        candidates: list[_Candidate] = []
        for source in sources:
            download = stack.enter_context(open_download(source, parse_zone(zone), cap))
            candidates += _classify(download, lms_name, module, result)
        ids = student_ids([c.found for c in candidates], roster, _gradebook_ids(course))
        by_student: dict[str, list[_Candidate]] = {}
        for candidate in candidates:
            by_student.setdefault(ids[(candidate.found.lms, candidate.found.lms_id)], []).append(candidate)
        clamped = 0
        for student, offered in sorted(by_student.items()):
            clamped += _collect_student(course, module, student, offered, cap, result, roster)
    if clamped:
        result.notes.append(f"{clamped} submission time(s) set from Canvas's own late marks against the due date "
                            "(Canvas's zip holds the time it was made, not when each file was handed in)")
    if any(c.found.lms_late for c in candidates) and result.duedate is None:
        result.notes.append(f"Canvas marks {sum(1 for c in candidates if c.found.lms_late)} file(s) late, but "
                            f"{module.slug} has no due date in the gradebook, so nbgrader counts none late: "
                            "give --duedate")
    lms.save_roster(course, module.slug, roster)
    return result


def _classify(download: Download, chosen: Lms | None, module: Module, result: CollectResult) -> list[_Candidate]:
    """The download's notebooks as candidates; refused and unmatched entries into `result`."""
    readable = [entry for entry in download.entries if not entry.problem]
    scheme = chosen or lms.detect(entry.path for entry in readable)
    if scheme is None:
        raise TitoError(f"{download.source}: its file names are neither Canvas's nor Moodle's"
                        + (" (it holds no file that may be read)" if not readable else "") + ".",
                        "Give --lms canvas or --lms moodle, or check that this is the LMS's bulk download.")
    result.downloads.append(DownloadInfo(download.name, scheme, chosen is None, len(download.entries)))
    stem = Path(module.notebook_name).stem.lower()
    candidates = []
    for entry in download.entries:
        if entry.problem:
            result.refused.append(Skipped(download.name, entry.shown, entry.problem))
            continue
        found = lms.parse_name(scheme, entry.path)
        if found is None:
            result.unmatched.append(Skipped(download.name, entry.shown, f"matches no {scheme.title} file name"))
        elif not found.is_notebook:
            result.unmatched.append(Skipped(download.name, entry.shown, "not a notebook (not collected)"))
        else:
            candidates.append(_Candidate(download, entry, found, found.notebook_stem().lower() == stem))
    return candidates


def student_ids(found: Iterable[LmsName], roster: dict[str, LmsIdentity],
                gradebook_ids: dict[str, str]) -> dict[tuple[Lms, str], str]:
    """The course's student id for each (LMS, LMS id): the gradebook student with that
    `lms_user_id`, else the id an earlier collect gave, else the name made an id (with the
    LMS id added when another student already has, or also wants, that id)."""
    known = {(identity.lms, identity.lms_id): student for student, identity in roster.items()}
    taken = {student: (identity.lms, identity.lms_id) for student, identity in roster.items()}
    result: dict[tuple[Lms, str], str] = {}
    wanted: dict[str, set[tuple[Lms, str]]] = {}
    for name in found:
        key = (name.lms, name.lms_id)
        if key in result:
            continue
        if name.lms_id in gradebook_ids:
            result[key] = gradebook_ids[name.lms_id]
        elif key in known:
            result[key] = known[key]
        else:
            wanted.setdefault(lms.default_student_id(name), set()).add(key)
    taken |= {student: ("gradebook", lms_id) for lms_id, student in gradebook_ids.items()}
    for student, keys in wanted.items():
        for key in keys:
            clash = len(keys) > 1 or (student in taken and taken[student] != key)
            result[key] = f"{student}-{key[1]}" if clash else student
    return result


def _gradebook_ids(course: CoursePaths) -> dict[str, str]:
    """lms_user_id -> student id, for the gradebook's students that have one."""
    with opened(course.db_url) as book:
        return {student.lms_user_id: student.id for student in book.students if student.lms_user_id}


def set_due_date(course: CoursePaths, module: Module, duedate: str | None) -> datetime | None:
    """The module's due date in the gradebook (naive UTC), set to `duedate` first if given."""
    with opened(course.db_url) as book:
        if duedate:
            try:
                parsed = intake.parse_utc(duedate)
            except Exception as error:  # noqa: BLE001  (dateutil raises several types)
                raise TitoError(f"--duedate {duedate!r} is not a date and time.",
                                "Write it as nbgrader does, e.g. '2026-11-20 23:59:00 UTC'.") from error
            book.update_or_create_assignment(module.slug, duedate=parsed)
            return parsed
        return book.find_assignment(module.slug).duedate


def _collect_student(course: CoursePaths, module: Module, student: str, offered: list[_Candidate], cap: int,
                     result: CollectResult, roster: dict[str, LmsIdentity]) -> int:
    """Collect the newest readable notebook of one student; returns 1 if its time was set
    from Canvas's late mark, else 0."""
    pool = sorted([c for c in offered if c.named_right] or offered, key=_Candidate.order, reverse=True)
    if not _STUDENT_ID.fullmatch(student):
        for candidate in offered:
            result.refused.append(Skipped(candidate.download.name, candidate.entry.shown,
                                          f"the student id {intake.printable(student)!r} cannot be a folder name"))
        return 0
    for candidate in pool:
        try:
            data = candidate.download.read(candidate.entry, cap)
        except Unreadable as why:
            result.refused.append(Skipped(candidate.download.name, candidate.entry.shown, str(why)))
            continue
        left = [c for c in offered if c is not candidate]
        if left:
            older = ", ".join(c.source for c in left)
            result.notes.append(f"{student}: {len(offered)} notebooks; kept the newest, {candidate.source}"
                                f" ({_shown_time(candidate.entry.time)}); left out {older}")
        if not candidate.named_right:
            result.notes.append(f"{student}: {candidate.entry.shown} was taken as {module.notebook_name}")
        timestamp, clamped = submission_time(candidate.entry.time, candidate.found.lms_late, result.duedate)
        late = bool(result.duedate and timestamp and timestamp > result.duedate)
        try:
            status = _write(course, module, student, data, timestamp, cap, result)
        except _Unwritable as why:
            result.refused.append(Skipped(candidate.download.name, candidate.entry.shown, str(why)))
            return 0
        found = candidate.found
        identity = LmsIdentity(found.lms, found.lms_id, found.name, found.submission_id, found.lms_late)
        roster[student] = identity
        result.collected.append(Collected(student, identity, candidate.download.name, candidate.entry.shown,
                                          timestamp, late, status))
        return int(clamped)
    return 0


def submission_time(time: datetime | None, lms_late: bool | None, duedate: datetime | None) -> tuple[datetime | None,
                                                                                                  bool]:
    """The time to record and whether the LMS's own late mark moved it: a file the LMS marks
    late is recorded after the due date, one it does not mark at the due date at the latest."""
    if lms_late is None or duedate is None:
        return time, False
    if lms_late and (time is None or time <= duedate):
        return duedate + timedelta(seconds=1), True
    if not lms_late and (time is None or time > duedate):
        return duedate, True
    return time, False


def _shown_time(time: datetime | None) -> str:
    return f"{time:%Y-%m-%d %H:%M:%S} UTC" if time else "no time"


class _Unwritable(Exception):
    """The submission cannot be written where it belongs (a link among the course's folders...)."""


def _write(course: CoursePaths, module: Module, student: str, data: bytes, timestamp: datetime | None, cap: int,
           result: CollectResult) -> str:
    """Write the notebook and timestamp.txt into the student's submitted folder; an earlier
    different submission is backed up first, or kept if it is newer. Returns the status."""
    folder = course.submitted(student, module.slug)
    _make_folders(course.root, folder)
    existing = intake.read_submission(folder, module.notebook_name,
                                      intake.IntakeLimits(max_file_bytes=cap, max_submission_bytes=cap, max_files=0),
                                      top=course.root)
    if existing.notebook == data:
        return "unchanged"
    if existing.notebook is None and not existing.notebook_refused:
        status = "new"
    else:
        before = existing.timestamp.value
        if existing.notebook is not None and before and timestamp and before > timestamp:
            result.notes.append(f"{student}: the submission already in submitted/ is newer "
                                f"({_shown_time(before)}): it was kept")
            return "kept"
        backup = _backup(course, module, student, folder, existing, before)
        result.notes.append(f"{student}: the earlier submission was backed up to "
                            f"{backup.relative_to(course.root).as_posix()}")
        status = "replaced"
    atomic_write_bytes(folder / module.notebook_name, data)
    if timestamp:
        atomic_write_bytes(folder / TIMESTAMP_FILE, timestamp.strftime(TIMESTAMP_FORMAT).encode("ascii"))
    else:
        (folder / TIMESTAMP_FILE).unlink(missing_ok=True)
    return status


def _backup(course: CoursePaths, module: Module, student: str, folder: Path, existing: intake.Intake,
            before: datetime | None) -> Path:
    """Keep the submission that is about to be replaced: its bytes, or (one the intake
    refused: a link, or over the cap) the entry itself, moved aside unread."""
    stamp = (before or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    backup = course.root / BACKUPS / student / module.slug / f"{stamp}-{module.notebook_name}"
    _make_folders(course.root, backup.parent)
    if existing.notebook is not None:
        atomic_write_bytes(backup, existing.notebook)
    else:
        os.replace(folder / module.notebook_name, backup)
    return backup


def _make_folders(top: Path, folder: Path) -> None:
    """Create `folder` and the folders between `top` and it; each must be a real folder
    (never a link) inside `top`."""
    try:
        below = folder.relative_to(top).parts
    except ValueError as error:
        raise _Unwritable(f"{folder} is outside the course folder {top}: nothing written") from error
    if ".." in below:
        raise _Unwritable(f"{intake.printable(str(folder))} leaves the course folder: nothing written")
    current = top
    for part in below:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            os.mkdir(current, 0o755)
            continue
        if not stat.S_ISDIR(mode):
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a folder"
            raise _Unwritable(f"the course's {intake.printable(part)}/ is {kind}: nothing written")
