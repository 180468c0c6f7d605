"""Student progress, kept in one JSON file (`.tito/progress.json`), written atomically."""

from __future__ import annotations

import json
import time

from tito.course.paths import Paths
from tito.fileops import atomic_write_text


def load(paths: Paths) -> dict:
    try:
        return json.loads(paths.progress_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}  # a damaged progress file is rebuilt by the next test or complete


def record(paths: Paths, slug: str, **fields) -> dict:
    """Merge `fields` into the entry of module `slug` and save."""
    data = load(paths)
    entry = data.setdefault(slug, {})
    entry.update(fields, updated=time.strftime("%Y-%m-%dT%H:%M:%S"))
    atomic_write_text(paths.progress_file, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return entry
