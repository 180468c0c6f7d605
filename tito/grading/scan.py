"""Static checks of student code, for the instructor to review: interpreter manipulation in
any student cell, and exported code that does work when imported.

What is found here becomes a flag; a flag never changes a score.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

_IPYTHON_HOOKS = {"input_transformers_post", "input_transformers_cleanup", "ast_transformers", "set_custom_exc",
                  "showtraceback", "_showtraceback", "showsyntaxerror", "run_cell", "run_cell_async", "events",
                  "register_magic_function", "user_ns", "user_global_ns", "custom_exceptions", "set_hook",
                  "pre_run_cell", "post_run_cell", "pre_execute", "post_execute", "displayhook", "excepthook"}
_TRACING = {"settrace", "setprofile", "_getframe", "_current_frames", "currentframe", "stack", "getouterframes",
            "getinnerframes", "addaudithook"}
_FRAME_ATTRIBUTES = {"f_back", "f_locals", "f_globals", "f_lineno", "f_trace", "tb_frame", "gi_frame", "f_code",
                     "__code__", "__closure__"}
_PROCESSES = {"fork", "forkpty", "system", "popen", "spawnl", "spawnv", "spawnve", "spawnlp", "execv", "execve",
              "execl", "execlp", "execvp", "posix_spawn", "kill", "killpg", "_exit", "setsid", "daemon"}
_MODULES = {"ctypes": "ctypes", "gc": "gc (garbage-collector introspection)", "inspect": "frame inspection",
            "subprocess": "subprocess", "multiprocessing": "multiprocessing", "pty": "pty", "socket": "network",
            "urllib": "network", "http": "network", "requests": "network", "signal": "signal handlers",
            "atexit": "atexit", "threading": "threads", "importlib": "import machinery", "sqlite3": "database",
            "shutil": "file operations", "tempfile": None, "faulthandler": "faulthandler", "builtins": "builtins"}
_WRITE_MODES = set("wax+")
_SAFE_CALLS = {"type", "tuple", "frozenset", "set", "dict", "list", "object", "float", "int", "str", "bool",
               "float32", "float64", "int32", "int64", "uint32", "dtype", "TypeVar"}


@dataclass(frozen=True)
class Finding:
    cell: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"cell '{self.cell}' line {self.line}: {self.what}"


class _Visitor(ast.NodeVisitor):
    def __init__(self, cell: str, graded_package: str):
        self.cell, self.graded_package, self.found = cell, graded_package, []

    def add(self, node: ast.AST, what: str) -> None:
        self.found.append(Finding(self.cell, getattr(node, "lineno", 0), what))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(node, alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._module(node, node.module or "")
        self.generic_visit(node)

    def _module(self, node: ast.AST, name: str) -> None:
        top = name.split(".")[0]
        if self.graded_package and (name == self.graded_package or name.startswith(self.graded_package + ".")):
            self.add(node, f"imports the graded module's own package ({name})")
        elif name.startswith("nbgrader") or (name.startswith("tito") and name != "tito.inline"):
            self.add(node, f"imports the grading tools ({name})")
        elif _MODULES.get(top):
            self.add(node, f"imports {name} ({_MODULES[top]})")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in _IPYTHON_HOOKS:
            self.add(node, f"IPython internals: .{node.attr}")
        elif node.attr in _TRACING:
            self.add(node, f"tracing or frame access: .{node.attr}")
        elif node.attr in _FRAME_ATTRIBUTES:
            self.add(node, f"frame or code object access: .{node.attr}")
        elif node.attr in _PROCESSES and isinstance(node.value, ast.Name) and node.value.id in ("os", "posix"):
            self.add(node, f"process control: os.{node.attr}")
        elif node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
            self.add(node, "sys.modules")
        elif node.attr in ("write_text", "write_bytes", "unlink", "rmdir", "rename", "chmod", "symlink_to"):
            self.add(node, f"file changes: .{node.attr}()")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "get_ipython":
            self.add(node, "get_ipython() (the kernel's interpreter)")
        elif node.id in ("__builtins__", "__import__") or (node.id in ("exec", "eval", "compile")):
            self.add(node, f"{node.id}")
        if isinstance(node.ctx, ast.Store) and node.id in ("__name__", "__builtins__", "__file__", "__spec__"):
            self.add(node, f"assigns {node.id}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "open" and _writes(node):
            self.add(node, "opens a file for writing")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in ("__name__", "__builtins__"):
                self.add(node, f"rebinds {name}")


def _writes(call: ast.Call) -> bool:
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and bool(_WRITE_MODES & set(mode.value))


def _strip_magics(source: str) -> str:
    """Notebook cells may hold IPython magics and shell escapes, which are not Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def suspicious_code(cells: list[tuple[str, str]], graded_package: str = "") -> list[Finding]:
    """Interpreter manipulation in student cells ([(cell name, source)])."""
    found = []
    for name, source in cells:
        try:
            tree = ast.parse(_strip_magics(source))
        except SyntaxError:
            continue  # reported as a syntax error by grading
        visitor = _Visitor(name, graded_package)
        visitor.visit(tree)
        found += visitor.found
    return found


def _is_constant(node: ast.AST) -> bool:
    """Literals, names, attributes, containers and arithmetic of those, and a few
    value-making calls (`type(None)`, `np.float32(0.5)`)."""
    if isinstance(node, (ast.Constant, ast.Name, ast.Attribute)):
        return not isinstance(node, ast.Attribute) or _is_constant(node.value)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_constant(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        return all(_is_constant(item) for item in [*node.keys, *node.values] if item is not None)
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left) and _is_constant(node.right)
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        return _is_constant(node.elt) and all(
            _is_constant(g.iter) and all(_is_constant(i) for i in g.ifs) for g in node.generators)
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        return name in _SAFE_CALLS and all(_is_constant(arg) for arg in node.args) and not node.keywords
    return False


def _definition_ok(node: ast.AST) -> bool:
    decorators_ok = all(isinstance(d, (ast.Name, ast.Attribute)) for d in getattr(node, "decorator_list", []))
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        defaults = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
        return decorators_ok and all(_is_constant(d) for d in defaults)
    if isinstance(node, ast.ClassDef):
        return decorators_ok and all(_is_constant(b) for b in node.bases) and not node.keywords and all(
            _statement_ok(item, in_class=True) for item in node.body)
    return False


def _statement_ok(node: ast.AST, in_class: bool = False) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)):
        return not in_class
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return _definition_ok(node)
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant)  # a docstring
    if isinstance(node, ast.Assign):
        return all(isinstance(t, (ast.Name, ast.Tuple)) for t in node.targets) and _is_constant(node.value)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and (node.value is None or _is_constant(node.value))
    return False


def import_time_work(cells: list[dict]) -> list[Finding]:
    """Statements of exported cells ([{id, source}]) that do more than define: anything at
    module level (or in a class body) but imports, definitions and constants."""
    found = []
    for cell in cells:
        try:
            tree = ast.parse(cell["source"])
        except SyntaxError:
            continue
        for node in tree.body:
            if not _statement_ok(node):
                line = ast.get_source_segment(cell["source"], node) or ""
                snippet = line.strip().splitlines()[0][:80] if line.strip() else type(node).__name__
                found.append(Finding(cell["id"], node.lineno, f"runs at import: {snippet}"))
    return found
