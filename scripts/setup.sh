#!/usr/bin/env bash
# Set up a fresh machine: a virtualenv in .venv with the CPU build of torch and vfl.
# torch==2.13.0 goes first so that pip never pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev,flower,plot]'
