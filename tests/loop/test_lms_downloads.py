"""LMS downloads without a kernel: the file-name schemes of Canvas and Moodle, which student
id each file gets, and what the reader of a zip or a folder refuses (a link, a path out of
the download, a size over the cap, a header that lies about its size, a hard link), each
beside an honest file that is read whole."""

from __future__ import annotations

import os
import stat
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tito.coursedir import intake
from tito.workflows.instructor import collect, lms
from tito.workflows.instructor.lms import Lms, LmsIdentity

CAP = 1000


def test_canvas_names_give_the_user_id_the_attachment_and_canvas_s_late_mark():
    late = lms.parse_name(Lms.CANVAS, "turingalan_LATE_1002_9002_layers.ipynb")
    assert late == lms.LmsName(Lms.CANVAS, "turingalan", "1002", "layers.ipynb", "9002", True)
    second = lms.parse_name(Lms.CANVAS, "download/hoppergrace_1003_9010_layers-1.ipynb")
    assert (second.name, second.lms_id, second.lms_late, second.notebook_stem()) == ("hoppergrace", "1003", False,
                                                                                     "layers")
    assert lms.parse_name(Lms.CANVAS, "README.txt") is None
    assert lms.parse_name(Lms.CANVAS, "Ada Lovelace_5001_assignsubmission_file_layers.ipynb") is None


def test_moodle_names_flat_and_in_folders_give_the_participant_id():
    flat = lms.parse_name(Lms.MOODLE, "Ada Lovelace_5001_assignsubmission_file_layers.ipynb")
    assert flat == lms.LmsName(Lms.MOODLE, "Ada Lovelace", "5001", "layers.ipynb")
    folder = lms.parse_name(Lms.MOODLE, "unpacked/Alan Turing_5002_assignsubmission_file/work/layers.ipynb")
    assert (folder.name, folder.lms_id, folder.file_name, folder.lms_late) == ("Alan Turing", "5002", "layers.ipynb",
                                                                               None)
    assert lms.parse_name(Lms.MOODLE, "lovelaceada_1001_9001_layers.ipynb") is None


def test_the_scheme_is_detected_from_the_names_and_an_unknown_one_is_none():
    assert lms.detect(["lovelaceada_1001_9001_layers.ipynb", "README.txt"]) is Lms.CANVAS
    assert lms.detect(["Ada Lovelace_5001_assignsubmission_file_layers.ipynb"]) is Lms.MOODLE
    assert lms.detect(["layers.ipynb", "notes.txt"]) is None


def _found(lms_name: Lms, name: str, lms_id: str) -> lms.LmsName:
    return lms.LmsName(lms_name, name, lms_id, "layers.ipynb")


def test_student_ids_come_from_the_gradebook_the_roster_or_the_name_and_never_collide():
    roster = {"smithjohn": LmsIdentity(Lms.CANVAS, "7")}  # an earlier collect gave this id to user 7
    found = [_found(Lms.CANVAS, "smithjohn", "7"), _found(Lms.CANVAS, "smithjohn", "8"),
             _found(Lms.CANVAS, "lovelaceada", "1001"), _found(Lms.CANVAS, "doejane", "42"),
             _found(Lms.MOODLE, "José Müller", "5"), _found(Lms.MOODLE, "Kim Lee", "11"),
             _found(Lms.MOODLE, "Kim Lee", "12"), _found(Lms.MOODLE, "***", "13")]
    ids = collect.student_ids(found, roster, {"42": "jdoe"})
    assert ids == {(Lms.CANVAS, "7"): "smithjohn", (Lms.CANVAS, "8"): "smithjohn-8",
                   (Lms.CANVAS, "1001"): "lovelaceada", (Lms.CANVAS, "42"): "jdoe",
                   (Lms.MOODLE, "5"): "jose_muller", (Lms.MOODLE, "11"): "kim_lee-11",
                   (Lms.MOODLE, "12"): "kim_lee-12", (Lms.MOODLE, "13"): "moodle-13"}


