"""The class report in a real browser (headless Chromium): it opens from disk with no
network, its figures load from the page itself, nothing in it runs, and a hostile student
id or reason shows as text. The screenshot is kept in TINYTORCH_SCREENSHOTS when set (the
README's picture is made this way: `TINYTORCH_SCREENSHOTS=docs python -m pytest
tests/loop/test_class_report_page.py`)."""

from __future__ import annotations

import os
import shutil

import pytest
from helpers import CHROMIUM, playwright_or_skip, run_tito
from loop_course import MODULE, copy_course, course_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_playwright = playwright_or_skip()

PAGE_TIMEOUT = 120_000  # ms
HOSTILE_ID = "<img src=x onerror=document.body.setAttribute('data-pwned','1')>"
HOSTILE_REASON = "<script>document.body.setAttribute('data-pwned','2')</script> expected 1, got 2"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


def _open(browser, path):
    """The page at `path`, with every request it makes recorded (and anything not from disk refused)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                  else route.abort())
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, requests


def test_the_class_report_opens_offline_with_its_figures_and_runs_nothing(loop, browser, tmp_path):
    report = loop.base / "report.html"
    assert report.is_file(), loop.out("report")
    context, page, requests = _open(browser, report)
    try:
        shot = tmp_path / "class-report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000
        sizes = page.evaluate("() => [...document.images].map(i => [i.id, i.complete, i.naturalWidth])")
        assert {name for name, _, _ in sizes} >= {"figure-scores", "figure-cells", "figure-times"}
        assert all(done and width > 100 for _, done, width in sizes), sizes
        assert [url for url in requests if not url.startswith("file:")] == []
        text = page.inner_text("body")
        assert "Score distribution" in text and "Pass rate per graded cell" in text and "Flags to review" in text
        assert page.locator("#scores tbody tr").count() == 6
        keep = os.environ.get("TINYTORCH_SCREENSHOTS")
        if keep:
            shutil.copy(shot, os.path.join(keep, "class-report.png"))
    finally:
        context.close()


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission, not ours
def test_hostile_ids_and_reasons_are_text_in_the_report(loop, browser, tmp_path):
    import json

    from nbgrader.api import Gradebook

    root = copy_course(loop.root, tmp_path / "course")
    with Gradebook(f"sqlite:///{root / 'nbgrader' / 'gradebook.db'}", "tinytorch") as book:
        book.update_or_create_student(HOSTILE_ID)
        book.add_submission(MODULE, HOSTILE_ID)  # a student whose id is markup (scores 0: nothing graded)
    stored = root / "nbgrader" / "autograded" / "grace_hopper" / MODULE / "tito-report.json"
    report = json.loads(stored.read_text())
    report["cells"][0]["reason"] = HOSTILE_REASON
    report["flags"].append({"kind": "tampered", "message": HOSTILE_ID, "cells": []})
    stored.write_text(json.dumps(report))
    run = run_tito(root, "nbgrader", "report", MODULE, "--to", str(tmp_path / "hostile.html"),
                   env=course_env(root))
    assert run.returncode == 0, run.stdout + run.stderr
    context, page, _ = _open(browser, tmp_path / "hostile.html")
    try:
        assert page.evaluate("() => document.body.getAttribute('data-pwned')") is None
        text = page.inner_text("body")
        assert HOSTILE_ID in text and HOSTILE_REASON in text
        assert page.locator("script").count() == 0 and page.locator("#scores tbody tr").count() == 7
    finally:
        context.close()
