"""Student outputs and markdown are data, never code, wherever a page shows them.

One bleach allow-list (the library nbconvert itself sanitizes with) serves every viewer:

- autograde stores sanitized notebooks (`SanitizeOutputs`, in tito.grading.pipeline):
  no JavaScript or widget outputs, cleaned HTML and markdown outputs, and markdown cells whose raw
  HTML is replaced by its cleaned rendering;
- nbconvert pages (formgrader, nbgrader's and tito's feedback) sanitize again when they render,
  so notebooks autograded before this existed are safe too: nbgrader_config.py turns on
  `HTMLExporter.sanitize_html` and swaps in the filters below for nbconvert's `clean_html`
  (whose allow-list has no headings, paragraphs or table headers) and `markdown2html` (which
  nbgrader's templates use without any cleaning);
- tito's feedback pages also carry a Content-Security-Policy (`with_content_security_policy`).

`LimitOutputChars` cuts each output at a number of characters (nbgrader's LimitOutput counts
lines only: one line of 100 MB passes it).
"""

from __future__ import annotations

import json
import re

import bleach
import jinja2
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from pygments.token import STANDARD_TYPES
from traitlets import Bool, Integer, Set

# What a notebook's markdown and ordinary HTML outputs use: text structure, tables, code,
# images, links. No script, style, form, iframe, object, embed, svg or math element.
ALLOWED_TAGS = frozenset(bleach.ALLOWED_TAGS | {
    "p", "div", "span", "br", "hr", "pre", "kbd", "samp", "var", "sub", "sup", "del", "ins", "s", "u", "small",
    "mark", "q", "cite", "dfn", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd", "details", "summary",
    "figure", "figcaption", "img", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th",
    "td", "center",
})
_COMMON_ATTRIBUTES = {"class", "id", "title", "align", "lang", "dir"}
_TAG_ATTRIBUTES = {
    "a": {"href", "name", "target", "rel"},
    "img": {"src", "alt", "width", "height"},
    "th": {"colspan", "rowspan", "scope", "style"},  # style: a markdown table's column alignment
    "td": {"colspan", "rowspan", "style"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
    "table": {"border"},
    "details": {"open"},
}
# Links may go to the web, a mail address or a place in the page; images only from data:
# (a page shown to a student or an instructor loads nothing from elsewhere).
_LINK = re.compile(r"^(https?:|mailto:|#)", re.IGNORECASE)
_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,", re.IGNORECASE)
PROTOCOLS = frozenset({"http", "https", "mailto", "data"})
# Outputs that no browser executes: kept as they are. Everything else but HTML and markdown
# (cleaned) is dropped: application/javascript, widget views, PDFs, unknown types. SVG is kept:
# nbconvert and JupyterLab show it as an <img> (data: URL), where SVG scripts never run.
SAFE_OUTPUT_TYPES = frozenset({"metadata", "text/plain", "text/latex", "application/json", "image/png",
                               "image/jpeg", "image/gif", "image/svg+xml"})


# Classes the page's own stylesheets give no layout to: those that rendering itself writes
# (nbconvert's code highlighting and heading anchors, pandas tables). Any other class would
# lend student HTML the page's CSS: Bootstrap's `modal show` and `modal-backdrop` cover the
# whole page with the student's own "Score: 100 / 100", tito's and nbgrader's panels look
# like a passed grade cell.
_RENDERING_CLASSES = frozenset(STANDARD_TYPES.values()) | {"highlight", "anchor-link", "dataframe", "math"}
# Anchors the pages' own links go to (tito_feedback.html.j2): student HTML cannot take them
# over (the first element with an id wins a link).
RESERVED_ANCHOR_PREFIX = "tito-"


def _allowed_class(value: str) -> bool:
    return all(token in _RENDERING_CLASSES or token.startswith("hl-") for token in value.split())


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name == "href":
        return bool(_LINK.match(value.strip()))
    if name == "src":
        return tag == "img" and bool(_IMAGE.match(value.strip()))
    if name == "class":
        return _allowed_class(value)
    if name in ("id", "name") and value.strip().lower().startswith(RESERVED_ANCHOR_PREFIX):
        return False
    return name in _COMMON_ATTRIBUTES or name in _TAG_ATTRIBUTES.get(tag, ())


_CLEANER = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=_allowed_attribute, protocols=PROTOCOLS, strip=False,
                          strip_comments=True, css_sanitizer=CSSSanitizer(allowed_css_properties={"text-align"}))


