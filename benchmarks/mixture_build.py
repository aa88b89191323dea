"""Full mixture build over $ECOMGPT_RAW_DIR: wall time, instances per second and peak memory; the same with
`--per-task 16` (`--small`), to show what a small build costs; then with every source read `--replicate`
times (each copy's texts marked so that copies are new instances, not duplicates), to show that time grows
linearly with the raw data and memory stays flat.

Each build runs in a fresh process so that its peak resident memory (ru_maxrss) is its own.

    ECOMGPT_EVAL_DIR=../shared/ecominstruct_eval ECOMGPT_RAW_DIR=../shared/ecom_raw \\
        .venv/bin/python benchmarks/mixture_build.py [--replicate 4] [--small 16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def replicated(source, copies: int):
    """The source, each record yielded `copies` times; copy i>0 has its texts and id marked with i."""
    from ecomgpt_data.records import Record

    def read(root):
        for copy in range(copies):
            for item in source.read(root):
                if copy and isinstance(item, Record):
                    mark = f" #{copy}"
                    item = replace(item, id=f"{item.id}~{copy}", text=item.text + mark,
                                   target=item.target + mark if item.target else "",
                                   question=item.question + mark if item.question else "",
                                   context=item.context[:-1] + (item.context[-1] + mark,) if item.context else ())
                yield item
    return replace(source, read=read)


def child(copies: int, out: Path, per_task: int) -> None:
    from ecomgpt_data import sources
    from ecomgpt_data.config import MixtureConfig
    from ecomgpt_data.mixture import build

    registry = sources.load_sources()
    for name, source in list(registry.items()):
        registry[name] = replicated(source, copies)
    start = time.perf_counter()
    manifest = build(MixtureConfig(per_task=per_task).validate(), out, progress=False)
    seconds = time.perf_counter() - start
    totals = manifest["totals"]
    records = sum(s["records"] for s in manifest["sources"].values())
    print(json.dumps({"copies": copies, "per_task": per_task, "seconds": seconds, "records": records, "generated": totals["generated"],
                      "selected": totals["selected"], "duplicates": totals.get("duplicates", 0),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run(copies: int, per_task: int = 800) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run([sys.executable, __file__, "--child", str(copies), "--out", f"{tmp}/mix",
                                 "--per-task", str(per_task)],
                                check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicate", type=int, default=4)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--small", type=int, default=16, help="the per-task size of the small build compared with the full one")
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--per-task", type=int, default=800, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out, args.per_task)
        return
    for variable in ("ECOMGPT_RAW_DIR", "ECOMGPT_EVAL_DIR"):
        if not os.environ.get(variable):
            sys.exit(f"set {variable} (see the module docstring)")
    base, small, big = run(1), run(1, args.small), run(args.replicate)
    for r in (base, small, big):
        print(f"x{r['copies']} per-task {r['per_task']:>4}: {r['records']:>8,} records  {r['generated']:>9,} instances generated  "
              f"{r['selected']:>6,} selected  {r['seconds']:6.1f} s  {r['generated'] / r['seconds']:8,.0f} inst/s  "
              f"peak RSS {r['peak_rss_mb']:6.0f} MB  duplicates {r['duplicates']:,}")
    print(f"ratio x{args.replicate} / x1: records {big['records'] / base['records']:.2f}, "
          f"time {big['seconds'] / base['seconds']:.2f}, peak memory {big['peak_rss_mb'] / base['peak_rss_mb']:.2f}")
    print(f"ratio per-task {args.small} / per-task 800 (x1): time {small['seconds'] / base['seconds']:.2f}")


if __name__ == "__main__":
    main()
