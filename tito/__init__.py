"""tito: the TinyTorch course tool (student, instructor and build commands)."""

import sys

# nbformat validates notebooks with jsonschema, which compiles 39 grammars when the optional
# `rfc3987_syntax` package is installed (1.7 s at every start here). Notebook schemas never
# use the formats it checks (IRIs), so tito's processes do without it.
sys.modules.setdefault("rfc3987_syntax", None)
