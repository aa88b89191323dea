#!/usr/bin/env bash
# The main job: set up .venv when missing, then score a model on the 12 held-out tasks (ecom_unseen) and print
# the Table-4 summary beside the paper's numbers.
#   bash scripts/run.sh                                                    # a tiny random BLOOM, offline (smoke run)
#   MODEL_ARGS=pretrained=bigscience/bloomz-560m bash scripts/run.sh       # a real model (all 500 records a task)
# Variables: MODEL (lm-eval model type, default hf), MODEL_ARGS, LIMIT, OUT (default runs/score); other arguments
# go to `ecomgpt score` (and from there to lm-eval). Evaluation data: $ECOMGPT_EVAL_DIR, else
# ../shared/ecominstruct_eval when present, else the fetched cache (fetched when the network allows).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_env.sh
if [ -z "${ECOMGPT_EVAL_DIR:-}" ] && [ -d ../shared/ecominstruct_eval ]; then
  export ECOMGPT_EVAL_DIR="$(cd .. && pwd)/shared/ecominstruct_eval"
fi
args=(--out "${OUT:-runs/score}" --model "${MODEL:-hf}")
[ -n "${MODEL_ARGS:-}" ] && args+=(--model_args "$MODEL_ARGS")
[ -n "${LIMIT:-}" ] && args+=(--limit "$LIMIT")
exec .venv/bin/ecomgpt score "${args[@]}" "$@"
