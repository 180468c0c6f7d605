"""tito.intake on its own: what is read, what is refused and why (no kernels)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tito import intake
from tito.intake import IntakeLimits, read_submission

NOTEBOOK = "layers.ipynb"
LIMITS = IntakeLimits(max_file_bytes=1000, max_submission_bytes=1500)


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
    (folder / "a.bin").write_bytes(b"x" * 900)
    (folder / "b.bin").write_bytes(b"x" * 900)  # within its cap, over what is left of the submission's
    found = read_submission(folder, NOTEBOOK, LIMITS)
    refused = _refused(found)
    assert "one file" in refused["big.bin"] and "whole submission" in refused["b.bin"]
    assert set(found.files) == {"a.bin"}


def test_an_oversized_notebook_is_refused(folder):
    (folder / NOTEBOOK).write_bytes(b" " * 1001)
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
    assert intake.SubmissionIntake(config=config).limits() == IntakeLimits(123, IntakeLimits.max_submission_bytes)


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
