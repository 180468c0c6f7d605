"""The student's real environment: JupyterLab in headless Chromium, driven by Playwright.

Starts JupyterLab on 127.0.0.1 (token, temporary copy of the repository), runs the Layers
notebook as a student gets it, then a solved one, and opens the percent-format source.
Screenshots go to a temporary folder; their paths are printed. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from factory import fresh, solved, write
from helpers import copy_repo

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).exists():
    if os.environ.get("TINYTORCH_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

if os.environ.get("TINYTORCH_REQUIRE_BROWSER"):
    from playwright.sync_api import sync_playwright
else:
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

NOTEBOOK = "modules/03_layers/layers.ipynb"
LAB_SETTINGS = {
    # every cell stays in the page, so that outputs far down can be inspected
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # what binder/postBuild configures: .py files open as notebooks
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "defaultViewers": {"python": "Jupytext Notebook"}},
    # no "get notified about Jupyter news?" pop-up over the screenshots
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}
ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the visible tab only


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(check, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("lab")
    root = copy_repo(base / "repo")
    write(fresh(root), root / NOTEBOOK)
    settings = base / "settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, PYTHONPATH=str(root), TITO_ROOT=str(root), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_CONFIG_DIR=str(base / "config"), MPLBACKEND="module://matplotlib_inline.backend_inline")
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
               "jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (base / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
                return response.status == 200
        except OSError:
            return server.poll() is not None and pytest.fail((base / "lab.log").read_text()[-3000:])

    try:
        _wait_for(ready, 60, "JupyterLab to start")
        shots = base / "screenshots"
        shots.mkdir()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            yield root, url, token, page, shots
            browser.close()
    finally:
        server.terminate()  # stop the server we started, by its own process id
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def _open(page, url: str, token: str, path: str) -> None:
    page.goto(f"{url}/lab/tree/{path}?token={token}")
    name = path.rsplit("/", 1)[-1]
    page.wait_for_selector(f".lm-TabBar-tab.lm-mod-current:has-text('{name}')", timeout=90_000)
    page.wait_for_selector(f"{ACTIVE} .jp-Cell", timeout=90_000)
    page.wait_for_function("() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]"
                           ".some(i => i.getAttribute('data-status') === 'idle')", timeout=90_000)


def _run_all(page) -> None:
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item:visible", has_text="Run All Cells").first.click()
    time.sleep(1)
    page.wait_for_function("() => ![...document.querySelectorAll('.jp-InputPrompt')]"
                           ".some(p => p.textContent.includes('*'))", timeout=180_000)


def _save_and_read(page, path: Path) -> dict:
    before = path.stat().st_mtime_ns
    page.keyboard.press("Control+s")
    _wait_for(lambda: path.stat().st_mtime_ns != before, 30, "the notebook to be saved")
    time.sleep(0.5)
    return json.loads(path.read_text())


def _errors_and_lines(notebook: dict) -> tuple[list[tuple[int, str]], list[str]]:
    errors, lines = [], []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                errors.append((index, output["ename"]))
            elif output["output_type"] == "stream":
                lines += "".join(output["text"]).splitlines()
    return errors, lines


def _shot(page, shots: Path, name: str) -> Path:
    path = shots / name
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path


def test_student_notebook_stops_at_the_stubs(lab):
    root, url, token, page, shots = lab
    _open(page, url, token, NOTEBOOK)
    _run_all(page)
    errors, _ = _errors_and_lines(_save_and_read(page, root / NOTEBOOK))
    assert errors, "the stubs should raise"
    first_cell, first_error = errors[0]
    assert first_error == "NotImplementedError", errors
    assert {name for _, name in errors} == {"NotImplementedError"}, errors
    page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").first \
        .scroll_into_view_if_needed()
    assert "Not implemented yet" in page.locator(ACTIVE).inner_text()
    _shot(page, shots, "1-student-stubs.png")


def test_solved_notebook_passes_every_inline_test_and_plots(lab):
    root, url, token, page, shots = lab
    write(solved(root), root / NOTEBOOK)
    _open(page, url, token, NOTEBOOK)
    page.reload()
    _open(page, url, token, NOTEBOOK)
    _run_all(page)
    errors, lines = _errors_and_lines(_save_and_read(page, root / NOTEBOOK))
    assert errors == []
    passed = [line for line in lines if line.startswith("✅")]
    assert len(passed) == 6, lines
    assert not [line for line in lines if line.startswith("❌")]
    plot = page.locator(f"{ACTIVE} .jp-RenderedImage img").last
    plot.scroll_into_view_if_needed()
    assert plot.is_visible() and plot.bounding_box()["width"] > 200
    shot = _shot(page, shots, "2-solved-throughput-plot.png")
    page.locator(ACTIVE).get_by_text("✅ integration").first.scroll_into_view_if_needed()
    _shot(page, shots, "3-solved-test-lines.png")
    assert shot.stat().st_size > 10_000


def test_percent_source_opens_as_a_notebook(lab):
    _, url, token, page, shots = lab
    _open(page, url, token, "src/03_layers/03_layers.py")
    source = page.locator(ACTIVE)
    assert source.count() == 1
    source.locator("h1", has_text="Module 03: Layers").wait_for(timeout=30_000)
    assert source.locator(".jp-MarkdownCell").count() > 10 and source.locator(".jp-CodeCell").count() > 10
    assert "### BEGIN SOLUTION" in source.inner_text(), "the instructor source shows its solutions"
    _shot(page, shots, "4-percent-source-as-notebook.png")
    keep = os.environ.get("TINYTORCH_SCREENSHOTS")  # a folder to copy the screenshots to
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)
        print(f"screenshots copied to {keep}")
