"""Where a command of `ecomgpt-data` may write: checked before any work. An output never is, contains or lies
inside a data folder it reads, never is the working directory or one of its ancestors, and an existing one is
replaced only when asked and only when it holds this tool's own output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ecom_tasks.data import eval_dir as default_eval_dir
from ecomgpt_core.errors import EcomGPTError
from ecomgpt_data.raw import locate_raw as default_raw_dir
from ecomgpt_data.errors import BuildError


def read_manifest(folder: Path) -> dict:
    """The `manifest.json` an `ecomgpt-data` command wrote into `folder`, or {} when there is no readable one."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def protected_folders(raw_dir: str | None, eval_dir: str | None) -> dict[Path, str]:
    """Folders an output must never replace or write into: the working directory, and the data folders."""
    found = {Path.cwd().resolve(): "the working directory"}
    for explicit, resolve, what in ((raw_dir, default_raw_dir, "the raw data folder"),
                                    (eval_dir, default_eval_dir, "the evaluation folder")):
        try:
            folder = Path(explicit) if explicit else resolve()
        except EcomGPTError:  # not configured: nothing to protect
            continue
        found[folder.resolve()] = what
    return found


def refuse_protected(out: Path, protected: dict[Path, str]) -> None:
    """Refuse an output that is, contains or lies inside one of the `protected` folders (a new folder under the
    working directory is fine)."""
    target = Path(out).resolve()
    for folder, what in protected.items():
        folder = folder.resolve()
        inside = folder in target.parents and what != "the working directory"
        if target == folder or target in folder.parents or inside:
            relation = "is" if target == folder else "contains" if target in folder.parents else "lies inside"
            raise BuildError(f"--out {out} {relation} {what} ({folder}); choose a new folder")


def check_output(out: Path, raw_dir: str | None, eval_dir: str | None, replace: bool,
                 is_own: Callable[[Path], bool], tool: str) -> None:
    """Refuse an output that is, contains or lies inside a protected folder, or that exists when `replace` is
    false, or that exists and is not `tool`'s own output (`is_own`)."""
    refuse_protected(out, protected_folders(raw_dir, eval_dir))
    target = Path(out).resolve()
    if target.exists():
        if not replace:
            raise BuildError(f"{out} exists; pass --overwrite to replace it")
        if not is_own(target):
            raise BuildError(f"{out} exists and is not a folder written by `{tool}` (with its manifest.json), so "
                             "it is not replaced. Choose a new --out or remove it yourself")
