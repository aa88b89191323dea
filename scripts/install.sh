#!/usr/bin/env bash
# Setup: a virtual environment in .venv with PyTorch and the project (editable, with the dev extra).
# On CPU-only machines torch==2.13.0 is taken first (a CPU build); set TORCH_SPEC to choose another.
# Always installs; scripts/run.sh and scripts/test.sh call it only when .venv is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
.venv/bin/python -m pip install --quiet -e ".[dev]"
.venv/bin/python -c "import torch, lm_eval, ecom_tasks; print('installed: torch', torch.__version__)"
rm -f .venv/.ecomgpt-installed-*
touch ".venv/.ecomgpt-installed-$(sha256sum pyproject.toml | cut -c1-16)"
