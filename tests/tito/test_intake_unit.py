"""tito.coursedir.intake on its own: what is read, what is refused and why (no kernels)."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from tito.coursedir import intake
from tito.coursedir.intake import IntakeLimits, read_submission

NOTEBOOK = "layers.ipynb"
LIMITS = IntakeLimits(max_file_bytes=10_000, max_submission_bytes=15_000)  # each file costs at least 4 KiB


@pytest.fixture
def folder(tmp_path) -> Path:
    folder = tmp_path / "submitted" / "ada" / "03_layers"
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_bytes(b"{}")
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    return folder


def _refused(found) -> dict[str, str]:
    return {entry.name: entry.why for entry in found.refused}


def test_a_normal_submission_is_read(folder):
    (folder / "data.csv").write_bytes(b"1,2\n")
    (folder / "other.ipynb").write_bytes(b"{}")
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert found.notebook == b"{}" and found.files == {"data.csv": b"1,2\n"} and found.refused == []
    assert found.other_notebooks == ["other.ipynb"]
    assert found.timestamp.text == "2026-11-20 10:00:00.000000 UTC" and found.timestamp.value.hour == 10


def test_links_fifos_and_subfolders_are_refused_by_name(folder, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("answers")
    os.symlink(secret, folder / "data.txt")
    os.mkfifo(folder / "pipe")
    (folder / "sub").mkdir()
    found = read_submission(folder, NOTEBOOK, LIMITS)
    refused = _refused(found)
    assert "symbolic link" in refused["data.txt"] and "fifo" in refused["pipe"] and "folder" in refused["sub"]
    assert found.files == {}


def test_a_linked_notebook_is_refused_not_followed(folder, tmp_path):
    (folder / NOTEBOOK).unlink()
    (tmp_path / "source.ipynb").write_bytes(b'{"solutions": 1}')
    os.symlink(tmp_path / "source.ipynb", folder / NOTEBOOK)
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert found.notebook is None and found.notebook_refused and "symbolic link" in found.notebook_problem


def test_a_missing_notebook_is_not_a_refusal(folder):
    (folder / NOTEBOOK).unlink()
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert found.notebook is None and not found.notebook_refused and NOTEBOOK in found.notebook_problem


@pytest.mark.parametrize("linked", ["student", "assignment"])
def test_a_linked_folder_is_refused(tmp_path, folder, linked):
    top = tmp_path / "submitted"
    if linked == "student":
        os.symlink("ada", top / "bob")
        target = top / "bob" / "03_layers"
    else:
        (top / "bob").mkdir()
        os.symlink("../ada/03_layers", top / "bob" / "03_layers")
        target = top / "bob" / "03_layers"
    found = read_submission(target, NOTEBOOK, LIMITS, top=top)
    assert found.notebook is None and found.notebook_refused and "symbolic link" in found.notebook_problem


def test_size_caps_read_at_most_one_byte_past(folder):
    with open(folder / "big.bin", "wb") as big:
        big.truncate(10**12)  # sparse: reading it would never end
    (folder / "a.bin").write_bytes(b"x" * 9000)
    (folder / "b.bin").write_bytes(b"x" * 9000)  # within its cap, over what is left of the submission's
    found = read_submission(folder, NOTEBOOK, LIMITS)
    refused = _refused(found)
    assert "one file" in refused["big.bin"] and "whole submission" in refused["b.bin"]
    assert set(found.files) == {"a.bin"}


def test_an_oversized_notebook_is_refused(folder):
    (folder / NOTEBOOK).write_bytes(b" " * 10_001)
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert found.notebook is None and found.notebook_refused and "one file" in found.notebook_problem


@pytest.mark.parametrize("content, problem", [(b"last tuesday", "not a time"), (b"\xff\xfe\x00", "not text"),
                                              (b"  \n", "empty"), (b"9" * 5000, "one file")])
def test_a_bad_timestamp_is_a_problem_not_an_error(folder, content, problem):
    (folder / "timestamp.txt").write_bytes(content)
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert found.timestamp.text is None and problem in found.timestamp.problem and found.notebook == b"{}"


def test_a_missing_timestamp(folder):
    (folder / "timestamp.txt").unlink()
    assert "no timestamp.txt" in read_submission(folder, NOTEBOOK, LIMITS).timestamp.problem


@pytest.mark.parametrize("student", ['=HYPERLINK("x")', " spaced", "trailing ", "a[b]", "star*", "q?", "tab\there",
                                     "+1", "-x", "@me"])
def test_odd_student_ids(student):
    assert intake.odd_student_id(student)


@pytest.mark.parametrize("student", ["ada", "jean-luc", "o.brien", "user_42", "Zoë"])
def test_ordinary_student_ids(student):
    assert intake.odd_student_id(student) == ""


def test_limits_come_from_the_config():
    from traitlets.config import Config

    config = Config()
    config.SubmissionIntake.max_file_bytes = 123
    config.SubmissionIntake.max_files = 7
    assert intake.SubmissionIntake(config=config).limits() == IntakeLimits(123, IntakeLimits.max_submission_bytes, 7)


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(folder, tmp_path, monkeypatch):
    """The race: listed as a regular file, a link when opened (O_NOFOLLOW refuses it)."""
    (folder / "data.csv").write_bytes(b"mine")
    secret = tmp_path / "secret.txt"
    secret.write_text("answers")
    listing = os.scandir

    def swapping(fd):
        entries = list(listing(fd))
        for entry in entries:
            entry.stat(follow_symlinks=False)  # listed (and stat'ed) as it was
        (folder / "data.csv").unlink()
        os.symlink(secret, folder / "data.csv")
        return _Listing(entries)

    monkeypatch.setattr(intake.os, "scandir", swapping)
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert "data.csv" not in found.files and "cannot be read" in _refused(found)["data.csv"]


class _Listing(list):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_hard_link_beside_the_notebook_is_refused_by_name(folder, tmp_path):
    """A hard link is another name for a file elsewhere (the instructor's source, a secret)."""
    secret = tmp_path / "03_layers.py"
    secret.write_text("### BEGIN SOLUTION")
    os.link(secret, folder / "notes.txt")
    (folder / "data.csv").write_bytes(b"1,2\n")
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert "hard link" in _refused(found)["notes.txt"] and found.files == {"data.csv": b"1,2\n"}


def test_a_hard_linked_notebook_is_refused(folder, tmp_path):
    (folder / NOTEBOOK).unlink()
    (tmp_path / "source.ipynb").write_bytes(b'{"solutions": 1}')
    os.link(tmp_path / "source.ipynb", folder / NOTEBOOK)
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert found.notebook is None and found.notebook_refused and "hard link" in found.notebook_problem


def test_a_hard_linked_timestamp_quotes_nothing_of_its_file(folder, tmp_path):
    (folder / "timestamp.txt").unlink()
    (tmp_path / "secret").write_text("TOP-SECRET-PASSWORD")
    os.link(tmp_path / "secret", folder / "timestamp.txt")
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert found.timestamp.text is None and "hard link" in found.timestamp.problem
    assert "SECRET" not in found.timestamp.problem and found.notebook == b"{}"


def test_a_file_on_another_device_than_its_folder_is_refused(folder, monkeypatch):
    """A bind mount needs root to make, so the folder is made to look like another device."""
    (folder / "data.csv").write_bytes(b"1,2\n")
    real_fstat = os.fstat

    def folder_elsewhere(fd):
        info = real_fstat(fd)
        if not os.path.stat.S_ISDIR(info.st_mode):
            return info
        values = list(info)
        values[2] += 1  # st_dev
        return os.stat_result(values)

    monkeypatch.setattr(intake.os, "fstat", folder_elsewhere)
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert "another file system" in _refused(found)["data.csv"] and found.files == {}
    assert found.notebook is None and found.notebook_refused


def test_each_file_costs_at_least_4_kib_of_the_submission(folder):
    for number in range(5):
        (folder / f"empty{number}.txt").write_bytes(b"")
    found = read_submission(folder, NOTEBOOK, LIMITS)  # 15,000 bytes: the notebook and two files of 4096
    assert found.notebook == b"{}" and len(found.files) == 2
    assert all("whole submission" in why for why in _refused(found).values()) and len(found.refused) == 3


def test_files_past_the_count_limit_are_refused_and_the_message_stays_short(folder):
    limits = IntakeLimits(max_files=3)
    for number in range(40):
        (folder / f"f{number:02}.txt").write_bytes(b"")
    found = read_submission(folder, NOTEBOOK, limits)
    assert found.notebook == b"{}" and found.timestamp.value is not None
    assert sorted(found.files) == ["f00.txt", "f01.txt", "f02.txt"] and len(found.refused) == 37
    assert all("limit of 3 files" in entry.why for entry in found.refused)
    text = found.refused_text()
    assert "f03.txt" in text and "f39.txt" not in text and "and 32 more" in text and len(text) < 300


class _CountingEntry:
    def __init__(self, entry, stats: list):
        self._entry, self._stats = entry, stats
        self.name = entry.name

    def stat(self, **kwargs):
        self._stats.append(self.name)
        return self._entry.stat(**kwargs)


def test_a_huge_folder_is_listed_cheaply(folder, monkeypatch):
    """30,000 empty files: only a few past the cap are stat'ed and read, the notebook is still found."""
    for number in range(30_000):
        (folder / f"f{number:05}").write_bytes(b"")
    stats: list[str] = []
    listing = os.scandir

    def counting(fd):
        with listing(fd) as entries:
            return _Listing(_CountingEntry(entry, stats) for entry in entries)

    monkeypatch.setattr(intake.os, "scandir", counting)
    found = read_submission(folder, NOTEBOOK, IntakeLimits(max_files=100))
    assert found.notebook == b"{}" and found.timestamp.value is not None and len(found.files) == 100
    assert len(stats) <= 100 and found.unlisted and len(found.refused) == intake.LISTING_MARGIN  # listing stopped
    text = found.refused_text()
    assert f"and {intake.LISTING_MARGIN - 5} more" in text and "not even listed" in text and len(text) < 400


def _printable(text: str) -> bool:
    text.encode("utf-8")  # raises on surrogates (non-UTF-8 bytes)
    return not any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


def test_odd_file_names_are_shown_printable(folder, tmp_path):
    """Names of bytes that are not UTF-8, with a right-to-left override or an escape sequence."""
    (tmp_path / "secret").write_text("x")
    raw = os.fsencode(folder)
    for name in (b"\xff\xfe.txt", "txt.\u202eexe".encode(), b"\x1b[31mred"):
        os.symlink(tmp_path / "secret", raw + b"/" + name)
    for number in range(3):
        (folder / f"\u202e{number}.ipynb").write_bytes(b"{}")
    found = read_submission(folder, NOTEBOOK, IntakeLimits(max_files=1))
    assert len(found.refused) == 3
    texts = [str(entry) for entry in found.refused] + [found.refused_text()] + found.other_notebooks
    assert all(_printable(text) for text in texts), texts
    assert "\\xff\\xfe.txt" in found.refused_text() and "\\u202e" in found.refused_text()
    assert any(os.fsencode(entry.name) == b"\xff\xfe.txt" for entry in found.refused)  # as the OS names it


@pytest.mark.parametrize("student", [os.fsdecode(b"\xffada"), "ada\u202enimda", "ada\u200b"])
def test_student_ids_with_invisible_or_non_utf8_characters_are_odd(student):
    why = intake.odd_student_id(student)
    assert why and _printable(why)


def test_nbgraders_copies_of_files_the_intake_did_not_accept_never_reach_the_kernel(tmp_path):
    """nbgrader's CLI copies all of submitted/ into autograded/, following links, even the
    files the intake never listed in a huge folder: only what it accepted is copied on."""
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    submitted = tmp_path / "submitted" / "ada" / "03_layers"
    autograded = tmp_path / "autograded" / "ada" / "03_layers"
    for folder in (submitted, autograded):
        folder.mkdir(parents=True)
        for name in ("a.txt", "b.txt", "c.txt"):
            (folder / name).write_bytes(b"")
    (autograded / "unlisted.txt").write_text("a copy of a link nbgrader followed")
    refused = intake.refused_in_submitted(config, autograded, IntakeLimits(max_files=2))
    assert "a.txt" not in refused and "b.txt" not in refused
    assert "c.txt" in refused and "unlisted.txt" in refused
    assert intake.refused_in_submitted(config, submitted, IntakeLimits()) == set()


def test_many_other_notebooks_are_named_briefly(folder):
    for number in range(20):
        (folder / f"copy{number:02}.ipynb").write_bytes(b"{}")
    found = read_submission(folder, NOTEBOOK, LIMITS)
    assert found.other_notebooks[:2] == ["copy00.ipynb", "copy01.ipynb"] and found.other_notebooks[-1] == "and 15 more"
