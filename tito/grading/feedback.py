"""Feedback pages: nbgrader's feedback template, without hidden tests' code, with student
content sanitized (tito.grading.sanitize) and a Content-Security-Policy that lets nothing run.

A hidden-test block (`### BEGIN/END HIDDEN TESTS`) is replaced, in the page only, by the
list of its checks, each with its result: passed, failed (with its message), or not
reached. Error outputs of such cells are cut to their message, since a traceback would
quote the hidden line. Rendering is a pure function of plain data, so the coordinator can
fan it out to workers and write the pages itself.
"""

from __future__ import annotations

import ast
import html
import os
import re
import textwrap
from dataclasses import dataclass

import nbformat
from nbconvert import HTMLExporter
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, List, default

from tito.course import markers
from tito.grading.sanitize import EXPORTER_FILTERS, SanitizeOutputs
from tito.inline import RESULT_MARKER

_BEGIN, _END = markers.BEGIN_HIDDEN_TESTS, markers.END_HIDDEN_TESTS
_HIDDEN_PREFIX = "hidden check:"


def _message_template(node: ast.AST | None, source: str) -> str:
    """The constant text of an assertion message (f-string parts shown as …)."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "…" for part in node.values)
    return ast.get_source_segment(source, node) or ""


def hidden_checks(block: str) -> list[str]:
    """The message of each check in a hidden block: asserts and `raise AssertionError(...)`."""
    code = textwrap.dedent(block)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    checks = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            checks.append((node.lineno, _message_template(node.msg, code)))
        elif (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
              and getattr(node.exc.func, "id", "") == "AssertionError"):
            checks.append((node.lineno, _message_template(node.exc.args[0] if node.exc.args else None, code)))
    return [message or f"check {number}" for number, (_, message) in enumerate(sorted(checks), start=1)]


def _failure_text(outputs: list) -> str:
    return " ".join(f"{o.get('ename', '')}: {o.get('evalue', '')} {' '.join(o.get('traceback', []))}"
                    for o in outputs if o.get("output_type") == "error")


def _matches(template: str, failure: str) -> bool:
    """Does the failure message come from this check's message template?"""
    pieces = [piece.strip() for piece in template.split("…") if piece.strip()]
    return bool(pieces) and all(piece in failure for piece in pieces)


def redact_hidden_tests(source: str, outputs: list) -> tuple[str, list]:
    """The cell's source with each hidden block replaced by its checks' results, and its
    outputs with error tracebacks cut to one line."""
    failure = _failure_text(outputs)
    hidden_failed = _HIDDEN_PREFIX in failure
    lines, result, block, indent = source.splitlines(), [], None, ""
    for line in lines:
        if line.strip() == _BEGIN:
            block, indent = [], line[: len(line) - len(line.lstrip())]
            continue
        if line.strip() == _END and block is not None:
            result += _summary(hidden_checks("\n".join(block)), failure, hidden_failed, bool(failure), indent)
            block = None
            continue
        (block if block is not None else result).append(line)
    hidden = _shingles(_hidden_lines(lines))
    own = {line.strip() for line in _PRINTED.findall(source)}  # the cell's own ✅ lines (their first part)
    shown = [_scrubbed(_one_line(output), hidden, own) for output in outputs
             if output.get("output_type") in ("stream", "error")]  # a test cell displays nothing else
    return "\n".join(result), shown


_PRINTED = re.compile(r"""print\(\s*f?["'](✅[^"']*)["']""")
_SHINGLE = 20
_LIMIT = 200  # characters of a failure message shown: student values in it cannot carry much


def _hidden_lines(lines: list[str]) -> set[str]:
    return {line for kind, line in markers.blocks(lines) if kind == markers.HIDDEN_TESTS and line}


_STRING = re.compile(r"""[rfb]*("[^"]*"|'[^']*')""")


