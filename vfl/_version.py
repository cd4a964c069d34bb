"""The installed distribution's version, in a module that imports nothing of vfl.

Kept apart from ``vfl/__init__.py`` (whose lazy ``vfl.Federation`` reaches up to
:mod:`vfl.api`) so that low layers such as :mod:`vfl.report` can stamp it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("vfl")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
