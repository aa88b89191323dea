"""Download the 13 released evaluation folders at the pinned commit and check them against their hashes.

The files land in a `.partial` folder next to the destination and are moved into place only when every
hash matches, so an interrupted or corrupted download never looks like a usable data folder.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from ecom_tasks.data import COMPLETE_MARKER, EvalDataError, cached_eval_dir
from ecom_tasks.release import manifest, released_tasks
from ecomgpt_core.files import published_dir
from ecomgpt_core.hashing import sha256_of

BASE_URL_ENV = "ECOMGPT_EVAL_BASE_URL"
RETRIES = 3


def default_base_url() -> str:
    m = manifest()
    return os.environ.get(BASE_URL_ENV) or f"https://raw.githubusercontent.com/{m['repository']}/{m['commit']}/{m['root']}"


def verify_dir(root: Path) -> list[str]:
    """Every difference between `root` and the release: missing files and hash or size mismatches."""
    problems = []
    for task in released_tasks().values():
        for name, expected in task.files.items():
            path = root / task.relative_dir / name
            if not path.is_file():
                problems.append(f"{path}: missing")
            elif path.stat().st_size != expected["size"] or sha256_of(path) != expected["sha256"]:
                problems.append(f"{path}: content differs from the release (sha256 {expected['sha256'][:12]}...)")
    return problems


def _download(url: str, target: Path) -> None:
    for attempt in range(1, RETRIES + 1):
        try:
            with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as out:
                shutil.copyfileobj(response, out)
            return
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            if attempt == RETRIES or (isinstance(err, urllib.error.HTTPError) and err.code == 404):
                raise EvalDataError(f"could not download {url}: {err}") from None
            time.sleep(2 ** attempt)


def fetch(dest: Path | None = None, base_url: str | None = None, force: bool = False) -> Path:
    """Fill `dest` (default: the per-user cache) with the release and return it."""
    dest = Path(dest) if dest is not None else cached_eval_dir()
    if (dest / COMPLETE_MARKER).is_file() and not force and not verify_dir(dest):
        return dest
    base_url = (base_url or default_base_url()).rstrip("/")
    jobs = [(task, name) for task in released_tasks().values() for name in task.files]
    with published_dir(dest, replace=True) as partial:
        _download_all(jobs, base_url, partial, dest)
        (partial / COMPLETE_MARKER).write_text(manifest()["commit"] + "\n", encoding="utf-8")
    return dest


def _download_all(jobs: list, base_url: str, partial: Path, dest: Path) -> None:
    for task, name in tqdm(jobs, desc="ecomgpt fetch", unit="file"):
        target = partial / task.relative_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        url = f"{base_url}/{task.relative_dir}/{name}"
        _download(url, target)
        expected = task.files[name]["sha256"]
        actual = sha256_of(target)
        if actual != expected:
            raise EvalDataError(
                f"{url}: sha256 {actual} but the release at commit {manifest()['commit'][:7]} has {expected}; "
                f"the download was kept out of {dest}. Check {BASE_URL_ENV} or retry."
            )

