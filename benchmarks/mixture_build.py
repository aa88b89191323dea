"""Full mixture build over $ECOMGPT_RAW_DIR: wall time, instances per second and peak memory, without the
selection-log cache and then writing the logs; a `--per-task 16` (`--small`) build replaying those logs and one
without the cache, to show what a small build costs; then with every source read `--replicate` times (each
copy's texts marked so that copies are new instances, not duplicates; such wrapped sources are never logged),
to show that time grows linearly with the raw data and memory stays flat; and the full build with `--workers`
processes reading the sources (its speed-up over one process, and the same bytes).

Each build runs in a fresh process so that its peak resident memory (ru_maxrss) is its own, with its own empty
cache folder except the replaying one, which reads the logs the full build wrote.

    .venv/bin/python benchmarks/mixture_build.py [--replicate 4] [--small 16] [--workers 2]

(the raw and evaluation data as every command finds them: the variables, else the fetched copies).

    .venv/bin/python benchmarks/mixture_build.py --against REV [--repeats 5]

instead times the default full build (`ecomgpt-data build --no-cache`) of this checkout against the same command
in a git worktree of revision REV (its own sources and code), alternating the two `--repeats` times, since
this machine's speed drifts by up to 25% between minutes: each pair's ratio, and the median and the fastest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
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


def child(copies: int, out: Path, per_task: int, cache: bool, workers: int = 1) -> None:
    from ecomgpt_data import sources
    from ecomgpt_data.config import MixtureConfig
    from ecomgpt_data.mixture import build

    registry = sources.load_sources()
    if copies > 1:
        for name, source in list(registry.items()):
            registry[name] = replicated(source, copies)
    start = time.perf_counter()
    manifest = build(MixtureConfig(per_task=per_task).validate(), out, progress=False, cache=cache, workers=workers)
    seconds = time.perf_counter() - start
    totals = manifest["totals"]
    records = sum(s["records"] for s in manifest["sources"].values())
    digest = hashlib.sha256((out / "mixture.jsonl").read_bytes()).hexdigest()
    print(json.dumps({"copies": copies, "per_task": per_task, "cache": cache, "seconds": seconds, "records": records,
                      "generated": totals["generated"], "selected": totals["selected"],
                      "duplicates": totals.get("duplicates", 0), "sha256": digest,
                      "replayed": len(manifest["selection_logs"]["replayed"]),
                      "logged": len(manifest["selection_logs"]["written"]),
                      "workers": workers, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      # the largest worker's peak (forked: much of it is shared with the parent's pages)
                      "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def run(copies: int, per_task: int = 800, cache: bool = False, cache_dir: str | None = None, workers: int = 1) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ECOMGPT_CACHE_DIR": cache_dir or f"{tmp}/cache"}
        result = subprocess.run([sys.executable, __file__, "--child", str(copies), "--out", f"{tmp}/mix",
                                 "--per-task", str(per_task), "--workers", str(workers),
                                 *([] if cache else ["--no-cache"])],
                                check=True, capture_output=True, text=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed_build(checkout: Path, out: Path, cache_dir: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, mixture SHA-256) of `ecomgpt-data build --no-cache` run from `checkout`."""
    env = {**os.environ, "ECOMGPT_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(checkout)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "ecomgpt_data.cli", "build", "--out", str(out), "--no-cache",
                             "--no-progress"], cwd=checkout, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"mixture_build.py: error: the build in {checkout} failed: {last}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, hashlib.sha256((out / "mixture.jsonl").read_bytes()).hexdigest()


