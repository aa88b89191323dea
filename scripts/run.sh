#!/usr/bin/env bash
# The main job: set up .venv when missing, then score a model on the 12 held-out tasks (ecom_unseen) and print
# the Table-4 summary beside the paper's numbers.
#   bash scripts/run.sh                                                    # a tiny random BLOOM, offline (smoke run)
#   MODEL_ARGS=pretrained=bigscience/bloomz-560m bash scripts/run.sh       # a real model (all 500 records a task)
# Variables: MODEL (lm-eval model type, default hf), MODEL_ARGS, LIMIT, OUT (default runs/score); other arguments
# go to `ecomgpt score` (and from there to lm-eval). Evaluation data: $ECOMGPT_EVAL_DIR, else the per-user cache
# (fetched when the network allows). In a checkout with the team's data beside it (../shared), its copies are
# imported into the cache first (hashes checked; once), so that every console command then finds them by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_env.sh
if [ -d ../shared/ecominstruct_eval ] && [ -d ../shared/ecom_raw ] && [ -d ../shared/heldout_train ]; then
  .venv/bin/ecomgpt fetch --from ../shared/ecominstruct_eval
  .venv/bin/ecomgpt-data fetch --from ../shared/ecom_raw
  .venv/bin/ecomgpt-data fetch --heldout --from ../shared/heldout_train
fi
args=(--out "${OUT:-runs/score}" --model "${MODEL:-hf}")
[ -n "${MODEL_ARGS:-}" ] && args+=(--model_args "$MODEL_ARGS")
[ -n "${LIMIT:-}" ] && args+=(--limit "$LIMIT")
exec .venv/bin/ecomgpt score "${args[@]}" "$@"