def _shingles(lines: set[str]) -> set[str]:
    """Every 20-character piece of the hidden lines' code (their messages are shown anyway)."""
    pieces = set()
    for line in lines:
        for code in _STRING.split(line)[::2]:
            code = code.strip()
            pieces.update(code[i:i + _SHINGLE] for i in range(max(1, len(code) - _SHINGLE + 1)) if len(code) >= 8)
    return pieces


def _leaks(text: str, hidden: set[str]) -> bool:
    return any(text[i:i + _SHINGLE] in hidden for i in range(max(1, len(text) - _SHINGLE + 1)))


def _scrubbed(output: dict, hidden: set[str], own: set[str]) -> dict:
    """Student code can print the cell it runs in (IPython keeps it in `In`): what a test cell
    shows is its own ✅ line and its failure, cut short, and nothing with hidden code in it."""
    def clean(line: str) -> str:
        return _REMOVED if _leaks(line, hidden) else line[:_LIMIT]

    output = NotebookNode(dict(output))
    if output.get("output_type") == "stream":
        kept = [line for line in "".join(output.get("text", "")).split("\n")  # a print may span source lines
                if line.strip().startswith(tuple(own)) or line.startswith(RESULT_MARKER)]
        output["text"] = "".join(clean(line) + "\n" for line in kept)
    else:
        output["evalue"] = clean(output.get("evalue", ""))
        output["traceback"] = [clean(line) for line in output.get("traceback", [])]
    return output


def _summary(checks: list[str], failure: str, hidden_failed: bool, cell_failed: bool, indent: str) -> list[str]:
    lines = [f"{indent}# Hidden checks, run by the grader (their code is not shown):"]
    state = "passed" if not cell_failed else ("passed" if hidden_failed else "not reached")
    for check in checks:
        if state == "passed" and hidden_failed and _matches(check, failure):
            lines.append(f"{indent}#   {RESULT_MARKER} {check}   <- failed")
            state = "not reached"
            continue
        mark = {"passed": "✅", "not reached": "·"}[state]
        lines.append(f"{indent}#   {mark} {check}" + ("   (not reached)" if state == "not reached" else ""))
    return lines


