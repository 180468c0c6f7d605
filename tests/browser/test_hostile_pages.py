"""Student outputs are data, never code, in every page that shows them: tito's feedback pages
(opened from disk) and nbgrader's formgrader (served by the instructor's own Jupyter server,
whose REST API a script in the page could use). Both in headless Chromium, after one real
autograde batch: an honest, fully solved submission (must keep 100), a hostile one whose
extra cells display scripts in every form a notebook allows, one that prints 100 MB on
one line (the autograded notebook and the feedback page must stay small), and two that tito
flags (a syntax error, an edited locked test), which formgrader's "Flagged?" column must show.

Every payload, if it ran, would set a `data-pwned-*` attribute on document.body; the
`<script>` one also PUTs `pwned.txt` through the Jupyter contents API (with the page's XSRF
cookie, as a real attack would). Waits are bounded and wait on the page's own state.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from factory import edit, solved, write
from helpers import CHROMIUM, copy_repo, free_port, playwright_or_skip, run_tito, tito_env, wait_for
from nbformat.v4 import new_code_cell, new_markdown_cell

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_playwright = playwright_or_skip()

MODULE, NOTEBOOK = "03_layers", "layers.ipynb"
TIMESTAMP = "2026-11-20 10:00:00.000000 UTC\n"
START_TIMEOUT = 120  # s, generous: the machine may be busy with other test suites
PAGE_TIMEOUT = 120
FLOOD_CHARS = 100_000_000
GRADED_CELLS = 11  # the graded test cells of 03_layers (each part, its errors cell, integration)


def _mark(name: str) -> str:
    return f"document.body.setAttribute('data-pwned-{name}', '1')"


_PUT = ("fetch('/api/contents/pwned.txt', {method: 'PUT', headers: {'Content-Type': 'application/json', "
        "'X-XSRFToken': decodeURIComponent((document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '')}, "
        "body: JSON.stringify({type: 'file', format: 'text', content: 'pwned'})})")
PAYLOADS = [  # what the hostile cell displays as HTML
    "<script>" + _mark("script") + "; " + _PUT + "</script>",
    '<img src=x onerror="' + _mark("img") + '">',
    '<svg onload="' + _mark("svg") + '" width="10" height="10"><circle r="5"/></svg>',
    '<a id="pwn-link" href="javascript:' + _mark("href") + '">click me</a>',
    '<iframe srcdoc="<script>parent.' + _mark("iframe") + '</script>"></iframe><object data="x"></object>'
    '<embed src="x"><form action="/api/contents"><button id="pwn-submit">go</button></form>',
]
_SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="' + _mark("svg-output") + '"><circle r="5"/></svg>'
_MARKDOWN_OUTPUT = '<img src=x onerror="' + _mark("markdown-output") + '">'
PAYLOAD_CODE = "\n".join([
    "from IPython.display import HTML, SVG, Javascript, Markdown, display",
    *[f"display(HTML({payload!r}))" for payload in PAYLOADS],
    f"display(SVG({_SVG!r}))",
    f"display(Javascript({_mark('javascript')!r}))",
    f"display(Markdown({_MARKDOWN_OUTPUT!r}))",
    "print('payloads displayed')",
])
PAYLOAD_MARKDOWN = (f'My notes <img src=x onerror="{_mark("markdown-img")}">\n\n'
                    f'<script>{_mark("markdown-script")}</script>\n\n| a | b |\n|---|---|\n| `x < y` | 2 |\n')






def _submissions(root: Path) -> dict:
    honest = solved(root)
    hostile = solved(root)
    hostile.cells += [new_code_cell(PAYLOAD_CODE), new_markdown_cell(PAYLOAD_MARKDOWN)]
    flood = solved(root)
    flood.cells.append(new_code_cell(f"print('#' * {FLOOD_CHARS})"))
    syntax = edit(solved(root), "linear", "class Linear(Layer):", "class Linear(Layer)")
    tamperer = edit(solved(root), "test-dropout", "def test_unit_dropout():\n",
                    "def test_unit_dropout():\n    return  # full marks, surely\n")
    return {"honest": honest, "mallory": hostile, "flood": flood, "syntax": syntax, "tamperer": tamperer}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A repository copy with 03_layers generated, three submissions autograded and their
    feedback pages written, all by `tito nbgrader` commands."""
    base = tmp_path_factory.mktemp("pages")
    root = copy_repo(base / "repo")
    env = tito_env(root) | {"TINYTORCH_CELL_TIMEOUT": "120"}  # a busy machine must not fail a cell
    run_tito(root, "nbgrader", "generate", MODULE, env=env, check=True)
    for student, notebook in _submissions(root).items():
        folder = root / "nbgrader" / "submitted" / student / MODULE
        write(notebook, folder / NOTEBOOK)
        (folder / "timestamp.txt").write_text(TIMESTAMP)
    report = base / "autograde.json"
    graded = run_tito(root, "nbgrader", "autograde", MODULE, "--json", str(report), env=env)
    assert report.is_file(), graded.stdout + graded.stderr
    scores = {r["student"]: r for r in json.loads(report.read_text())}
    run_tito(root, "nbgrader", "feedback", MODULE, env=env, check=True)
    return root, scores


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    yield folder
    keep = os.environ.get("TINYTORCH_SCREENSHOTS")  # a folder to copy the screenshots to
    if keep:
        shutil.copytree(folder, keep, dirs_exist_ok=True)