def test_canvas_s_late_mark_decides_the_side_of_the_due_date():
    due = datetime(2026, 11, 20, 12)
    packed = due + timedelta(days=2)  # the zip was made two days later: every entry has that time
    assert collect.submission_time(packed, False, due) == (due, True)
    assert collect.submission_time(packed, True, due) == (packed, False)
    assert collect.submission_time(due - timedelta(hours=1), True, due) == (due + timedelta(seconds=1), True)
    assert collect.submission_time(packed, None, due) == (packed, False)  # Moodle says nothing: its time stands
    assert collect.submission_time(packed, True, None) == (packed, False)  # no due date: nothing to decide


# -- the readers ---------------------------------------------------------------------------------------------
def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def _entries(download: collect.Download) -> dict[str, str]:
    return {entry.path: entry.problem for entry in download.entries}


def test_a_zip_s_links_escapes_and_oversized_entries_are_refused_by_name(tmp_path):
    honest = b'{"cells": []}'
    fifo = zipfile.ZipInfo("fifo.ipynb")
    fifo.create_system, fifo.external_attr = 3, (stat.S_IFIFO | 0o644) << 16
    path = _zip(tmp_path / "download.zip", [
        ("ok_1_2_layers.ipynb", honest), _link("link_1_3_layers.ipynb", "/etc/passwd"), ("../evil.ipynb", honest),
        ("a/../../evil2.ipynb", honest), ("/abs.ipynb", honest), ("..\\win.ipynb", honest), ("C:/drive.ipynb", honest),
        ("big_1_4_layers.ipynb", b"x" * (CAP + 1)), (fifo, b""), ("folder/", b"")])
    with collect.open_download(path, UTC, CAP) as download:
        problems = _entries(download)
        assert problems.pop("ok_1_2_layers.ipynb") == ""
        assert download.read(next(e for e in download.entries if not e.problem), CAP) == honest
    assert problems == {
        "link_1_3_layers.ipynb": "a symbolic link (not followed)", "../evil.ipynb": collect.OUTSIDE,
        "a/../../evil2.ipynb": collect.OUTSIDE, "/abs.ipynb": collect.OUTSIDE, "../win.ipynb": collect.OUTSIDE,
        "C:/drive.ipynb": collect.OUTSIDE, "big_1_4_layers.ipynb": collect.over_cap(CAP),
        "fifo.ipynb": "a fifo (not opened)"}


def test_a_zip_header_that_lies_about_the_size_is_still_read_no_further_than_the_cap(tmp_path):
    path = _zip(tmp_path / "download.zip", [("liar_1_2_layers.ipynb", b"y" * (10 * CAP))])
    data = path.read_bytes()
    # the central directory's uncompressed size (offset 24 of its record) says 10 bytes
    record = data.rindex(b"PK\x01\x02")
    data = data[:record + 24] + (10).to_bytes(4, "little") + data[record + 28:]
    path.write_bytes(data)
    with collect.open_download(path, UTC, CAP) as download:
        entry = download.entries[0]
        assert (entry.size, entry.problem) == (10, "")
        with pytest.raises(collect.Unreadable, match="larger than the limit|cannot be read"):
            download.read(entry, CAP)


