"""Update `ecomgpt_data/sources/raw_files.json` (the shipped sources' snapshots) from a full build.

For a maintainer who adds a shipped source or moves one to a new snapshot: build over the raw folder whose
files match the snapshots the SOURCE.md files name, then record, per source, each input file's SHA-256 and
size and how many items its reader yields (the build's progress total).

    ecomgpt-data build --out /tmp/full --unsafe-no-guard --overwrite
    .venv/bin/python scripts/raw_snapshot.py /tmp/full
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ecomgpt_data.raw import locate_raw
from ecomgpt_data.sources import load_sources

SNAPSHOTS = Path(__file__).resolve().parent.parent / "ecomgpt_data" / "sources" / "raw_files.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mixture", type=Path, help="a folder written by `ecomgpt-data build` with every shipped source")
    args = parser.parse_args()
    if not (args.mixture / "manifest.json").is_file():
        parser.error(f"{args.mixture}: no manifest.json; pass a folder written by `ecomgpt-data build`")
    manifest = json.loads((args.mixture / "manifest.json").read_text(encoding="utf-8"))
    registry = load_sources()
    # The origins (repository, commit, upstream paths, upstream hashes and changes) are kept; only what a build
    # measures is written: each read file's SHA-256 and size, and the item count.
    snapshots = json.loads(SNAPSHOTS.read_text(encoding="utf-8"))
    for name, report in sorted(manifest["sources"].items()):
        source = registry.get(name)
        if source is None or not source.folder:
            continue  # a jsonl or pseudo-label source: not shipped
        folder = locate_raw(manifest["config"].get("raw_dir")) / source.folder
        entry = snapshots.setdefault(name, {"files": {}})
        for file, sha256 in sorted(report["files"].items()):
            entry["files"].setdefault(file, {}).update(sha256=sha256, size=(folder / file).stat().st_size)
        entry["items"] = report["records"] + report["malformed"] + sum(report["skipped"].values())
    SNAPSHOTS.write_text(json.dumps(snapshots, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOTS}: {len(snapshots)} sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
