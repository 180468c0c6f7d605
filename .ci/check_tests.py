"""CI guard: tests cannot go missing silently.

1. Every test folder the README names exists and holds test files that git tracks (an
   unanchored .gitignore pattern once kept a whole suite out of the repository).
2. pytest collects at least as many tests as the floor kept in .ci/min-tests. Adding tests
   needs no change; removing some means lowering the floor, in a commit that says why.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fail(message: str) -> None:
    print(f"check_tests: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    named = sorted(set(re.findall(r"\btests/[a-z0-9_]+", (ROOT / "README.md").read_text(encoding="utf-8"))))
    if not named:
        fail("the README names no test folder")
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "tests"], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    for folder in named:
        files = [name for name in tracked if name.startswith(folder + "/") and Path(name).name.startswith("test_")]
        if not (ROOT / folder).is_dir() or not files:
            fail(f"{folder} is named in the README but has no test files tracked by git")
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                               cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    match = re.search(r"(\d+) tests? collected", collected.stdout)
    if collected.returncode != 0 or match is None:
        fail("pytest could not collect the tests:\n" + collected.stdout[-3000:] + collected.stderr[-2000:])
    count, floor = int(match[1]), int((ROOT / ".ci" / "min-tests").read_text().strip())
    if count < floor:
        fail(f"pytest collects {count} tests, fewer than the floor of {floor} in .ci/min-tests")
    print(f"check_tests: {len(named)} test folders named in the README are present; {count} tests (floor {floor})")


if __name__ == "__main__":
    main()
