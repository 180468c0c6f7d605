"""Wall-clock measurement shared by the course notebooks and `benchmarks/`.

Timings are medians over repeats, and contenders are interleaved (A, B, C, A, B, C, ...)
so that a slow moment of the machine hits all of them alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping


def calls_per_repeat(fn: Callable[[], object], target_seconds: float) -> int:
    """How many calls of `fn` take at least `target_seconds` (at least 1)."""
    fn()  # warm up caches and lazy imports
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= target_seconds or number >= 1 << 20:
            return number
        number = max(number * 2, int(number * target_seconds / max(elapsed, 1e-9)) + 1)


def measure_interleaved(
    contenders: Mapping[str, Callable[[], object]],
    repeats: int = 15,
    target_seconds: float = 0.005,
) -> dict[str, float]:
    """Median seconds per call of each contender, measured in interleaved rounds."""
    numbers = {name: calls_per_repeat(fn, target_seconds) for name, fn in contenders.items()}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            number = numbers[name]
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(values) for name, values in samples.items()}
