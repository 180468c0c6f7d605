"""TinyTorch: a small deep-learning library built one course module at a time.

`tinytorch.core.*` is exported from the course sources in `src/`; do not edit it by hand.
"""

__version__ = "0.3.0"