def test_a_zip_entry_named_twice_is_taken_from_neither_copy(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = _zip(tmp_path / "download.zip", [("eve_1_2_layers.ipynb", b"one"), ("eve_1_2_layers.ipynb", b"two"),
                                                ("ada_3_4_layers.ipynb", b"ada")])
    with collect.open_download(path, UTC, CAP) as download:
        assert _entries(download) == {"eve_1_2_layers.ipynb": "appears 2 times in the zip (ambiguous: none was taken)",
                                      "ada_3_4_layers.ipynb": ""}


def test_zip_times_are_read_in_the_given_zone_or_from_the_utc_extended_timestamp():
    info = zipfile.ZipInfo("a.ipynb", (2026, 11, 20, 13, 0, 0))
    assert collect.zip_time(info, UTC) == datetime(2026, 11, 20, 13, 0)
    assert collect.zip_time(info, collect.parse_zone("Europe/Berlin")) == datetime(2026, 11, 20, 12, 0)
    utc = int(datetime(2026, 11, 20, 9, 30, tzinfo=UTC).timestamp())
    info.extra = (0x5455).to_bytes(2, "little") + (5).to_bytes(2, "little") + b"\x01" + utc.to_bytes(4, "little")
    assert collect.zip_time(info, collect.parse_zone("Europe/Berlin")) == datetime(2026, 11, 20, 9, 30)


def test_a_folder_download_is_walked_without_following_links(tmp_path):
    top = tmp_path / "download"
    student = top / "Ada Lovelace_5001_assignsubmission_file"
    student.mkdir(parents=True)
    (student / "layers.ipynb").write_bytes(b"ada")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answers.ipynb").write_bytes(b"answers")
    os.symlink(secret, top / "Eve Eve_5888_assignsubmission_file")  # a folder link: never entered
    os.symlink(secret / "answers.ipynb", top / "Mal Lory_5666_assignsubmission_file_layers.ipynb")
    os.link(secret / "answers.ipynb", top / "Hard Link_5777_assignsubmission_file_layers.ipynb")
    (top / "Big Bob_5999_assignsubmission_file_layers.ipynb").write_bytes(b"z" * (CAP + 1))
    os.mkfifo(top / "Fifo Fifo_5111_assignsubmission_file_layers.ipynb")
    with collect.open_download(top, UTC, CAP) as download:
        problems = _entries(download)
        honest = next(e for e in download.entries if e.path.startswith("Ada"))
        assert download.read(honest, CAP) == b"ada"
    assert problems == {
        "Ada Lovelace_5001_assignsubmission_file/layers.ipynb": "",
        "Eve Eve_5888_assignsubmission_file": "a symbolic link (not followed)",
        "Mal Lory_5666_assignsubmission_file_layers.ipynb": "a symbolic link (not followed)",
        "Hard Link_5777_assignsubmission_file_layers.ipynb": intake.HARD_LINK,
        "Big Bob_5999_assignsubmission_file_layers.ipynb": collect.over_cap(CAP),
        "Fifo Fifo_5111_assignsubmission_file_layers.ipynb": "a fifo (not opened)"}


def test_a_file_swapped_for_a_link_after_listing_is_not_read(tmp_path):
    top = tmp_path / "download"
    top.mkdir()
    target = top / "Ada Lovelace_5001_assignsubmission_file_layers.ipynb"
    target.write_bytes(b"ada")
    (tmp_path / "secret.ipynb").write_bytes(b"answers")
    with collect.open_download(top, UTC, CAP) as download:
        entry = download.entries[0]
        target.unlink()
        os.symlink(tmp_path / "secret.ipynb", target)
        with pytest.raises(collect.Unreadable, match="symbolic link"):
            download.read(entry, CAP)


def test_lms_grade_files_neutralize_formulas_and_escape_moodle_s_html(tmp_path):
    row = lms.GradeRow("=cmd", "=HYPERLINK(\"http://evil\")", "1001", 85.0, 100.0, datetime(2026, 11, 20, 10),
                       ("flag: <img src=x onerror=alert(1)>", "late: 1 h"))
    canvas = lms.canvas_csv([row], "03_layers")
    assert canvas.splitlines()[:3] == ["Student,ID,SIS User ID,SIS Login ID,Section,03_layers",
                                       "Points Possible,,,,,100.0",
                                       "\"'=HYPERLINK(\"\"http://evil\"\")\",1001,,,,85.0"]
    moodle = lms.moodle_csv([row], datetime(2026, 11, 21, 8))
    header, line = moodle.splitlines()
    assert header.split(",") == lms.MOODLE_COLUMNS
    assert line.startswith("Participant 1001,")
    assert "&lt;img src=x onerror=alert(1)&gt;<br>late: 1 h" in line and "<img" not in line
    assert ",85.00,100.00,Yes,2026-11-20 10:00:00 UTC,2026-11-21 08:00:00 UTC," in line