class Watched:
    """A page, with every request it makes recorded."""

    def __init__(self, context):
        self.page = context.new_page()
        self.page.set_default_timeout(PAGE_TIMEOUT * 1000)
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(f"{request.method} {request.url}"))

    def settle(self, served: bool) -> None:
        """Loaded (images failed or loaded, so their handlers had their chance) and, for a served
        page, no request in flight; then the javascript: link is clicked, if the page still has one.
        (A page from disk is never "network idle" while MathJax's CDN script hangs offline.)"""
        self.page.wait_for_load_state("load")
        link = self.page.locator("#pwn-link, a:has-text('click me')")
        if link.count():
            link.first.click()
        if served:
            self.page.wait_for_load_state("networkidle")

    def attack_results(self) -> dict:
        return {"ran": self.ran(), "api requests": self.api_requests(), "embedded": self.embedded()}

    def ran(self) -> list[str]:
        return self.page.evaluate("() => [...document.body.attributes].map(a => a.name)"
                                  ".filter(n => n.startsWith('data-pwned'))")

    def embedded(self) -> list[str]:
        return self.page.evaluate("() => [...document.querySelectorAll('iframe, object, embed, form, svg')]"
                                  ".map(e => e.outerHTML.slice(0, 120))")

    def api_requests(self) -> list[str]:
        return [r for r in self.requests if "api/contents" in r]


def _feedback_page(root: Path, student: str) -> Path:
    return root / "nbgrader" / "feedback" / student / MODULE / NOTEBOOK.replace(".ipynb", ".html")


def test_hostile_feedback_page_runs_nothing(course, browser, shots):
    root, scores = course
    assert scores["mallory"]["score"] == scores["honest"]["score"] == 100, scores
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    try:
        watched = Watched(context)
        watched.page.goto(_feedback_page(root, "mallory").as_uri())
        watched.settle(served=False)
        text = watched.page.inner_text("body")
        watched.page.get_by_text("My notes").first.scroll_into_view_if_needed()
        watched.page.screenshot(path=str(shots / "feedback-mallory.png"))
        assert watched.attack_results() == {"ran": [], "api requests": [], "embedded": []}
        assert "payloads displayed" in text and "My notes" in text  # the student's content is still shown
        assert "x < y" in text
    finally:
        context.close()


class _Markup(HTMLParser):
    """Elements and attributes that could run or load something (escaped markup is text)."""

    def __init__(self):
        super().__init__()
        self.live: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "form", "svg", "style"):
            self.live.append(f"<{tag}>")
        self.live += [f"<{tag} {name}>" for name, value in attrs
                      if name.startswith("on") or "javascript:" in (value or "").lower()]


