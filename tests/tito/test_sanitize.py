"""Student outputs and markdown are data: the sanitizer on each payload, ordinary markdown
unchanged, the output size cap, and the Content-Security-Policy of tito's feedback pages."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader import utils

from tito.grading import feedback, sanitize

RAN = "document.body.setAttribute('data-pwned', '1')"
PAYLOADS = {
    "script": f"<script>{RAN}</script>",
    "img onerror": f'<img src=x onerror="{RAN}">',
    "svg onload": f'<svg onload="{RAN}"><circle r="5"/></svg>',
    "javascript: link": f'<a href="javascript:{RAN}">click</a>',
    "iframe": f'<iframe srcdoc="<script>{RAN}</script>"></iframe>',
    "object": '<object data="x.swf"></object>',
    "embed": '<embed src="x.swf">',
    "form": '<form action="http://example.com/steal"><input name="a"></form>',
    "style": '<p style="background: url(http://example.com/track)">styled</p>',
    "meta refresh": '<meta http-equiv="refresh" content="0; url=http://example.com">',
    "base": '<base href="http://example.com/">',
}
DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "form", "svg", "meta", "base", "style", "link"}


def live_markup(html: str) -> list[str]:
    """What in `html` could run or load something: dangerous elements, event handlers,
    styles, `javascript:` URLs (escaped markup is text, and fine)."""
    found = []
    for element in BeautifulSoup(html, "html.parser").find_all(True):
        if element.name in DANGEROUS_TAGS:
            found.append(f"<{element.name}>")
        for name, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            if name.startswith("on") or name == "style" or "javascript:" in value.lower().replace(" ", ""):
                found.append(f"<{element.name} {name}={value!r}>")
    return found


@pytest.mark.parametrize("name", PAYLOADS)
def test_each_payload_is_shown_as_text_or_removed(name):
    assert live_markup(PAYLOADS[name]), "the payload itself should be live markup"
    cleaned = sanitize.clean_html(PAYLOADS[name])
    assert live_markup(cleaned) == [], cleaned


@pytest.mark.parametrize("name", PAYLOADS)
def test_each_payload_in_markdown_is_inert(name):
    html = sanitize.markdown_to_safe_html(f"Some text\n\n{PAYLOADS[name]}\n\nand more")
    assert live_markup(html) == [], html
    assert "Some text" in html and "and more" in html


def test_markdown_link_with_a_javascript_url_loses_its_url():
    html = sanitize.markdown_to_safe_html("[click](javascript:alert(document.domain))")
    assert "<a" in html and "javascript" not in html and "click" in html, html


def _notebook(*cells):
    return new_notebook(cells=list(cells), metadata={"language_info": {"name": "python"}})


def _display(data: dict, kind: str = "display_data"):
    extra = {"execution_count": 1} if kind == "execute_result" else {}
    return new_output(kind, data=data, **extra)


def test_autograde_sanitizer_removes_javascript_and_cleans_html_outputs():
    cell = new_code_cell("display(...)", outputs=[
        _display({"application/javascript": RAN, "text/plain": "<IPython.core.display.Javascript object>"}),
        _display({"text/html": PAYLOADS["script"] + PAYLOADS["img onerror"], "text/plain": "<HTML>"}),
        _display({"text/markdown": PAYLOADS["img onerror"], "text/plain": "md"}),
        _display({"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "w"}),
        _display({"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
        new_output("stream", name="stdout", text="✅ printed <b>as text</b>\n"),
    ])
    nb, _ = sanitize.SanitizeOutputs()(_notebook(cell), {})
    outputs = nb.cells[0].outputs
    assert "application/javascript" not in outputs[0].data
    assert outputs[0].data["text/plain"] == "<IPython.core.display.Javascript object>"
    assert live_markup(outputs[1].data["text/html"]) == [], outputs[1].data["text/html"]
    assert "onerror" not in outputs[2].data["text/markdown"]
    assert "application/vnd.jupyter.widget-view+json" not in outputs[3].data
    assert outputs[4].data["image/png"] == "iVBORw0KGgo="
    assert outputs[5].text == "✅ printed <b>as text</b>\n"  # streams are text: shown escaped, kept as they are


ORDINARY_MARKDOWN = """# Layers and `Linear`

A table:

| layer | parameters |
|-------|-----------:|
| Linear(784, 256) | 200,960 |

Code with a comparison, `x < y`, and a block:

```python
if x < y and y > 0:
    print("fine & dandy")
```

