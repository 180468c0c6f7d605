"""Writes that never leave a half-written file, and backups before anything is replaced."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def backup_file(path: Path, backup_dir: Path) -> Path:
    """Copy `path` to `backup_dir/<stem>-<timestamp><suffix>` and return the copy's path."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = backup_dir / f"{path.stem}-{stamp}{path.suffix}"
    counter = 1
    while target.exists():
        target = backup_dir / f"{path.stem}-{stamp}-{counter}{path.suffix}"
        counter += 1
    shutil.copy2(path, target)
    return target
