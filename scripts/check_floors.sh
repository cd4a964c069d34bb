#!/usr/bin/env bash
# The dependency floors pyproject.toml states, installed and tested: a fresh venv with the
# lowest version of every runtime dependency it allows (pip's --resolution lowest-direct is
# not available, so the floors are read from pyproject.toml), then the fast tests of the
# parts each floor matters for. torch is the exception: only the CPU 2.13.0 build is
# available offline here, so its floor (2.4) is not installed by this check.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${FLOORS_VENV:-/tmp/vfl-floors}
PYTHON=${PYTHON:-python3}
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@"; }
pip torch==2.13.0
# every ">=X" floor of the runtime dependencies (and the plot extra) pinned to "==X" (torch skipped); the test
# tools as the dev extra declares them, except import-linter (its floor needs a newer rich than
# vfl's own floor, and its test is about the code, not the floors: left out below)
floors=$("$VENV/bin/python" - <<'PY'
import re, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
pins = []
for dep in project["dependencies"] + project["optional-dependencies"]["plot"]:
    m = re.match(r"([A-Za-z0-9_.\-]+)>=([0-9][^,<; ]*)", dep)
    if m and m.group(1) != "torch":
        pins.append(f"{m.group(1)}=={m.group(2)}")
pins += [d for d in project["optional-dependencies"]["dev"] if not d.startswith("import-linter")]
print(" ".join(f"'{p}'" for p in pins))
PY
)
echo "== floors: $floors"
eval "pip $floors"
pip --no-deps -e .
"$VENV/bin/python" -m pip check
"$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    tests/cli/test_config.py tests/cli/test_config_serve.py tests/test_api.py tests/party \
    tests/grpc tests/psi tests/journal tests/registry tests/cli/test_simulate_cli.py