def _one_line(output: dict) -> dict:
    if output.get("output_type") != "error":
        return output
    shown = [line for line in output.get("traceback", []) if line.startswith(RESULT_MARKER)]
    output = dict(output)
    output["traceback"] = shown[-1:] or [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
    return NotebookNode(output)


class FeedbackSummary(NbGraderPreprocessor):
    """Feedback, just before HideHiddenTests: each graded cell's result for the page's summary
    (`resources["tito_summary"]`) and its heading (`cell.metadata.tito_feedback`). The reason
    is the terminal table's (the report autograde stored, root cause included: "NameError …,
    because of an earlier problem: SyntaxError in your cell 'linear', line 11"), else the
    cell's own error; cut short, and never quoting the hidden checks' code. tito's review
    flags, which autograde puts in a comment for formgrader, are left out of the page."""

    display_data_priority = List(NbGraderPreprocessor.display_data_priority.default_value).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        names = resources.setdefault("nbgrader", {})
        reasons = names.get("reasons")
        if reasons is None:
            reasons = _stored_reasons(self.config, names)
        hidden = hidden_code(nb)  # code in any cell can quote them all
        summary = []
        for cell in nb.cells:
            cell.metadata.pop("tito_feedback", None)  # only this step writes it, never a notebook
            meta = cell.metadata.get("nbgrader", {})
            _drop_review_flags(meta)
            if not (meta.get("grade") and meta.get("grade_id")):
                continue
            score, points = float(meta.get("score") or 0), float(meta.get("points") or 0)
            passed = score >= points
            entry = {"grade_id": meta["grade_id"], "score": score, "points": points, "passed": passed,
                     "reason": "" if passed else _shown_reason(cell, reasons.get(meta["grade_id"], ""), hidden)}
            cell.metadata["tito_feedback"] = entry
            summary.append(entry)
        resources["tito_summary"] = summary
        return nb, resources


def _stored_reasons(config, names: dict) -> dict[str, str]:
    """grade_id -> reason, from the report autograde stored beside the autograded notebook."""
    import json

    from tito.coursedir.config import CoursePaths
    from tito.grading.report import GradeReport

    if not names.get("student") or not names.get("assignment"):
        return {}
    try:
        path = CoursePaths.of(config).report(names["student"], names["assignment"])
        report = GradeReport.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {cell.grade_id: cell.reason for cell in report.cells}


def _shown_reason(cell: NotebookNode, stored: str, hidden: set[str]) -> str:
    from tito.grading import verdict

    text = verdict.first_line(stored or verdict.reason(cell, verdict.RootCauses()))
    if _leaks(text, hidden):
        return "this cell failed [its message is not shown: it quotes the hidden checks]"
    return text if len(text) <= _REASON_LIMIT else text[:_REASON_LIMIT - 1] + "…"


_REASON_LIMIT = 300


def _drop_review_flags(meta: dict) -> None:
    from tito.grading.report import REVIEW_HEADING

    comment = meta.get("comment")
    if isinstance(comment, str) and REVIEW_HEADING in comment:
        meta["comment"] = comment.split(REVIEW_HEADING)[0].strip() or None


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback: replace each `### BEGIN/END HIDDEN TESTS` block by the list of its checks
    and their results, and shorten error outputs of those cells to one line, so a student
    sees what was checked and what failed but not the hidden code (nbgrader #917, #1363).
    `c.HideHiddenTests.show_source = True` shows the source as nbgrader would."""

    show_source = Bool(False, help="Show hidden tests' source in feedback").tag(config=True)
    # nbconvert's HTMLExporter configures NbConvertBase.display_data_priority; nbgrader's base
    # class redeclares it without config=True (traitlets then warns "not recognized"): declared
    # configurable here, as nbgrader's own GetGrades does.
    display_data_priority = List(NbGraderPreprocessor.display_data_priority.default_value).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        # any later cell can print a test cell's source (IPython keeps it in `In`)
        self._hidden = hidden_code(nb)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if self.show_source or cell.cell_type != "code":
            return cell, resources
        if markers.has_hidden_tests(cell.source):
            cell.source, cell.outputs = redact_hidden_tests(cell.source, cell.get("outputs", []))
        elif self._hidden:
            cell.outputs = [_without_hidden_code(output, self._hidden) for output in cell.get("outputs", [])]
        return cell, resources


def hidden_code(nb: NotebookNode) -> set[str]:
    """The hidden checks' code of every code cell of `nb`, as the pieces `_leaks` looks for."""
    return _shingles(set().union(*(_hidden_lines(c.source.splitlines()) for c in nb.cells if c.cell_type == "code")))


def _without_hidden_code(output: dict, hidden: set[str]) -> dict:
    """An output of a cell without hidden tests, each line that quotes the hidden checks' code removed."""
    def clean(text) -> str:
        text = "".join(text) if isinstance(text, list) else str(text)
        return "\n".join(_REMOVED if _leaks(line, hidden) else line for line in text.split("\n"))

    output = NotebookNode(dict(output))
    if "text" in output:
        output["text"] = clean(output["text"])
    if "evalue" in output:
        output["evalue"] = clean(output["evalue"])
    if "traceback" in output:
        output["traceback"] = [clean(line) for line in output["traceback"]]
    if isinstance(output.get("data"), dict):
        output["data"] = {kind: clean(value) if kind.startswith("text/") else value  # images cannot quote code
                          for kind, value in output["data"].items()}
    return output


_REMOVED = "[removed: it quotes the hidden checks]"


# -- pages ------------------------------------------------------------------------------------------
@dataclass
class FeedbackJob:
    """What one feedback page needs (picklable): the autograded notebook with nbgrader's
    grades already attached (as GetGrades does), or the reason there is none."""

    student: str
    notebook: str | None  # nbformat JSON, cells carrying metadata.nbgrader score/points/comment
    resources: dict  # nbgrader's {"score", "max_score", "late_penalty"} and names
    reason: str = ""  # why the submission could not be graded


# A second wall behind the sanitizer: no script at all (nbgrader's feedback template has
# none of its own but MathJax's, so formulas show as TeX), no plugin, no form, no network,
# images only from data: URLs. Inline styles stay: the template inlines its CSS.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
                           "form-action 'none'; connect-src 'none'; frame-src 'none'; img-src data:; "
                           "font-src data:; style-src 'unsafe-inline'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'


def with_content_security_policy(page: str) -> str:
    """`page` with the policy first in its <head> (a policy only covers what follows it)."""
    head = page.find("<head>")
    if head < 0:
        raise ValueError("the feedback page has no <head>")
    at = head + len("<head>")
    return page[:at] + "\n" + CSP_META + page[at:]


TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates", "feedback")  # the reasons first


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback page with tito's template over it (TEMPLATES): the exporter of tito's
    feedback step, and of nbgrader's own (nbgrader_config.py sets GenerateFeedback.exporter_class).
    Everything else is HTMLExporter's configuration (nbgrader's 'feedback' template, sanitizing)."""

    @default("template_file")
    def _tito_template_file(self) -> str:
        return "tito_feedback.html.j2"

    @default("extra_loaders")
    def _tito_loader(self) -> list:
        import jinja2

        return [jinja2.FileSystemLoader(TEMPLATES)]


def exporter_config(config):
    """nbgrader's GenerateFeedback settings for its HTML exporter (the 'feedback' template),
    with sanitizing on whatever the configuration says (tito.grading.sanitize.EXPORTER_FILTERS)."""
    import nbgrader
    from traitlets.config import Config

    base = os.path.dirname(nbgrader.__file__)
    extra = Config()
    extra.HTMLExporter.template_name = "feedback"
    extra.HTMLExporter.extra_template_basedirs = [os.path.join(base, "server_extensions", "formgrader", "templates")]
    extra.HTMLExporter.extra_template_paths = [
        os.path.join(base, "server_extensions", "formgrader", "static", "node_modules", "bootstrap", "dist", "css")]
    extra.HTMLExporter.sanitize_html = True
    extra.HTMLExporter.filters = dict(EXPORTER_FILTERS)
    merged = Config(config)
    merged.merge(extra)
    return merged


def render(config: dict, job: FeedbackJob) -> str:
    """The HTML feedback page of one submission."""
    if job.notebook is None:
        return _ungradable_page(job)
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from traitlets.config import Config

    settings = exporter_config(Config(config))
    exporter = FeedbackExporter(config=settings)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor(config=settings), enabled=True)
    exporter.register_preprocessor(SanitizeOutputs(config=settings), enabled=True)  # notebooks autograded before
    exporter.register_preprocessor(FeedbackSummary(config=settings), enabled=True)
    exporter.register_preprocessor(HideHiddenTests(config=settings), enabled=True)
    body, _ = exporter.from_notebook_node(nbformat.reads(job.notebook, as_version=4),
                                          resources={"nbgrader": dict(job.resources)})
    return with_content_security_policy(body)


def _ungradable_page(job: FeedbackJob) -> str:
    title = f"Feedback: {job.resources.get('assignment', '')} ({job.student})"
    return (
        f"<!DOCTYPE html>\n<html><head>{CSP_META}<meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>\n"
        "<body style=\"font-family: sans-serif; max-width: 50em; margin: 2em auto\">\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f"<p><strong>Score: 0 / {job.resources.get('max_score', 0):g}</strong></p>\n"
        "<p>Your submission could not be graded:</p>\n"
        f"<blockquote>{html.escape(job.reason)}</blockquote>\n"
        "<p>Nothing in it was run. Check that you submitted the course notebook "
        f"(<code>{html.escape(job.resources.get('notebook', ''))}.ipynb</code>) as a valid Jupyter "
        "notebook, and ask your instructor if you think this is wrong.</p>\n</body></html>\n"
    )


_TAG = re.compile(r"<[^>]+>")


def page_text(page: str) -> str:
    """The visible text of a page (for tests and quick checks)."""
    return html.unescape(_TAG.sub(" ", page))
