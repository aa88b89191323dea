"""The raw data folder's one owner: where it is (`--raw-dir`, else $ECOMGPT_RAW_DIR, else the per-user cache that
`ecomgpt-data fetch` fills), and what it should hold (`raw_files.json`: per shipped source, its repository and
pinned commit, and per file the upstream path, SHA-256 and size; see `ecomgpt_data.fetch`). Layout:
`<raw dir>/<source folder>/<path>`, as in each source's SOURCE.md."""

from __future__ import annotations

import functools
import json
import os
from importlib import resources
from pathlib import Path

from ecomgpt_core.locations import RAW_DIR_VAR, DataKind, locate

KIND = DataKind(what="the raw training datasets", variable=RAW_DIR_VAR, cache_subdir="raw",
                fetch_command="ecomgpt-data fetch")


@functools.cache
def registry() -> dict[str, dict]:
    """Per source folder: `repository`, `commit`, `files` ({path: {upstream_path, sha256, size, ...}}) and, for
    sources with a reader, `items` (how many items the reader yields: the build's progress total).
    `scripts/raw_snapshot.py` keeps `items` and the hashes current."""
    text = resources.files("ecomgpt_data.sources").joinpath("raw_files.json").read_text(encoding="utf-8")
    return json.loads(text)


def known_files() -> dict[str, dict[str, dict]]:
    """SHA-256 and size of every file of the shipped sources, as their SOURCE.md snapshots have them."""
    return {name: snapshot["files"] for name, snapshot in registry().items()}


def locate_raw(explicit: str | os.PathLike | None = None, option: str | None = "--raw-dir") -> Path:
    """The raw data folder, by the one rule of `ecomgpt_core.locations`."""
    return locate(KIND, explicit, option)


def missing_hint(source: str) -> str:
    """What to do about a shipped source whose files are missing."""
    return f"run `ecomgpt-data fetch --source {source}`" if source in registry() else "restore them"