> a quote, **bold**, *italic*, a [link](https://numpy.org) and a plot:

![plot](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==)
"""


def _exporter_markdown(source: str) -> str:
    exporter = HTMLExporter()
    return exporter.markdown2html({"cell": {}, "resources": {}}, source)


def test_ordinary_markdown_renders_as_nbconvert_renders_it():
    plain = _exporter_markdown(ORDINARY_MARKDOWN)
    safe = sanitize.markdown_to_safe_html(ORDINARY_MARKDOWN)
    for piece in ("<table>", "<th", "200,960", "<code>x &lt; y</code>", "&lt;", "<blockquote>",
                  'href="https://numpy.org"', 'src="data:image/png;base64,', "anchor-link", "<h1"):
        assert piece in safe, piece
    # the same markup, written the way bleach writes it: <img ...> for <img ... />, a ; after a style
    assert safe == plain.replace(" />", ">").replace('style="text-align:right"', 'style="text-align:right;"')


def test_ordinary_markdown_cells_are_stored_byte_for_byte():
    cells = [new_markdown_cell(ORDINARY_MARKDOWN), new_markdown_cell("x < y and a > b, in text")]
    nb, _ = sanitize.SanitizeOutputs()(_notebook(*copy.deepcopy(cells)), {})
    assert [c.source for c in nb.cells] == [c.source for c in cells]


def test_markdown_cell_with_raw_html_is_stored_cleaned_and_still_renders():
    source = f"My answer\n\n{PAYLOADS['img onerror']}\n\n{PAYLOADS['script']}\n\n<b>bold</b> stays"
    nb, _ = sanitize.SanitizeOutputs()(_notebook(new_markdown_cell(source)), {})
    stored = nb.cells[0].source
    rendered = _exporter_markdown(stored)  # as any viewer renders it, unsanitized
    assert "onerror" not in rendered and "<script" not in rendered, rendered
    assert "My answer" in rendered and "<b>bold</b> stays" in rendered


def _graded_cell(outputs):
    return new_code_cell("test()", outputs=outputs, metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": "test-x", "points": 10, "schema_version": 3}})


@pytest.mark.parametrize("outputs", [
    [_display({"text/plain": "5", "text/html": PAYLOADS["script"] * 10}, "execute_result")],
    [_display({"application/javascript": RAN, "text/plain": "0.5"}, "execute_result")],
    [new_output("stream", name="stderr", text="x" * 50)],
    [new_output("error", ename="AssertionError", evalue="e" * 50, traceback=["t" * 30] * 3)],
    [new_output("stream", name="stdout", text="✅ fine\n")],
])
def test_neither_step_changes_a_score(outputs):
    for step in (sanitize.SanitizeOutputs(), sanitize.LimitOutputChars(max_chars=20)):
        cell = _graded_cell(copy.deepcopy(outputs))
        before = utils.determine_grade(copy.deepcopy(cell))
        nb, _ = step(_notebook(cell), {})
        assert utils.determine_grade(nb.cells[0]) == before, (type(step).__name__, nb.cells[0].outputs)


def test_each_output_is_cut_at_the_character_limit_with_a_note():
    limit = sanitize.LimitOutputChars(max_chars=1000)
    cell = new_code_cell("print", outputs=[
        new_output("stream", name="stdout", text="x" * 5000),
        _display({"text/plain": "p" * 5000, "text/html": "<b>" + "h" * 5000 + "</b>"}, "execute_result"),
        new_output("error", ename="ValueError", evalue="v" * 5000, traceback=["line " * 100] * 50),
        new_output("stream", name="stdout", text="short\n"),
    ])
    nb, _ = limit(_notebook(cell), {})
    stream, result, note, error, short = nb.cells[0].outputs
    assert len(stream.text) < 1100 and "output cut at 1 kB (5,000 characters in all)" in stream.text
    assert "text/html" not in result.data and len(result.data["text/plain"]) < 1100
    assert note.name == "stdout" and "text/html removed" in note.text
    assert len(error.evalue) < 1100 and error.ename == "ValueError"
    assert sum(map(len, error.traceback)) < 1100 and "output cut at" in error.traceback[-1]
    assert short.text == "short\n"
    assert sanitize.LimitOutputChars().max_chars == 1_000_000


def test_the_default_note_says_1_mb():
    nb, _ = sanitize.LimitOutputChars()(
        _notebook(new_code_cell("", outputs=[new_output("stream", name="stdout", text="#" * 1_500_000)])), {})
    text = nb.cells[0].outputs[0].text
    assert "output cut at 1 MB (1,500,000 characters in all)" in text and len(text) < 1_000_100


def _job(notebook):
    return feedback.FeedbackJob("mallory", nbformat.writes(notebook),
                                {"student": "mallory", "assignment": "03_layers", "notebook": "layers",
                                 "score": 10.0, "max_score": 10.0, "late_penalty": 0.0})


def test_feedback_page_is_sanitized_and_carries_a_content_security_policy():
    notebook = _notebook(
        new_markdown_cell(f"Hello\n\n{PAYLOADS['script']}{PAYLOADS['img onerror']}"),
        new_code_cell("display()", outputs=[_display({"text/html": PAYLOADS["svg onload"], "text/plain": "x"}),
                                            _display({"application/javascript": RAN, "text/plain": "js"})]))
    page = feedback.render({}, _job(notebook))
    assert page.index(feedback.CSP_META) < page.index("<title>")
    body = page[page.index("<body"):]
    assert live_markup(body) == [], live_markup(body)
    assert "Hello" in body


def test_ungradable_page_carries_the_content_security_policy():
    job = feedback.FeedbackJob("bob", None, {"assignment": "03_layers", "notebook": "layers", "max_score": 100},
                               "<script>alert(1)</script>")
    page = feedback.render({}, job)
    assert feedback.CSP_META in page and "<script>" not in page
    for directive in ("script-src 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'none'",
                      "connect-src 'none'", "img-src data:"):
        assert directive in feedback.CSP_META


def test_feedback_keeps_a_test_cells_own_check_line_printed_from_several_source_lines():
    source = ('def test_unit_layer():\n    assert True\n    ### BEGIN HIDDEN TESTS\n    assert 1, "hidden check: one"\n'
              '    ### END HIDDEN TESTS\n    print("✅ Layer: visible checks passed "\n'
              '          "(__call__, parameters).")\ntest_unit_layer()')
    printed = "✅ Layer: visible checks passed (__call__, parameters).\n"
    _, outputs = feedback.redact_hidden_tests(source, [new_output("stream", name="stdout", text="noise\n" + printed)])
    assert outputs[0]["text"] == printed


def _hostile_notebook():
    return _notebook(
        new_markdown_cell(f"Old notes\n\n{PAYLOADS['script']}{PAYLOADS['img onerror']}"),
        new_code_cell("display()", outputs=[
            _display({"text/html": PAYLOADS["svg onload"] + PAYLOADS["iframe"], "text/plain": "x"}),
            _display({"application/javascript": RAN, "text/plain": "js"}),
            _display({"text/markdown": PAYLOADS["img onerror"], "text/plain": "md"})]))


def test_formgrader_exporter_from_nbgrader_config_sanitizes_a_notebook_autograded_before():
    """As formgrader builds it: HTMLExporter(config=...) with the formgrade template, the
    configuration read from the repository's nbgrader_config.py; the notebook is unsanitized."""
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    from tito.course.paths import Paths
    from tito.coursedir.config import load_config

    config = load_config(Paths(Path(__file__).resolve().parents[2]))
    extra = Config()
    extra.HTMLExporter.template_name = "formgrade"
    extra.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    config.merge(extra)
    resources = {"assignment_id": "03_layers", "notebook_id": "layers", "submission_id": "x", "index": 0,
                 "total": 1, "base_url": "", "student": "mallory", "last_name": None, "first_name": None,
                 "notebook_path": "layers.ipynb"}
    page, _ = HTMLExporter(config=config).from_notebook_node(_hostile_notebook(), resources=resources)
    notebook_part = page[page.index('id="notebook-container"'):]
    assert live_markup(notebook_part) == [], live_markup(notebook_part)
    assert "Old notes" in notebook_part
    assert "formgrade.js" in page  # formgrader's own scripts stay


@pytest.mark.slow
def test_output_is_cut_while_the_cell_runs_and_a_stderr_stream_still_counts(tmp_path):
    """A cell that prints 30 MB in pieces keeps at most the budget (the rest never piles up
    in the grader); a stderr line after the flood is kept, so the cell still scores 0."""
    import nbformat
    from nbgrader import utils
    from traitlets.config import Config

    from tito.grading.preprocessors import SandboxedExecute

    (tmp_path / "site" / "tinytorch").mkdir(parents=True)
    config = Config()
    config.TinyTorchSandbox.site = str(tmp_path / "site")
    config.LimitOutputChars.max_chars = 1_000_000
    flood = nbformat.v4.new_code_cell(
        "import sys\nfor _ in range(10):\n    sys.stdout.write('A' * 3_000_000)\n    sys.stdout.flush()\n"
        "print('late', file=sys.stderr)\n")
    flood.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "locked": True, "points": 1, "solution": False,
                                  "schema_version": 3}
    notebook = nbformat.v4.new_notebook(cells=[flood])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    SandboxedExecute(config=config, timeout=60).preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    outputs = notebook.cells[0].outputs
    stdout = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    assert 1_000_000 <= len(stdout) < 1_100_000 and "output cut at 1 MB (30,000,005 characters in all)" in stdout
    assert any(o.output_type == "stream" and o.name == "stderr" for o in outputs)
    assert utils.determine_grade(notebook.cells[0])[0] == 0
