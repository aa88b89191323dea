"""Where the data lives: the raw datasets ($ECOMGPT_RAW_DIR), the released evaluation sets ($ECOMGPT_EVAL_DIR,
else a fetched copy in the cache) and the per-user cache ($ECOMGPT_CACHE_DIR, else $XDG_CACHE_HOME/ecomgpt,
else ~/.cache/ecomgpt). One resolver, so every command answers a missing folder the same way."""

from __future__ import annotations

import os
from pathlib import Path

from ecomgpt_core.errors import EcomGPTError

RAW_DIR_VAR = "ECOMGPT_RAW_DIR"
EVAL_DIR_VAR = "ECOMGPT_EVAL_DIR"
CACHE_DIR_VAR = "ECOMGPT_CACHE_DIR"


class DataLocationError(EcomGPTError):
    """A data folder is not given, or not a folder."""


def cache_root() -> Path:
    """Per-user cache: $ECOMGPT_CACHE_DIR, else $XDG_CACHE_HOME/ecomgpt, else ~/.cache/ecomgpt."""
    if os.environ.get(CACHE_DIR_VAR):
        return Path(os.environ[CACHE_DIR_VAR]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "ecomgpt"


def data_dir(explicit: str | os.PathLike | None, variable: str, *, option: str | None, what: str,
             hint: str = "", fallback: Path | None = None) -> Path:
    """`explicit` (a command-line option), else $`variable`, else `fallback`; each must be a folder. Otherwise a
    `DataLocationError` naming the option or variable and `hint`."""
    chosen, named = None, ""
    if explicit:
        chosen, named = str(explicit), f"{option} {explicit}" if option else str(explicit)
    elif os.environ.get(variable):
        chosen, named = os.environ[variable], f"{variable}={os.environ[variable]}"
    if chosen is not None:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise DataLocationError(f"{named} is not a folder; point it at {what}{'. ' + hint if hint else ''}")
        return path
    if fallback is not None:
        return fallback
    given = f"pass {option} or set it" if option else "set it"
    raise DataLocationError(f"{variable} is not set and {what} are needed: {given}{'; or ' + hint if hint else ''}")


def raw_dir(explicit: str | os.PathLike | None = None, option: str | None = "--raw-dir") -> Path:
    return data_dir(explicit, RAW_DIR_VAR, option=option, what="the raw datasets (e.g. ../shared/ecom_raw)")
