"""`ecomgpt-data fetch`: training inputs from their public origins, file by file, each checked against its SHA-256.

A registry (`raw_files.json` for the raw sources, `heldout_files.json` for the held-out training splits) holds one
record per file: the folder's GitHub repository and pinned commit, the file's upstream path, and the SHA-256 and
size of the copy the builder reads. The URL is `<base>/<owner>/<repo>/<commit>/<upstream path>` with the base
`https://raw.githubusercontent.com` or a mirror of the same layout. Where the copy the builder reads is not the
upstream file itself, the record also holds the upstream hash and the change, with why:
- `remove_lines`: upstream minus these 1-based lines (rows that occur inside a held-out evaluation text);
- `keep_paragraphs`: a SQuAD-format file cut to its first N paragraphs and written back as `json.dumps` writes
  it (the part disjoint from the test records).
The upstream bytes are checked, changed, and the result checked against the copy's hash before it is written.

Each file is published atomically and one already there with the right hash is not fetched again, so a command
cut off mid-way resumes where it stopped. `import_folders` (`--from DIR`) takes the same files from a local copy.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tqdm.auto import tqdm

from ecomgpt_core.download import DownloadError, disk_full_message, download_verified, file_url, is_disk_full
from ecomgpt_core.files import write_atomic
from ecomgpt_core.hashing import sha256_of
from ecomgpt_data.errors import BuildError

GITHUB_RAW = "https://raw.githubusercontent.com"
BASE_URL_ENV = "ECOMGPT_DATA_BASE_URL"


class FetchError(BuildError):
    """Training data that cannot be fetched or imported as the registry describes it."""


def select(registry: dict[str, dict], names: list[str] | None, what: str) -> dict[str, dict]:
    """The registry's folders named in `names` (all when empty), or a FetchError naming an unknown one."""
    unknown = [n for n in names or [] if n not in registry]
    if unknown:
        raise FetchError(f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(sorted(registry))}")
    return {n: registry[n] for n in sorted(names or registry)}


def is_verified(path: Path, entry: dict) -> bool:
    """Whether `path` holds exactly the bytes the record describes."""
    return path.is_file() and path.stat().st_size == entry["size"] and sha256_of(path) == entry["sha256"]


def derive(upstream: bytes, entry: dict) -> bytes:
    """The copy the builder reads, from the verified upstream bytes (unchanged unless the record says how)."""
    if "remove_lines" in entry:
        drop = set(entry["remove_lines"])
        return b"".join(line for number, line in enumerate(upstream.splitlines(keepends=True), 1)
                        if number not in drop)
    if "keep_paragraphs" in entry:
        data = json.loads(upstream)
        article = data["data"][0]
        cut = {key: (value[: entry["keep_paragraphs"]] if key == "paragraphs" else value)
               for key, value in article.items()}
        return json.dumps({**data, "data": [cut]}).encode("utf-8")
    return upstream


def _publish(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as error:
        if is_disk_full(error):
            raise FetchError(disk_full_message(path)) from None
        raise FetchError(f"cannot write {path} ({error.strerror}); choose another --dest") from None


def fetch_folders(registry: dict[str, dict], dest: Path, base_url: str | None = None, force: bool = False,
                  progress: bool = True, label: str = "ecomgpt-data fetch") -> dict:
    """Download every file of `registry`'s folders into `dest/<folder>/<path>`; returns counts and bytes."""
    base = (base_url or GITHUB_RAW).rstrip("/")
    jobs, skipped = [], 0
    for folder, source in registry.items():
        for name, entry in sorted(source["files"].items()):
            target = dest / folder / name
            if not force and is_verified(target, entry):
                skipped += 1
            else:
                jobs.append((folder, source, name, entry, target))
    total = sum(entry.get("upstream", entry)["size"] for *_, entry, _ in jobs)
    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=f"{label}: {len(jobs)} files",
              disable=not progress or not jobs, dynamic_ncols=True) as bar:
        for folder, source, name, entry, target in jobs:
            upstream = entry.get("upstream", entry)
            url = file_url(base, source["repository"], source["commit"], entry["upstream_path"])
            what = f"{folder}/{name}"
            data = download_verified(url, upstream["sha256"], upstream["size"], what=what, progress=bar,
                                     hint="check --base-url (the mirror must keep the layout "
                                          "<owner>/<repo>/<commit>/<path>), or import a copy with --from DIR")
            copy = derive(data, entry)
            if len(copy) != entry["size"] or _sha256(copy) != entry["sha256"]:
                raise DownloadError(f"{what}: the upstream file checks out, but after its change "
                                    f"({entry.get('why', 'see the registry')}) it hashes {_sha256(copy)}, not "
                                    f"{entry['sha256']}; nothing was written. Please report this")
            _publish(target, copy)
    return {"downloaded": len(jobs), "already_verified": skipped, "bytes": total, "dest": dest}


def import_folders(registry: dict[str, dict], source_dir: Path, dest: Path, force: bool = False) -> dict:
    """Copy `registry`'s files from a local copy laid out as `dest` will be, each checked against its hash; a
    missing or different file is a FetchError naming it."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise FetchError(f"--from {source_dir} is not a folder")
    if source_dir.resolve() == Path(dest).resolve():
        return {"copied": 0, "already_verified": sum(len(s["files"]) for s in registry.values()), "dest": dest}
    copied = skipped = 0
    for folder, source in registry.items():
        for name, entry in sorted(source["files"].items()):
            target, given = dest / folder / name, source_dir / folder / name
            if not force and is_verified(target, entry):
                skipped += 1
                continue
            if not given.is_file():
                raise FetchError(f"--from {source_dir}: {folder}/{name} is missing; it is {source['repository']} "
                                 f"@ {source['commit'][:7]}:{entry['upstream_path']} (or fetch without --from)")
            data = given.read_bytes()  # one read: checked, then published
            if len(data) != entry["size"] or _sha256(data) != entry["sha256"]:
                raise FetchError(f"--from {source_dir}: {folder}/{name} has sha256 {_sha256(data)}, expected "
                                 f"{entry['sha256']}; restore it, or fetch without --from")
            _publish(target, data)
            copied += 1
    return {"copied": copied, "already_verified": skipped, "dest": dest}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
