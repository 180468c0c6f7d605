"""nbgrader's own `nbgrader zip_collect` with tito's plugins: SafeExtractor (the download
read by collect's rules: links, escapes, oversized files and duplicate names are refused in
its log) and CanvasCollector (Canvas's file names; the newest of a student's files kept)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from factory import fresh, write
from loop_course import HOSTILE, MODULE, NOTEBOOK, canvas_zip, copy_course, course_env, notebooks

from tito.course import notebooks as notebook_files

pytestmark = pytest.mark.slow


def test_nbgrader_zip_collect_with_tito_s_plugins(generated, tmp_path):
    root = copy_course(generated, tmp_path / "repo")
    files = {student: notebook_files.dumps(notebook).encode() for student, notebook in notebooks(root).items()}
    archive = root / "nbgrader" / "downloaded" / MODULE / "archive"
    archive.mkdir(parents=True)
    canvas_zip(archive / "submissions.zip", files, write(fresh(root), tmp_path / "fresh.ipynb").read_bytes())
    run = subprocess.run([sys.executable, "-m", "nbgrader", "zip_collect", MODULE,
                          "--extractor=tito.workflows.instructor.collect.SafeExtractor",
                          "--collector=tito.workflows.instructor.lms.CanvasCollector"],
                         cwd=root, env=course_env(root), capture_output=True, text=True, timeout=600)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log
    for name, why in HOSTILE["canvas"].items():
        assert f"Refused submissions.zip: {name}: {why}" in log, (name, log[-3000:])
    submitted = root / "nbgrader" / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["hoppergrace", "lovelaceada", "turingalan"]
    assert (submitted / "hoppergrace" / MODULE / NOTEBOOK).read_bytes() == files["grace"], "the newest of two"
    assert (submitted / "lovelaceada" / MODULE / NOTEBOOK).read_bytes() == files["ada"]
    assert (submitted / "turingalan" / MODULE / "timestamp.txt").read_text().startswith("2026-11-20 12:30:00")
    extracted = root / "nbgrader" / "downloaded" / MODULE / "extracted"
    assert not [p for p in extracted.rglob("*") if p.is_symlink() or p.name == "evil.ipynb"]
    assert not list(tmp_path.rglob("evil.ipynb"))