def clean_html(html: str | bytes) -> str:
    """`html` with only the allowed tags and attributes: any other tag is shown as text
    (escaped), event handlers, styles and `javascript:` URLs are removed."""
    return _CLEANER.clean(html.decode("utf-8") if isinstance(html, bytes) else str(html))


def markdown_to_html(source: str, attachments: dict | None = None, path: str = "") -> str:
    """Markdown rendered as nbconvert's HTMLExporter renders it (mistune, with math), unsanitized."""
    renderer = IPythonRenderer(escape=False, attachments=attachments or {}, path=path)
    return MarkdownWithMath(renderer=renderer).render(source)


def markdown_to_safe_html(source: str, attachments: dict | None = None, path: str = "") -> str:
    return clean_html(markdown_to_html(source, attachments, path))


@jinja2.pass_context
def markdown2html(context, source: str) -> str:
    """nbconvert's `markdown2html` template filter, cleaned: nbgrader's feedback and formgrade
    templates render markdown cells with it and no `clean_html` after it. Configured as
    `c.HTMLExporter.filters` in nbgrader_config.py."""
    cell = context.get("cell", {}) or {}
    path = context.get("resources", {}).get("metadata", {}).get("path", "")
    return markdown_to_safe_html(source, cell.get("attachments", {}), path)


def has_raw_html(source: str) -> bool:
    """Does this markdown hold raw HTML (mistune's own parse: not `<` in code or text)?"""
    tokens = MarkdownWithMath(renderer=None).parse(source)[0]
    return _any_html(tokens)


def _any_html(tokens: list) -> bool:
    for token in tokens:
        if token.get("type") in ("block_html", "inline_html") or _any_html(token.get("children", []) or []):
            return True
    return False


def as_markdown_source(html: str) -> str:
    """Cleaned HTML as a markdown cell's source that renders as that HTML: a blank line would
    end markdown's HTML block, so blank lines are dropped."""
    return "\n".join(line for line in html.splitlines() if line.strip())


# nbconvert template filters, by name, for `c.HTMLExporter.filters` (nbgrader_config.py and tito's
# feedback pages): nbconvert's own `clean_html` (applied with HTMLExporter.sanitize_html) has no
# headings, paragraphs or table headers in its allow-list.
EXPORTER_FILTERS = {"clean_html": "tito.grading.sanitize.clean_html",
                    "markdown2html": "tito.grading.sanitize.markdown2html"}


class SanitizeOutputs(SanitizeHTML):
    """nbconvert's SanitizeHTML for autograde, with tito's allow-list. Code outputs: only
    `SAFE_OUTPUT_TYPES` are kept as they are, HTML and markdown are cleaned, the rest is dropped
    (stream and error outputs are text and stay). Markdown cells without raw HTML keep their
    source byte for byte (bleach on markdown text would escape `x < y` in code and `>` quotes);
    one with raw HTML gets its cleaned rendering as source. Scores do not change: nbgrader reads
    output types, stderr streams and text/plain, which this keeps."""

    safe_output_keys = Set(SAFE_OUTPUT_TYPES, help="Output types kept as they are").tag(config=True)
    # nbconvert's preprocessors are off unless enabled; nbgrader's pipelines register them as they are
    enabled = Bool(True, help="Sanitize (off only to see what a page would do without it)").tag(config=True)

    def sanitize_html_tags(self, html_str: str) -> str:
        return clean_html("".join(html_str) if isinstance(html_str, list) else html_str)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, cell_index: int):
        if cell.cell_type == "markdown":
            if has_raw_html(cell.source):
                cell.source = as_markdown_source(markdown_to_safe_html(cell.source, cell.get("attachments")))
            return cell, resources
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):  # nbconvert shows an "isolated" HTML output in an iframe
                output.get("metadata", {}).get("text/html", {}).pop("isolated", None)
        return super().preprocess_cell(cell, resources, cell_index)


