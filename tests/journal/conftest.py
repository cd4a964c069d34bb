"""Reuse the gRPC area's certificate fixture (one CA for every identity) without copying it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_path = Path(__file__).resolve().parents[1] / "grpc" / "conftest.py"
_spec = importlib.util.spec_from_file_location("grpc_area_fixtures", _path)
assert _spec is not None and _spec.loader is not None
_grpc = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _grpc  # dataclasses look their module up there
_spec.loader.exec_module(_grpc)  # also puts the repository root on sys.path for `parties`

certs = _grpc.certs
