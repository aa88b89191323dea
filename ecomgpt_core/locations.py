"""Where the data lives, by one rule for every kind of input: an explicit option, else the kind's environment
variable, else the per-user cache that the kind's fetch command fills, else one error line naming that command.

The kinds are the released evaluation sets (`ecomgpt fetch`), the raw training sources (`ecomgpt-data fetch`) and
the held-out datasets' training splits (`ecomgpt-data fetch --heldout`). Each kind's owner (`ecom_tasks.data`,
`ecomgpt_data.raw`, `ecomgpt_data.heldout`) declares its `DataKind` and reads the folder; this module only
decides which folder. The per-user cache is $ECOMGPT_CACHE_DIR, else $XDG_CACHE_HOME/ecomgpt, else
~/.cache/ecomgpt.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ecomgpt_core.errors import EcomGPTError

RAW_DIR_VAR = "ECOMGPT_RAW_DIR"
EVAL_DIR_VAR = "ECOMGPT_EVAL_DIR"
HELDOUT_DIR_VAR = "ECOMGPT_HELDOUT_DIR"
CACHE_DIR_VAR = "ECOMGPT_CACHE_DIR"


class DataLocationError(EcomGPTError):
    """A data folder is not given, or not a folder."""


def cache_root() -> Path:
    """Per-user cache: $ECOMGPT_CACHE_DIR, else $XDG_CACHE_HOME/ecomgpt, else ~/.cache/ecomgpt."""
    if os.environ.get(CACHE_DIR_VAR):
        return Path(os.environ[CACHE_DIR_VAR]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "ecomgpt"


@dataclass(frozen=True)
class DataKind:
    """One kind of input folder: what it holds (for messages), its variable, its folder in the cache, the
    command that fills that folder, and how to tell a cache folder that is ready to use."""

    what: str
    variable: str
    cache_subdir: str
    fetch_command: str
    ready: Callable[[Path], bool] = Path.is_dir

    def cached(self) -> Path:
        return cache_root() / self.cache_subdir


def locate(kind: DataKind, explicit: str | os.PathLike | None = None, option: str | None = None) -> Path:
    """The folder of `kind`: `explicit` (the value of `option`), else $variable, else the cache when ready, else a
    `DataLocationError` that names the option, the variable and the fetch command."""
    chosen, named = None, ""
    if explicit:
        chosen, named = str(explicit), f"{option} {explicit}" if option else str(explicit)
    elif os.environ.get(kind.variable):
        chosen, named = os.environ[kind.variable], f"{kind.variable}={os.environ[kind.variable]}"
    if chosen is not None:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise DataLocationError(f"{named} is not a folder; point it at {kind.what}, or unset it and run "
                                    f"`{kind.fetch_command}`")
        return path
    cached = kind.cached()
    if kind.ready(cached):
        return cached
    given = f"{option} DIR or {kind.variable}" if option else kind.variable
    raise DataLocationError(f"{kind.what} not found: run `{kind.fetch_command}` to download them into {cached} "
                            f"(or `{kind.fetch_command} --from DIR` to import a local copy), or give {given}")