# -- output size --------------------------------------------------------------------------------------
def _size(chars: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if chars >= scale:
            return f"{chars / scale:g} {unit}"
    return f"{chars} characters"


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(value)
    return json.dumps(value)


class LimitOutputChars(NbGraderPreprocessor):
    """Cut each output of a code cell at `max_chars` characters, with a note saying so: stream
    text, text/plain, error messages and tracebacks are cut; a larger rich representation (HTML,
    an image, JSON...) is dropped and a note put after the output. nbgrader's LimitOutput counts
    lines only, so one printed line of 100 MB would reach the autograded notebook and the pages."""

    max_chars = Integer(1_000_000, help="Largest output kept, in characters (-1: no limit)").tag(config=True)

    def note(self, total: int) -> str:
        return cut_note(self.max_chars, total)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if self.max_chars < 0 or cell.cell_type != "code":
            return cell, resources
        outputs = []
        for output in cell.get("outputs", []):
            outputs.append(output)
            note = self._cut(output)
            if note:
                outputs.append(NotebookNode(output_type="stream", name="stdout", text=note + "\n"))
        cell.outputs = outputs
        return cell, resources

    def _cut_text(self, text: str) -> str:
        return text if len(text) <= self.max_chars else f"{text[:self.max_chars]}\n{self.note(len(text))}\n"

    def _cut(self, output: NotebookNode) -> str:
        """Cut `output` in place; returns a note to show after it, if a part was dropped."""
        kind = output.get("output_type")
        if kind == "stream":
            output.text = self._cut_text(_text(output.get("text", "")))
        elif kind == "error":
            output.evalue = self._cut_text(output.get("evalue", ""))
            output.traceback = self._cut_traceback(output.get("traceback", []))
        elif kind in ("display_data", "execute_result"):
            dropped = [key for key, value in output.get("data", {}).items()
                       if key != "text/plain" and len(_text(value)) > self.max_chars]
            total = max((len(_text(output.data[key])) for key in dropped), default=0)
            for key in dropped:
                del output.data[key]
            if "text/plain" in output.get("data", {}):
                output.data["text/plain"] = self._cut_text(_text(output.data["text/plain"]))
            if dropped:
                return f"{self.note(total)} ({', '.join(dropped)} removed)"
        return ""

    def _cut_traceback(self, lines: list[str]) -> list[str]:
        total = sum(len(line) for line in lines)
        if total <= self.max_chars:
            return lines
        kept, budget = [], self.max_chars
        for line in lines:
            if len(line) > budget:
                kept.append(line[:budget])
                break
            kept.append(line)
            budget -= len(line)
        return kept + [self.note(total)]


def cut_note(max_chars: int, total: int) -> str:
    return f"… output cut at {_size(max_chars)} ({total:,} characters in all) …"


def cut_while_running(outs: list, output: NotebookNode, keep: int) -> None:
    """Cut the newest output of a cell as it arrives, once the cell has sent more than its
    budget: a stream keeps its first `keep` characters; a stdout stream or a display with
    nothing left to keep is dropped. A stderr stream always stays (nbgrader fails the cell
    for it), and a result (`execute_result`) is left whole for LimitOutputChars: nbgrader
    reads partial credit from its text."""
    kind = output.get("output_type")
    if kind == "stream" and (keep > 0 or output.get("name") == "stderr"):
        output.text = _text(output.get("text", ""))[:max(0, keep)]
    elif kind in ("stream", "display_data", "update_display_data") and outs and outs[-1] is output:
        outs.pop()
    elif kind in ("display_data", "update_display_data"):
        output.data, output.metadata = {"text/plain": ""}, {}


def output_size(output: NotebookNode) -> int:
    """Characters of an output's text and data, as LimitOutputChars counts them."""
    if output.get("output_type") == "stream":
        return len(_text(output.get("text", "")))
    return sum(len(_text(value)) for value in output.get("data", {}).values())
