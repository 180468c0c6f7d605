"""The student's real environment: the student edition in JupyterLab, in headless Chromium.

The edition is released from a throw-away git copy of this repository (`tito release
student`), and its workspace is made as Binder's postBuild makes it (`tito module start
--all --no-lab`). The student has done modules 01 and 02 with their own code (`tito module
complete`), so that Module 03's notebook imports their Tensor and activations. JupyterLab
is served from the edition folder with nbgrader's instructor tools switched off, as the
edition's binder/postBuild does (here through a throw-away Jupyter config folder: the
shared environment's configuration is never touched), and opened through the Binder link
path of Module 03.

Every wait is bounded and waits on the notebook's own state (prompts, kernel status, the
saved file), never on a fixed delay. Screenshots go to a temporary folder (their paths are
printed; TINYTORCH_SCREENSHOTS names a folder to copy them to).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from factory import solved, write
from helpers import CHROMIUM, commit_all, copy_repo, free_port, playwright_or_skip, run_tito, tito_env, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
sync_playwright = playwright_or_skip()

NOTEBOOK = "modules/03_layers/layers.ipynb"
MODULE_FOLDERS = ["01_tensor", "02_activations", "03_layers"]
DONE_BEFORE = {"01_tensor": "tensor.ipynb", "02_activations": "activations.ipynb"}
LAB_SETTINGS = {
    # every cell stays in the page, so that prompts and outputs far down can be inspected
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no "get notified about Jupyter news?" pop-up over the screenshots
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}
# What the edition's binder/postBuild switches off: `jupyter labextension disable` of these
# plugins and `jupyter server extension disable` of these server extensions.
DISABLED_LAB_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                        "@jupyter/nbgrader:course-list"]
DISABLED_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"]
ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the visible tab only
# Bounds of the waits (generous: the machine may be busy with other test suites).
START_TIMEOUT = 120
OPEN_TIMEOUT = 120
RUN_TIMEOUT = 300
SAVE_TIMEOUT = 60






@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> tuple[Path, Path]:
    """(instructor repository, student edition with the student's workspace)."""
    base = tmp_path_factory.mktemp("edition")
    instructor = copy_repo(base / "instructor")
    commit_all(instructor)
    target = base / "tinytorch-student"
    run_tito(instructor, "release", "student", "--to", str(target), check=True)
    env = tito_env(target) | {"TINYTORCH_CELL_TIMEOUT": "120"}  # a busy machine must not fail a cell
    run_tito(target, "module", "start", "--all", "--no-lab", env=env, check=True)  # as binder/postBuild does
    for folder in MODULE_FOLDERS:
        assert (target / "modules" / folder).is_dir(), f"module start --all made no modules/{folder}"
    for slug, name in DONE_BEFORE.items():  # the student did modules 01 and 02 first
        write(solved(instructor, slug, marker=f"the student's own {slug}"), target / "modules" / slug / name)
        run_tito(target, "module", "complete", slug, env=env, check=True)
    return instructor, target


@pytest.fixture(scope="module")
def lab(edition, tmp_path_factory):
    """JupyterLab serving the edition folder, and a headless Chromium."""
    _, root = edition
    base = tmp_path_factory.mktemp("lab")
    settings = base / "settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    config = base / "config"  # JUPYTER_CONFIG_DIR: the user level, read before the environment's own
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig/page_config.json").write_text(
        json.dumps({"disabledExtensions": {plugin: True for plugin in DISABLED_LAB_PLUGINS}}))
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {name: False for name in DISABLED_SERVER_EXTENSIONS}}}))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(tito_env(root), JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTER_CONFIG_DIR=str(config),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.port_retries=0",  # a taken port fails clearly, never another port silently
               "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
               "jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = base / "lab.log"
    log = log_path.open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as response:
                return response.status == 200
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
            return False

    shots = base / "screenshots"
    shots.mkdir()
    try:
        wait_for(ready, START_TIMEOUT, "JupyterLab to start")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            yield Lab(root, url, token, browser, shots, log_path)
            browser.close()
    finally:
        server.terminate()  # stop the server we started, by its own process id
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
        keep = os.environ.get("TINYTORCH_SCREENSHOTS")  # a folder to copy the screenshots to
        if keep:
            shutil.copytree(shots, keep, dirs_exist_ok=True)
            print(f"screenshots copied to {keep}")


class Lab:
    def __init__(self, root: Path, url: str, token: str, browser, shots: Path, log: Path):
        self.root, self.url, self.token, self.browser, self.shots, self.log = root, url, token, browser, shots, log

    def api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            return json.loads(body) if body else None

    def status_of(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"{self.url}{path}?token={self.token}", timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def shut_down_kernels(self) -> None:
        """End every session (and its kernel), so that the next test starts a fresh kernel."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        wait_for(lambda: self.api("GET", "/api/kernels") == [], 60, "the kernels to shut down")


@pytest.fixture
def page(lab):
    """A fresh browser context per test; its kernels are shut down afterwards."""
    context = lab.browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(OPEN_TIMEOUT * 1000)
    try:
        yield page
    finally:
        context.close()
        lab.shut_down_kernels()


# -- what the page shows ------------------------------------------------------------------------------
_STATE = """([active, name]) => {
    const panel = document.querySelector(active);
    if (!panel) return null;
    const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
    const kernel = document.querySelector(`.jp-StatusBar-TextItem[title="Change kernel for ${name}"]`);
    return {indicator: indicator ? indicator.getAttribute('data-status') : null,
            kernel: kernel ? kernel.textContent.trim() : null,
            prompts: [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                .map(prompt => prompt.textContent.trim())};
}"""
_PROMPT = re.compile(r"^\[(\d+|\*| ?)\]:?$")
# The status bar names the notebook's kernel and its state ("Python 3 (ipykernel) | Idle").
# The toolbar's execution indicator alone is not enough: it says "idle" before the kernel
# exists ("No Kernel | Initializing"), and Run All then would have no kernel to run in.
_KERNEL_IDLE = re.compile(r"^(?!No Kernel).+ \| Idle$")


def _notebook_state(page, name: str = NOTEBOOK.rsplit("/", 1)[-1]) -> dict | None:
    """The active notebook's kernel state and code prompts: each an execution count (int),
    '*' (queued or running) or None (never run). `idle`: it has a kernel, and it is idle."""
    state = page.evaluate(_STATE, [ACTIVE, name])
    if state is None:
        return None
    counts = []
    for prompt in state["prompts"]:
        match = _PROMPT.match(prompt)
        assert match, f"unexpected input prompt {prompt!r}"
        value = match.group(1).strip()
        counts.append(int(value) if value.isdigit() else (value or None))
    idle = state["indicator"] == "idle" and bool(_KERNEL_IDLE.match(state["kernel"] or ""))
    return {"kernel": state["kernel"], "idle": idle, "counts": counts}


def _describe(state: dict | None) -> str:
    if state is None:
        return "no notebook is shown"
    prompts = " ".join("[ ]" if c is None else f"[{c}]" for c in state["counts"])
    return f"kernel {state['kernel']!r}, prompts {prompts}"


def _open(page, lab: Lab, path: str) -> None:
    """Open a notebook through its link (the form of Binder's ?labpath=), wait for its kernel."""
    page.goto(f"{lab.url}/lab/tree/{path}?token={lab.token}")
    name = path.rsplit("/", 1)[-1]
    page.wait_for_selector(f".lm-TabBar-tab.lm-mod-current:has-text('{name}')", timeout=OPEN_TIMEOUT * 1000)
    page.wait_for_selector(f"{ACTIVE} .jp-CodeCell .jp-InputArea-prompt", timeout=OPEN_TIMEOUT * 1000)
    wait_for(lambda: (_notebook_state(page, name) or {}).get("idle"), OPEN_TIMEOUT,
              lambda: f"the kernel of {path} to be ready ({_describe(_notebook_state(page, name))})")


def _finished(state: dict | None) -> bool:
    """Run All is over: the kernel is idle, nothing is queued or running, the first code cell
    ran, and the cells that ran are a prefix of the notebook (JupyterLab stops at an error
    and resets the prompts of the cells it did not run)."""
    if not state or not state["idle"] or "*" in state["counts"] or state["counts"][0] is None:
        return False
    ran = [c is not None for c in state["counts"]]
    return ran == sorted(ran, reverse=True)


def _run_all(page) -> dict:
    """Run All Cells of a notebook that has not run yet; wait until its execution is over."""
    before = _notebook_state(page)
    assert before and before["counts"] and all(c is None for c in before["counts"]), \
        f"the notebook should not have run yet: {_describe(before)}"
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    item = page.locator(".lm-Menu-item:visible", has_text="Run All Cells").first
    item.wait_for(timeout=30_000)
    assert "lm-mod-disabled" not in (item.get_attribute("class") or ""), "Run All Cells is disabled"
    item.click()
    state = wait_for(lambda: (lambda s: _finished(s) and s)(_notebook_state(page)), RUN_TIMEOUT,
                      lambda: f"Run All Cells to finish ({_describe(_notebook_state(page))})")
    counts = [c for c in state["counts"] if c is not None]
    assert counts == sorted(set(counts)), f"the cells ran out of order: {_describe(state)}"
    return state


def _save_and_read(page, path: Path, state: dict) -> dict:
    """Save with the notebook's toolbar button; wait until the file holds the execution
    counts the page shows."""
    page.locator(f"{ACTIVE} .jp-Toolbar-item[data-jp-item-name='save'] button, "
                 f"{ACTIVE} .jp-Toolbar-item[data-jp-item-name='save'] jp-button").first.click()

    def saved():
        try:
            notebook = json.loads(path.read_text())
        except (OSError, ValueError):  # the server replaces the file atomically; be safe anyway
            return None
        counts = [c.get("execution_count") for c in notebook["cells"] if c["cell_type"] == "code"]
        return notebook if counts == state["counts"] else None

    return wait_for(saved, SAVE_TIMEOUT, lambda: f"{path.name} to be saved with the counts {state['counts']}")


def _errors_and_lines(notebook: dict) -> tuple[list[tuple[int, str]], list[str]]:
    errors, lines = [], []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                errors.append((index, output["ename"]))
            elif output["output_type"] == "stream":
                lines += "".join(output["text"]).splitlines()
    return errors, lines


def _shot(page, lab: Lab, name: str) -> Path:
    path = lab.shots / name
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path


# -- the tests --------------------------------------------------------------------------------------------
def test_the_binder_link_opens_module_03_among_every_module_without_instructor_tools(lab, page):
    _open(page, lab, NOTEBOOK)
    # the file browser follows the link into modules/03_layers; one level up are all modules
    crumbs = page.locator(".jp-FileBrowser-crumbs .jp-BreadCrumbs-item")
    wait_for(lambda: "03_layers" in crumbs.all_inner_texts(), OPEN_TIMEOUT,
              lambda: f"the file browser to follow the link into modules/03_layers (at {crumbs.all_inner_texts()})")
    listed = lambda: page.locator(".jp-FileBrowser .jp-DirListing-itemText").all_inner_texts()  # noqa: E731

    def modules_listed():
        if crumbs.all_inner_texts() != ["modules"]:  # (again, should anything move the browser back)
            crumbs.filter(has_text="modules").first.click()
        return crumbs.all_inner_texts() == ["modules"] and set(MODULE_FOLDERS) <= set(listed())

    wait_for(modules_listed, 60, lambda: f"the file browser to list {MODULE_FOLDERS} in modules/ "
                                          f"(it is at {crumbs.all_inner_texts()} and lists {listed()})", interval=0.5)
    _shot(page, lab, "1-binder-link-module-folders.png")

    # nbgrader's instructor tools are off: configured, and neither offered nor served
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    assert set(DISABLED_LAB_PLUGINS) <= set(config.get("disabledExtensions", [])), config.get("disabledExtensions")
    assert page.locator("#nbgrader-create_assignemnt").count() == 0, "the Create Assignment panel is offered"
    sidebar = page.evaluate("() => [...document.querySelectorAll('.jp-SideBar .lm-TabBar-tab')]"
                            ".map(tab => tab.getAttribute('title') || '')")
    assert sidebar and not [title for title in sidebar if "Create Assignment" in title], sidebar
    menu = page.locator(".lm-MenuBar-item", has_text="Nbgrader")
    if menu.count():  # the students' own nbgrader tools (assignment list, validate) stay
        menu.first.click()
        items = page.locator(".lm-Menu:visible .lm-Menu-itemLabel").all_inner_texts()
        page.keyboard.press("Escape")
        assert not {"Formgrader", "Formgrader (local)", "Course List", "Create assignment"} & set(items), items
    for path in ("/formgrader", "/formgrader/api/status", "/formgraders"):  # formgrader, course_list
        assert lab.status_of(path) == 404, f"{path} is served"


def test_student_notebook_stops_at_the_stubs(lab, page):
    _open(page, lab, NOTEBOOK)
    state = _run_all(page)
    notebook = _save_and_read(page, lab.root / NOTEBOOK, state)
    errors, _ = _errors_and_lines(notebook)
    assert errors, f"the stubs should raise ({_describe(state)})"
    first_cell, first_error = errors[0]
    assert first_error == "NotImplementedError", errors
    assert {name for _, name in errors} == {"NotImplementedError"}, errors
    code = [index for index, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"]
    last_run = max(index for index in code if notebook["cells"][index]["execution_count"] is not None)
    assert last_run == first_cell, "JupyterLab stops running at the first error"
    page.locator(f"{ACTIVE} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").first \
        .scroll_into_view_if_needed()
    assert "Not implemented yet" in page.locator(ACTIVE).inner_text()
    _shot(page, lab, "2-student-stubs.png")


def test_solved_notebook_passes_every_inline_test_and_plots(edition, lab, page):
    instructor, _ = edition
    notebook = solved(instructor)
    write(notebook, lab.root / NOTEBOOK)  # no page shows it and no kernel runs (previous test's teardown)
    graded = [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
              if cell.metadata.get("nbgrader", {}).get("grade")]
    _open(page, lab, NOTEBOOK)
    state = _run_all(page)
    assert None not in state["counts"], f"every code cell should run: {_describe(state)}"
    saved = _save_and_read(page, lab.root / NOTEBOOK, state)
    errors, lines = _errors_and_lines(saved)
    assert errors == []
    passed = [line for line in lines if line.startswith("✅")]
    assert len(passed) == len(graded), (graded, lines)
    assert not [line for line in lines if line.startswith("❌")], lines
    plot = page.locator(f"{ACTIVE} .jp-RenderedImage img").last
    plot.scroll_into_view_if_needed()
    plot.wait_for(state="visible", timeout=60_000)
    assert plot.bounding_box()["width"] > 200
    shot = _shot(page, lab, "3-solved-throughput-plot.png")
    page.locator(ACTIVE).get_by_text("✅ integration").first.scroll_into_view_if_needed()
    _shot(page, lab, "4-solved-test-lines.png")
    assert shot.stat().st_size > 10_000