def _live_markup(html: str) -> list[str]:
    parser = _Markup()
    parser.feed(html)
    return parser.live


def test_the_autograded_notebook_is_stored_sanitized(course):
    root, _ = course
    notebook = json.loads((root / "nbgrader" / "autograded" / "mallory" / MODULE / NOTEBOOK).read_text())
    payloads, notes = notebook["cells"][-2:]
    shown = [(kind, "".join(value) if isinstance(value, list) else value)
             for output in payloads["outputs"] for kind, value in output.get("data", {}).items()]
    assert "application/javascript" not in dict(shown), [kind for kind, _ in shown]
    live = [markup for kind, value in shown if kind in ("text/html", "text/markdown") for markup in _live_markup(value)]
    assert live == [] and _live_markup("".join(notes["source"])) == [], (live, notes["source"])
    assert "My notes" in "".join(notes["source"]) and "<table>" in "".join(notes["source"])


def test_honest_feedback_page_still_shows_its_score_and_checks(course, browser, shots):
    root, _ = course
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    try:
        watched = Watched(context)
        watched.page.goto(_feedback_page(root, "honest").as_uri())
        watched.settle(served=False)
        text = watched.page.inner_text("body")
        watched.page.screenshot(path=str(shots / "feedback-honest.png"))
        assert "(Score: 100.0 / 100.0)" in text, text[:300]
        passed = [line for line in text.splitlines() if line.startswith("✅") and "visible checks passed" in line]
        assert len(passed) == GRADED_CELLS, passed  # each test cell's own ✅ line
        assert not [line for line in text.splitlines() if line.startswith("❌")]
        assert watched.page.locator(".panel-heading").count() >= GRADED_CELLS  # nbgrader's feedback template, styled
    finally:
        context.close()


def test_a_100_mb_line_is_cut_in_the_autograded_notebook_and_the_feedback_page(course):
    root, scores = course
    assert scores["flood"]["score"] == 100, scores["flood"]
    autograded = root / "nbgrader" / "autograded" / "flood" / MODULE / NOTEBOOK
    page = _feedback_page(root, "flood")
    print(f"100 MB line: autograded notebook {autograded.stat().st_size:,} bytes, "
          f"feedback page {page.stat().st_size:,} bytes")
    assert autograded.stat().st_size < 3_000_000
    assert page.stat().st_size < 3_000_000
    notebook = json.loads(autograded.read_text())
    printed = "".join("".join(o.get("text", "")) for o in notebook["cells"][-1]["outputs"])
    assert f"output cut at 1 MB ({FLOOD_CHARS + 1:,} characters in all)" in printed  # with print's newline


