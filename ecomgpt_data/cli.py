"""`ecomgpt-data fetch`, `build`, `stats`, `pseudo-label` and `heldout-train`."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from ecomgpt_core.errors import run_command
from ecomgpt_core.openai_client import cost_text
from ecomgpt_core.options import add_per_task, add_runner_options, add_seed
from ecomgpt_data.config import add_build_options, load_config
from ecomgpt_data.errors import BuildError
from ecomgpt_data.mixture import build


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecomgpt-data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    f = commands.add_parser("fetch", help="download the raw training sources (or, with --heldout, the held-out "
                                          "training splits) from their public origins, each file checked by SHA-256")
    f.add_argument("--dest", type=Path, metavar="DIR", help="target folder (default: the per-user cache, where every command looks)")
    f.add_argument("--source", dest="sources", nargs="+", action="extend", default=[], metavar="NAME",
                   help="only these source folders (default: all)")
    f.add_argument("--heldout", action="store_true", help="the held-out datasets' public training splits (for the "
                   "SFT upper bound only, never for a mixture) instead of the raw sources")
    f.add_argument("--base-url", dest="base_url", metavar="URL", help="a mirror with the layout <owner>/<repo>/<commit>/<path> "
                   "(default: $ECOMGPT_DATA_BASE_URL, else https://raw.githubusercontent.com)")
    f.add_argument("--from", dest="source_dir", type=Path, metavar="DIR",
                   help="import a local copy laid out like the destination instead of downloading (hashes checked)")
    f.add_argument("--force", action="store_true", help="fetch again files already verified")
    f.add_argument("--no-progress", action="store_true")

    b = commands.add_parser("build", help="build a training mixture from raw e-commerce datasets")
    b.add_argument("--out", required=True, type=Path, help="output folder (written atomically)")
    b.add_argument("--config", type=Path, help="mixture YAML (configs/mixture.yaml lists every key); options "
                                               "given on the command line override it")
    b.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    b.add_argument("--workers", type=int, default=1, metavar="N",
                   help="processes reading the sources in parallel (default 1); the output is the same for every N")
    b.add_argument("--no-progress", action="store_true")
    b.add_argument("--no-cache", action="store_true", help="neither replay nor write selection logs (the cache that "
                   "makes a build no larger than an earlier one take seconds; see ecomgpt_data/selection_log.py)")
    add_build_options(b)

    p = commands.add_parser("pseudo-label", help="pseudo-labelled atomic tasks from input-only records, by an "
                                                 "OpenAI(-compatible) model; needs OPENAI_API_KEY for OpenAI")
    p.add_argument("--out", required=True, type=Path, help="output folder (merge it with build --pseudo)")
    p.add_argument("--model", required=True, help="e.g. gpt-3.5-turbo")
    p.add_argument("--raw-dir", dest="raw_dir", help="raw data folder (default: $ECOMGPT_RAW_DIR, else the fetched copy)")
    p.add_argument("--base-url", dest="base_url", help="an OpenAI-compatible server (default: OpenAI)")
    p.add_argument("--task", dest="tasks", action="append", default=[], help="only these pseudo tasks (repeatable)")
    add_per_task(p, 100, "records labelled per task")
    add_seed(p)
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="print the calls and cost, spend nothing")
    add_runner_options(p)

    h = commands.add_parser("heldout-train", help="the SFT upper bound's data: per held-out task, its own training "
                                                  "split as that task's evaluation prompts (never for the mixture)")
    h.add_argument("--heldout-dir", type=Path, help="the folder with ABSA/, Reddit_QA/, MEPAVE/ (default: "
                   "$ECOMGPT_HELDOUT_DIR, else the copy `ecomgpt-data fetch --heldout` puts in the cache)")
    h.add_argument("--jsonl", action="append", default=[], metavar="TASK=FILE",
                   help="a task's training records in the released format (JSON Lines of `sentences` + `labels` / "
                        "`spans`, as in its test.json); TASK is the eval task (ecom_lenovo_ner) or its folder name")
    h.add_argument("--out", required=True, type=Path, help="writes OUT/<task>/ per task, and OUT/heldout_train.json")
    add_per_task(h, 800, "training instances per task (paper: 800)")
    add_seed(h)
    h.add_argument("--eval-dir", dest="eval_dir", help="the evaluation sets (default $ECOMGPT_EVAL_DIR, then the fetched copy)")
    h.add_argument("--overwrite", action="store_true", help="replace task folders written before")

    s = commands.add_parser("stats", help="print a task / paradigm / language table of a built mixture")
    s.add_argument("mixture", type=Path, help="a folder written by build (or its mixture.jsonl)")
    return parser


def run_fetch(args: argparse.Namespace) -> int:
    import os

    from ecomgpt_data import fetch, heldout, raw

    owner = heldout if args.heldout else raw
    registry = fetch.select(owner.registry(), args.sources, "held-out folder" if args.heldout else "source")
    dest = args.dest if args.dest is not None else owner.KIND.cached()
    files = sum(len(s["files"]) for s in registry.values())
    if args.source_dir is not None:
        report = fetch.import_folders(registry, args.source_dir, dest, args.force)
        print(f"wrote {dest}: {report['copied']} of {files} files imported from {args.source_dir}, "
              f"{report['already_verified']} already there and verified")
    else:
        report = fetch.fetch_folders(registry, dest, args.base_url or os.environ.get(fetch.BASE_URL_ENV), args.force,
                                     progress=not args.no_progress)
        print(f"wrote {dest}: {report['downloaded']} of {files} files downloaded ({report['bytes'] / 1e6:.1f} MB), "
              f"{report['already_verified']} already there and verified")
    if args.dest is not None:
        option = "--heldout-dir" if args.heldout else "--raw-dir"
        print(f"  use it with {option} {dest} (or export {owner.KIND.variable}={dest})")
    return 0


def run_pseudo_label(args: argparse.Namespace) -> int:
    from ecomgpt_data.pseudo import pseudo_label

    options = {k: v for k, v in vars(args).items() if k != "command"}
    result = pseudo_label(**options)
    if args.dry_run:
        print(f"dry run: {result['calls']} calls to {result['model']} ({result['distinct']} distinct requests, "
              f"the rest cached), about {result['prompt_tokens_estimate']:,} prompt tokens and at most "
              f"{result['completion_tokens_max']:,} completion tokens; estimated cost "
              + cost_text(result["cost_usd_estimate"]))
        print("  per task: " + ", ".join(f"{k} {v}" for k, v in result["per_task"].items()))
        return 0
    usage = result["usage"]
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v['instances']}" for k, v in result["tasks"].items()))
    print(f"  {usage['calls']} calls, {usage['cached']} from the cache, cost "
          + (f"US$ {usage['cost_usd']:.4f}" if usage["cost_usd"] is not None else "unknown"))
    return 0


# `build` arguments that are not MixtureConfig options (they do not change what the mixture holds)
BUILD_ARGS_NOT_CONFIG = ("command", "out", "config", "overwrite", "no_progress", "no_cache", "workers")


def run_build(args: argparse.Namespace) -> int:
    options = {k: v for k, v in vars(args).items() if k not in BUILD_ARGS_NOT_CONFIG}
    config = load_config(args.config, options)
    config_dir = args.config.parent if args.config else Path.cwd()
    manifest = build(config, args.out, overwrite=args.overwrite, config_dir=config_dir, progress=not args.no_progress,
                     cache=not args.no_cache, workers=args.workers)
    totals = manifest["totals"]
    print(f"wrote {args.out}: {totals.get('selected', 0)} instances from {len(manifest['tasks'])} tasks")
    logs = manifest["selection_logs"]
    if logs["replayed"] or logs["written"]:
        print(f"  selection logs ({logs['folder']}): {len(logs['replayed'])} of {len(manifest['sources'])} sources "
              f"replayed, {len(logs['written'])} written (--no-cache: neither)")
    if manifest["raw_files_differing_from_snapshot"]:
        print(f"  warning: {len(manifest['raw_files_differing_from_snapshot'])} raw file(s) differ from the snapshots "
              "their SOURCE.md names (listed in manifest.json; --strict makes this an error)")
    guard = manifest["guard"]
    if guard.get("disabled"):
        print("  held-out guard: DISABLED (--unsafe-no-guard); never train on this for a held-out evaluation")
    else:
        rules = guard["dropped_records_by_rule"]
        checked = sum(r.get("guard_checked_records", 0) for r in manifest["sources"].values())
        print(f"  held-out guard: {checked:,} records checked (those with an instance that could be selected), "
              f"{sum(rules.values())} dropped (" + ", ".join(f"{r} {n}" for r, n in rules.items())
              + f"); {guard['held_out_texts']} held-out texts guarded, with "
              + f"{sum(guard['parts_guarded_by']['part'].values()):,} titles and other parts inside them and "
              + f"{sum(guard['parts_guarded_by']['answer'].values()):,} gold answers"
              + (f", {guard['unguarded']} unguardable (no letter or digit; listed in manifest.json)"
                 if guard["unguarded"] else "") + "; dropped pairs in manifest.json")
    print("  instances: {generated:,} generated, {filtered:,} filtered out, {dup:,} duplicates, {guard:,} that could "
          "have been selected dropped by the held-out guard, {over:,} over the per-task quota, {selected:,} selected"
          .format(generated=totals.get("generated", 0), guard=totals.get("guard_dropped", 0),
                  filtered=sum(totals.get(k, 0) for k in ("empty_output", "empty_input", "too_long", "quality_dropped")),
                  dup=totals.get("duplicates", 0), over=totals.get("over_quota", 0), selected=totals.get("selected", 0)))
    for name, report in manifest["sources"].items():
        if report["malformed"] or report["skipped"]:
            print(f"  {name}: {report['malformed']} malformed skipped, skipped {report['skipped']}")
    return 0


def run_heldout_train(args: argparse.Namespace) -> int:
    from ecomgpt_data.heldout import heldout_train

    jsonl = {}
    for given in args.jsonl:
        task, sep, path = given.partition("=")
        if not sep or not task or not path:
            raise BuildError(f"--jsonl {given!r}: expected TASK=FILE")
        jsonl[task] = Path(path)
    summary = heldout_train(args.heldout_dir, args.out, args.per_task, args.seed, jsonl, args.eval_dir, args.overwrite)
    kept = [name for name in summary["built"] if name not in summary["written"]]
    for name in summary["written"]:
        report = summary["built"][name]
        print(f"wrote {report['folder']}: {report['selected']} instances of {report['records']} {report['source']} "
              f"records; {report['dropped_overlapping_test']} dropped as overlapping the test set"
              + (f" ({report['note']})" if report["note"] else ""))
    if kept:
        print(f"kept {len(kept)} task folder(s) an earlier call wrote there: {', '.join(kept)}")
    print(f"no training data for {len(summary['without_data'])} task(s):")
    for name, why in summary["without_data"].items():
        print(f"  {name}: {why}")
    print(f"summary in {args.out / 'heldout_train.json'}; train with recipes/sft_upper_bound.py --data {args.out}")
    return 0


def stats_table(rows: list[dict]) -> str:
    by_task = Counter((r["task"], r["paradigm"], r["lang"], r["cot"]) for r in rows)
    width = max([len(t[0]) for t in by_task] + [4])
    lines = [f"{'task':<{width}}  paradigm  lang  cot         instances"]
    for (task, paradigm, lang, cot), n in sorted(by_task.items()):
        lines.append(f"{task:<{width}}  {paradigm:<8}  {lang:<4}  {cot:<10}  {n:>9}")
    lines.append("")
    for column in ("paradigm", "lang", "cot"):
        counts = Counter(r[column] for r in rows)
        tasks = Counter(k[("task", "paradigm", "lang", "cot").index(column)] for k in by_task)
        lines.append(f"{column:<9} " + "  ".join(f"{k}: {tasks[k]} tasks / {counts[k]}" for k in sorted(counts)))
    lines.append(f"total     {len(by_task)} tasks / {len(rows)} instances")
    lines += ["", "per source (tasks / instances / share of the instances):"]
    tasks_of = Counter(r["source"] for r in {r["task"]: r for r in rows}.values())
    instances_of = Counter(r["source"] for r in rows)
    source_width = max([len(s) for s in instances_of] + [6])
    for source, n in sorted(instances_of.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {source:<{source_width}}  {tasks_of[source]:>3} tasks  {n:>7} instances  {100 * n / len(rows):5.1f}%")
    lines.append(f"  {len(instances_of)} sources")
    return "\n".join(lines)


def run_stats(path: Path) -> int:
    from ecomgpt_data.mixture_folder import read_rows

    print(stats_table(read_rows(path)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {"fetch": run_fetch, "build": run_build, "stats": lambda a: run_stats(a.mixture),
                "pseudo-label": run_pseudo_label, "heldout-train": run_heldout_train}
    return run_command("ecomgpt-data", lambda: commands[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
