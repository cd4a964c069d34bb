#!/usr/bin/env bash
# The test suite in two lanes: the fast lane (what `pytest -q` runs), then the slow lane
# (`pytest -q -m slow`: real processes, fault injection, compose, Flower, concurrency).
# Both lanes run even if the first fails, so one CI run reports both; the exit status is
# non-zero if either failed. Extra arguments go to both lanes (e.g. a test directory or -x).
# pytest exits 5 when a lane selects no tests (a directory with no slow tests): not a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

lane() {
    local name=$1
    shift
    echo "== $name lane"
    "$PYTHON" -m pytest -q "$@"
    local rc=$?
    if [ "$rc" -eq 5 ]; then
        echo "== $name lane: no tests selected"
        rc=0
    fi
    return "$rc"
}

status=0
lane fast "$@" || status=1
lane slow -m slow "$@" || status=1
exit "$status"
