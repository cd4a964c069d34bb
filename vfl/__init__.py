"""vfl: vertical federated learning with privacy-preserving label unlearning.

Importing the package loads nothing heavy (no torch): the command line's start-up
and the operator commands depend on that. The library lives in the subpackages.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("vfl")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
