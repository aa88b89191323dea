# Sourced by scripts/run.sh and scripts/test.sh: run scripts/install.sh only when .venv is missing or was set up
# from another pyproject.toml, so that a second run starts in seconds.
if [ ! -x .venv/bin/python ] || [ ! -e ".venv/.ecomgpt-installed-$(sha256sum pyproject.toml | cut -c1-16)" ]; then
  echo "setting up .venv (first run: about 2 minutes) ..." >&2
  bash scripts/install.sh
fi
