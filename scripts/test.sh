#!/usr/bin/env bash
# Tests: sets up .venv when missing, then the whole suite, offline, on the data in ../shared unless the variables
# already point elsewhere. Arguments go to pytest (e.g. -m "not slow" for the fast loop).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_env.sh || exit 1
export ECOMGPT_EVAL_DIR=${ECOMGPT_EVAL_DIR:-$(cd .. && pwd)/shared/ecominstruct_eval}
export ECOMGPT_RAW_DIR=${ECOMGPT_RAW_DIR:-$(cd .. && pwd)/shared/ecom_raw}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$status"