# -- formgrader ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def formgrader(course, tmp_path_factory):
    """A Jupyter server with nbgrader's formgrader on the course copy (token auth, 127.0.0.1,
    a free port), as an instructor runs it; stopped at the end."""
    root, _ = course
    base = tmp_path_factory.mktemp("formgrader")
    port, token = free_port(), secrets.token_hex(16)
    env = tito_env(root) | {"JUPYTER_CONFIG_DIR": str(base / "config"), "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
                            "JUPYTER_DATA_DIR": str(base / "data")}
    command = [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = base / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def api(path: str):
        request = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def ready():
        try:
            return api("/api/status") is not None
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"jupyter server exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
            return False

    try:
        wait_for(ready, START_TIMEOUT, "the Jupyter server to start")
        yield url, token, api, log_path
    finally:
        server.terminate()  # the server we started, by its own process id
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def test_hostile_submission_in_formgrader_runs_nothing_and_grading_works(course, formgrader, browser, shots):
    root, _ = course
    url, token, api, log_path = formgrader
    submissions = {s["student"]: s["id"] for s in api(f"/formgrader/api/submitted_notebooks/{MODULE}/layers")}
    assert "mallory" in submissions, (submissions, log_path.read_text()[-2000:])
    # the instructor's logged-in browser: every request it sends carries the server's token
    # (a URL token alone logs in that one page, and formgrader's own API calls would be refused)
    context = browser.new_context(viewport={"width": 1300, "height": 1000},
                                  extra_http_headers={"Authorization": f"token {token}"})
    try:
        watched = Watched(context)
        watched.page.goto(f"{url}/formgrader/submissions/{submissions['mallory']}/")
        watched.settle(served=True)
        watched.page.get_by_text("My notes").first.scroll_into_view_if_needed()
        watched.page.screenshot(path=str(shots / "formgrader-mallory.png"))
        assert watched.attack_results() | {"pwned.txt written": (root / "pwned.txt").exists()} == {
            "ran": [], "api requests": [], "embedded": [], "pwned.txt written": False}
        assert "payloads displayed" in watched.page.inner_text("body")
        # the grading page works: formgrader's own scripts show each graded cell's autograde
        # score in its box, and "Full credit" saves a manual score through formgrader's API
        scores = watched.page.locator("input.score")
        assert scores.count() == GRADED_CELLS
        wait_for(lambda: all(scores.nth(i).get_attribute("placeholder") for i in range(scores.count())),
                  PAGE_TIMEOUT, "formgrader to show the autograde scores")
        watched.page.locator("button.full-credit").first.click()
        wait_for(lambda: scores.first.input_value() != "", PAGE_TIMEOUT, "Full credit to set a manual score")
    finally:
        context.close()


def test_formgrader_marks_what_tito_flagged_and_shows_why(course, formgrader, browser, shots):
    """The "Flagged?" column of formgrader's gradebook shows tito's flags (nbgrader's own field),
    the first answer's comment box says why, and a course without an exchange gets no banner
    and no configuration errors in the server's log."""
    root, scores = course
    url, token, api, log_path = formgrader
    assert scores["honest"]["score"] == 100 and scores["tamperer"]["score"] == 100, scores  # restored, passes
    assert [f["kind"] for f in scores["syntax"]["flags"]] == ["syntax_error"], scores["syntax"]
    assert [f["kind"] for f in scores["tamperer"]["flags"]] == ["tampered"], scores["tamperer"]
    context = browser.new_context(viewport={"width": 1300, "height": 900},
                                  extra_http_headers={"Authorization": f"token {token}"})
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT * 1000)
        page.goto(f"{url}/formgrader/manage_assignments")
        page.wait_for_load_state("networkidle")
        page.locator("#main-table").get_by_text(MODULE).first.wait_for()
        page.screenshot(path=str(shots / "formgrader-assignments.png"))
        assert page.locator(".alert-warning").count() == 0, page.locator(".alert-warning").all_inner_texts()

        page.goto(f"{url}/formgrader/gradebook/{MODULE}/layers")
        rows = "() => [...document.querySelectorAll('#main-table tr')].map(row => [" \
               "row.querySelector('.name .name-shown') && row.querySelector('.name .name-shown').textContent.trim(), " \
               "!!row.querySelector('.flagged .glyphicon-flag')])"
        shown = wait_for(lambda: dict(page.evaluate(rows)) if len(page.evaluate(rows)) == len(scores) else None,
                         PAGE_TIMEOUT, "formgrader's gradebook table")
        page.screenshot(path=str(shots / "formgrader-flagged.png"))
        assert shown == {student: bool(report["flags"]) for student, report in scores.items()}, shown
        assert shown["syntax"] and shown["tamperer"] and not shown["honest"], shown

        ids = {s["student"]: s["id"] for s in api(f"/formgrader/api/submitted_notebooks/{MODULE}/layers")}
        page.goto(f"{url}/formgrader/submissions/{ids['syntax']}/")
        comment = page.locator("#layer-base-comment")
        why = wait_for(lambda: comment.get_attribute("placeholder") or "", PAGE_TIMEOUT, "the comment box")
        comment.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "formgrader-syntax-comment.png"))
        assert why.startswith("tito flags for review:") and "syntax_error: SyntaxError in your cell 'linear'" in why
    finally:
        context.close()
    log = log_path.read_text()
    assert "Unwritable directory" not in log and "not serializable" not in log, log[-3000:]
