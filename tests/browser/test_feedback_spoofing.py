"""A feedback page shows the grader's result, whatever a student's markdown or outputs say.

Student HTML is sanitized (no script, no style), but the page's own stylesheets apply to it:
with Bootstrap's classes a markdown cell covered the whole page with its own "Score: 100 /
100, every graded cell passed", and an element with a grade cell's id took over the
summary's link to that cell. Pages rendered from small notebooks (tito.grading.feedback.render),
looked at in headless Chromium: an honest page, and one whose student cells try both.
"""

from __future__ import annotations

import nbformat
import pytest
from helpers import CHROMIUM, playwright_or_skip
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tito.grading import feedback as pages

pytestmark = [pytest.mark.browser]
sync_playwright = playwright_or_skip()

FAKE_SCORE = "Score: 100.0 / 100.0"
COVER = ('<div class="modal-backdrop"></div><div class="modal show"><div class="modal-dialog modal-lg">'
         f'<div class="modal-content"><div class="modal-body"><h4>layers ({FAKE_SCORE})</h4>'
         '<p><strong>Every graded cell passed.</strong></p></div></div></div></div>')
FAKE_PANEL = ('<div class="panel panel-primary nbgrader_cell" id="{anchor}"><a name="{anchor}"></a>'
              '<div class="panel-heading">Grade cell: <code>test-x</code></div>'
              '<p class="tito-result tito-passed">✅ Passed.</p></div>')


def _page(tmp_path, *student_cells) -> str:
    test = new_code_cell("def test_unit_x():\n    assert False, 'x should be 1'\ntest_unit_x()", metadata={
        "nbgrader": {"grade": True, "grade_id": "test-x", "locked": True, "points": 5, "solution": False,
                     "schema_version": 3, "score": 0}})
    test.outputs = [new_output("error", ename="AssertionError", evalue="x should be 1",
                               traceback=["❌ test_unit_x: x should be 1"])]
    notebook = new_notebook(cells=[*student_cells, test],
                            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    job = pages.FeedbackJob("mallory", nbformat.writes(notebook), {
        "student": "mallory", "assignment": "03_layers", "notebook": "layers", "score": 0, "max_score": 5,
        "late_penalty": 0, "reasons": {"test-x": "x should be 1"}})
    path = tmp_path / "page.html"
    path.write_text(pages.render({}, job), encoding="utf-8")
    return path.as_uri()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def _what_shows(browser, url: str) -> dict:
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    try:
        page.goto(url)
        heading = page.locator("h4", has_text="(Score: 0.0 / 5.0)").first
        box = heading.bounding_box()
        on_top = page.evaluate("([x, y]) => document.elementFromPoint(x, y).textContent",
                               [box["x"] + 5, box["y"] + box["height"] / 2])
        page.evaluate("() => { location.hash = document.querySelector('#tito-summary a').getAttribute('href'); }")
        target = page.evaluate("() => { const t = document.querySelector(':target');"
                               " return t && !t.closest('.text_cell_render') && t.nextElementSibling"
                               " && t.nextElementSibling.textContent.includes('x should be 1'); }")
        return {"on_top": on_top, "link_reaches_the_real_cell": target}
    finally:
        page.close()


def test_an_honest_page_shows_its_score_and_links_to_its_cells(tmp_path, browser):
    shown = _what_shows(browser, _page(tmp_path, new_markdown_cell("My notes: **x** should be 1.")))
    assert "Score: 0.0 / 5.0" in shown["on_top"] and shown["link_reaches_the_real_cell"], shown


@pytest.mark.parametrize("anchor", ["test-x", "tito-cell-test-x"])
def test_student_html_cannot_cover_the_score_or_take_a_cells_link(tmp_path, browser, anchor):
    cells = [new_markdown_cell("My notes.\n\n" + FAKE_PANEL.format(anchor=anchor)),
             new_markdown_cell("More notes.\n\n" + COVER)]
    shown = _what_shows(browser, _page(tmp_path, *cells))
    assert FAKE_SCORE not in shown["on_top"] and "Score: 0.0 / 5.0" in shown["on_top"], shown
    assert shown["link_reaches_the_real_cell"], shown
