"""Download the 13 released evaluation folders at the pinned commit (`ecomgpt fetch`), or import a local copy
(`ecomgpt fetch --from DIR`), and check them against their hashes.

The files land in a staging folder next to the destination and are moved into place only when every hash
matches, so an interrupted or corrupted download never looks like a usable data folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from tqdm.auto import tqdm

from ecom_tasks.data import COMPLETE_MARKER, EvalDataError, EvalRelease, cached_eval_dir
from ecom_tasks.release import manifest, released_tasks
from ecomgpt_core.download import download_verified, file_url
from ecomgpt_core.files import published_dir

BASE_URL_ENV = "ECOMGPT_EVAL_BASE_URL"


def default_base_url() -> str:
    m = manifest()
    return os.environ.get(BASE_URL_ENV) or f"https://raw.githubusercontent.com/{m['repository']}/{m['commit']}/{m['root']}"


def verify_dir(root: Path) -> list[str]:
    """Every difference between `root` and the release: missing files and hash or size mismatches."""
    return EvalRelease(root).verify()


def ready(dest: Path, force: bool = False) -> bool:
    """Whether `dest` already holds the whole release, every hash checked (and `force` does not ask again)."""
    return (dest / COMPLETE_MARKER).is_file() and not force and not verify_dir(dest)


def fetch(dest: Path | None = None, base_url: str | None = None, force: bool = False, source: Path | None = None,
          progress: bool = True) -> Path:
    """Fill `dest` (default: the per-user cache) with the release and return it: downloaded from `base_url` (the
    release's data folder, or a mirror of it), or copied from the local copy `source`."""
    dest = Path(dest) if dest is not None else cached_eval_dir()
    if ready(dest, force):
        return dest
    if source is not None:
        problems = verify_dir(Path(source))
        if problems:
            raise EvalDataError(f"--from {source}: {len(problems)} file(s) differ from the release, e.g. {problems[0]}; "
                                "restore them, or fetch without --from")
    base_url = (base_url or default_base_url()).rstrip("/")
    jobs = [(task, name) for task in released_tasks().values() for name in task.files]
    total = sum(task.files[name]["size"] for task, name in jobs)
    with published_dir(dest, replace=True) as partial, \
            tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=f"ecomgpt fetch: {len(jobs)} files",
                 disable=not progress, dynamic_ncols=True) as bar:
        for task, name in jobs:
            target = partial / task.relative_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            expected = task.files[name]
            if source is not None:
                target.write_bytes((Path(source) / task.relative_dir / name).read_bytes())
                bar.update(expected["size"])
                continue
            target.write_bytes(download_verified(
                file_url(base_url, task.relative_dir, name), expected["sha256"], expected["size"],
                what=f"{task.relative_dir}/{name}", progress=bar,
                hint=f"check --base-url / {BASE_URL_ENV} (a mirror of the release's data folder), or import a copy "
                     "with --from DIR"))
        (partial / COMPLETE_MARKER).write_text(manifest()["commit"] + "\n", encoding="utf-8")
    return dest
