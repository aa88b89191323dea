# Sourced by scripts/run.sh and scripts/test.sh: run scripts/install.sh when .venv is missing, was set up from
# another pyproject.toml, or cannot import the project and its main dependencies (a damaged environment: a
# deleted package file would otherwise surface deep inside lm-eval), so that a second run starts in seconds.
stamp=".venv/.ecomgpt-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -x .venv/bin/python ] || [ ! -e "$stamp" ]; then
  echo "setting up .venv (first run: about 2 minutes) ..." >&2
  bash scripts/install.sh
elif ! problem=$(.venv/bin/python -c "import torch, transformers, lm_eval, ecom_tasks.utils, ecomgpt_data.mixture, ecomgpt.results" 2>&1); then
  echo ".venv cannot import the project ($(printf '%s' "$problem" | tail -n 1)); setting it up again ..." >&2
  bash scripts/install.sh
fi