def against(revision: str, repeats: int) -> None:
    """This checkout's full build against REV's, alternating (see the module docstring)."""
    here = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        added = subprocess.run(["git", "-C", str(here), "worktree", "add", "--detach", str(tree), revision],
                               capture_output=True, text=True)
        if added.returncode != 0:
            sys.exit(f"mixture_build.py: error: --against {revision}: git could not check it out "
                     f"({(added.stderr.strip().splitlines() or ['no message'])[-1]}); give a commit of this repository")
        try:
            pairs = []
            for number in range(1, repeats + 1):
                runs = {}
                for label, checkout in (("baseline", tree), ("this", here)):
                    out = Path(tmp) / f"out-{label}-{number}"
                    runs[label] = timed_build(checkout, out, Path(tmp) / "cache")
                    shutil.rmtree(out)
                pairs.append(runs)
                (bw, bc, bsha), (tw, tc, tsha) = runs["baseline"], runs["this"]
                print(f"pair {number} of {repeats}: {revision} {bw:5.1f} s (CPU {bc:5.1f} s, {bsha[:8]}), this "
                      f"{tw:5.1f} s (CPU {tc:5.1f} s, {tsha[:8]}): ratio {tw / bw:.2f} (CPU {tc / bc:.2f})", flush=True)
        finally:
            subprocess.run(["git", "-C", str(here), "worktree", "remove", "--force", str(tree)], check=False,
                           capture_output=True)
    ratios = sorted(p["this"][0] / p["baseline"][0] for p in pairs)
    cpu_ratios = sorted(p["this"][1] / p["baseline"][1] for p in pairs)
    fastest = min(p["this"][0] for p in pairs) / min(p["baseline"][0] for p in pairs)
    print(f"this / {revision}: median pair ratio {statistics.median(ratios):.2f} (CPU {statistics.median(cpu_ratios):.2f}), "
          f"fastest / fastest {fastest:.2f}, pair ratios {', '.join(f'{r:.2f}' for r in ratios)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicate", type=int, default=4)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--small", type=int, default=16, help="the per-task size of the small build compared with the full one")
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--per-task", type=int, default=800, help=argparse.SUPPRESS)
    parser.add_argument("--no-cache", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel full build (default 2)")
    parser.add_argument("--against", metavar="REV", help="only compare the full build with git revision REV's")
    parser.add_argument("--repeats", type=int, default=5, help="pairs of builds for --against (default 5)")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out, args.per_task, cache=not args.no_cache, workers=args.workers)
        return
    from ecom_tasks.data import eval_dir
    from ecomgpt_core.errors import EcomGPTError
    from ecomgpt_data.raw import locate_raw

    try:  # found as every command finds them; the child builds find the same folders
        os.environ["ECOMGPT_RAW_DIR"], os.environ["ECOMGPT_EVAL_DIR"] = str(locate_raw()), str(eval_dir())
    except EcomGPTError as error:
        sys.exit(f"mixture_build.py: error: {error}")
    if args.against:
        against(args.against, args.repeats)
        return
    with tempfile.TemporaryDirectory() as cache_dir:
        base = run(1)
        logging = run(1, cache=True, cache_dir=cache_dir)
        replayed = run(1, args.small, cache=True, cache_dir=cache_dir)
    small = run(1, args.small)
    big = run(args.replicate)
    parallel = run(1, workers=args.workers)
    for label, r in (("full, no cache", base), ("full, writing logs", logging), ("small, replayed", replayed),
                     ("small, no cache", small), (f"x{args.replicate}, no cache", big),
                     (f"full, {args.workers} workers", parallel)):
        print(f"{label:20} x{r['copies']} per-task {r['per_task']:>4}: {r['records']:>8,} records  "
              f"{r['generated']:>9,} instances  {r['selected']:>6,} selected  {r['seconds']:6.1f} s  "
              f"{r['generated'] / r['seconds']:8,.0f} inst/s  peak RSS {r['peak_rss_mb']:6.0f} MB  "
              f"duplicates {r['duplicates']:,}  replayed {r['replayed']} / logged {r['logged']} sources  "
              f"sha256 {r['sha256'][:12]}")
    print(f"ratio x{args.replicate} / x1: records {big['records'] / base['records']:.2f}, "
          f"time {big['seconds'] / base['seconds']:.2f}, peak memory {big['peak_rss_mb'] / base['peak_rss_mb']:.2f}")
    print(f"ratio writing logs / no cache (full): time {logging['seconds'] / base['seconds']:.2f}; same mixture: "
          f"{logging['sha256'] == base['sha256']}")
    print(f"ratio 1 process / {args.workers} workers (full, no cache): time {base['seconds'] / parallel['seconds']:.2f}x "
          f"faster; parent peak {parallel['peak_rss_mb']:.0f} MB + largest worker {parallel['worker_peak_rss_mb']:.0f} MB "
          f"(1 process: {base['peak_rss_mb']:.0f} MB); same mixture: {parallel['sha256'] == base['sha256']}")
    print(f"ratio per-task {args.small} / per-task 800: replayed {replayed['seconds'] / base['seconds']:.2f}, "
          f"no cache {small['seconds'] / base['seconds']:.2f}; same mixture: {replayed['sha256'] == small['sha256']}")


if __name__ == "__main__":
    main()
