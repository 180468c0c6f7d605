"""Benchmarks: run as python -m benchmarks.layers / python -m benchmarks.grading."""
