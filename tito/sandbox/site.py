"""The site folder: the only course files a sandbox sees.

It holds the `tinytorch` package without the module being graded (and without any later
one), tito's notebook helper (`tito.inline`) and the clean-room runner.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

SITE_HELPER_FILES = ["inline.py"]  # the parts of tito that notebooks import
RUNNER = "_tito_cleanroom.py"  # the clean-room runner's name inside the site folder
_TITO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SiteSpec:
    """Which package files a sandbox sees, for grading module `module_number`."""

    package_root: Path  # the tinytorch/ folder to copy from
    hidden_files: tuple[str, ...]  # paths relative to package_root never copied (graded + later modules)
    include_completed: bool  # students' own builds of earlier modules (core/_completed/)


def build_site(spec: SiteSpec, target: Path, extra_files: dict[str, str] | None = None) -> Path:
    """Fill `target` with a tinytorch package (per `spec`), tito's notebook helper and the
    clean-room runner; `extra_files` (relative path -> text) are written on top."""
    hidden = set(spec.hidden_files)

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).relative_to(spec.package_root)
        skipped = {"__pycache__"}
        for name in names:
            path = (relative / name).as_posix()
            if path in hidden or (name == "_completed" and not spec.include_completed):
                skipped.add(name)
        return skipped

    shutil.copytree(spec.package_root, target / "tinytorch", ignore=ignore)
    helpers = target / "tito"
    helpers.mkdir()
    (helpers / "__init__.py").write_text('"""The part of tito that course notebooks import."""\n')
    for name in SITE_HELPER_FILES:
        shutil.copy2(_TITO / name, helpers / name)
    shutil.copy2(Path(__file__).parent / "inside" / "cleanroom_runner.py", target / RUNNER)
    for relative, text in (extra_files or {}).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


