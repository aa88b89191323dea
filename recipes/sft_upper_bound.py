"""The paper's SFT upper bound (Table 4, "SFT (7b1)"): one model per held-out task, fine-tuned on that task's
own training data only, evaluated on that task, and the scores gathered into one run.

    ecomgpt-data heldout-train --heldout-dir ../shared/heldout_train --out heldout
    python recipes/sft_upper_bound.py --data heldout --out outputs/sft-upper-bound \\
        --accelerate-config recipes/accelerate_configs/fsdp.yaml --num-processes 4
    ecomgpt-results outputs/sft-upper-bound/results --paper-models "SFT (7b1)" --out results/upper-bound

For each task folder under `--data` this runs `accelerate launch recipes/bloomz_7b1.py` (the paper's settings;
`--recipe` picks another scale) with `--train_file` that folder, then lm-eval on the task alone (the release
profile by default, whose numbers sit beside the paper's), and finally writes `OUT/results/SFT_ours/
results_*.json`: one lm-eval-style results file whose model is "SFT (ours)", holding every task that was
trained, so that `ecomgpt-results` shows one row and the tasks without data as gaps. A task whose model is
already trained (its `training_summary.json` exists) is not trained again: rerun after an interruption.
Arguments after `--` go to the recipe (e.g. `-- --max_steps 3` for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ecom_tasks import TASKS_DIR
from ecom_tasks.release import TASK_NAMES, Profile
from ecomgpt_core.errors import EcomGPTError, run_command
from ecomgpt_core.files import write_atomic

RECIPES = ("bloomz_560m", "bloomz_1b7", "bloomz_3b", "bloomz_7b1")
MODEL_LABEL = "SFT (ours)"
RECIPES_DIR = Path(__file__).resolve().parent


class UpperBoundError(EcomGPTError):
    pass


def task_folders(data: Path, wanted: list[str]) -> dict[str, Path]:
    """Task name -> its training folder (written by `ecomgpt-data heldout-train`)."""
    if not data.is_dir():
        raise UpperBoundError(f"--data {data} is not a folder; write it with `ecomgpt-data heldout-train`")
    found = {}
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        manifest = folder / "manifest.json"
        if manifest.is_file() and json.loads(manifest.read_text(encoding="utf-8")).get("heldout_train"):
            found[folder.name] = folder
    unknown = [t for t in wanted if t not in found]
    if unknown:
        raise UpperBoundError(f"--tasks {', '.join(unknown)}: no such task folder under {data} (it has "
                              f"{', '.join(found) or 'none'})")
    if not found:
        raise UpperBoundError(f"{data} holds no task folder of `ecomgpt-data heldout-train`")
    return {t: found[t] for t in (wanted or found)}


def run(command: list[str], what: str) -> None:
    print(f"[sft-upper-bound] {what}: {' '.join(command)}", flush=True)
    result = subprocess.run(command)
    if result.returncode != 0:
        raise UpperBoundError(f"{what} failed (exit {result.returncode})")


def newest_results(folder: Path) -> Path:
    files = sorted(folder.rglob("results_*.json"), key=lambda p: p.name)
    if not files:
        raise UpperBoundError(f"lm-eval wrote no results_*.json under {folder}")
    return files[-1]


def merged_results(per_task: dict[str, dict], limit: float | None) -> dict:
    """One lm-eval-style results document from each task's own run (its task entries only)."""
    results, versions, configs = {}, {}, {}
    for task, data in per_task.items():
        for name, values in data["results"].items():
            if Profile.base(name) == task:
                results[name] = values
                versions[name] = (data.get("versions") or {}).get(name)
                configs[name] = (data.get("configs") or {}).get(name)
    return {"results": results, "versions": versions, "configs": configs,
            "config": {"model": "hf", "model_args": f"pretrained={MODEL_LABEL}", "limit": limit,
                       "per_task_models": {task: data["config"].get("model_args") for task, data in per_task.items()}}}


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     allow_abbrev=False)
    parser.add_argument("--data", type=Path, required=True, help="the OUT folder of `ecomgpt-data heldout-train`")
    parser.add_argument("--out", type=Path, default=Path("outputs/sft-upper-bound"))
    parser.add_argument("--recipe", choices=RECIPES, default="bloomz_7b1", help="the scale (paper: bloomz_7b1)")
    parser.add_argument("--model_name_or_path", help="another base model than the recipe's")
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: every folder under --data)")
    parser.add_argument("--accelerate-config", help="an accelerate config file (recipes/accelerate_configs/...)")
    parser.add_argument("--num-processes", type=int, default=1)
    parser.add_argument("--profile", type=Profile, choices=list(Profile), default=Profile.RELEASE,
                        help="score with the release profile (beside the paper's numbers) or the default one")
    parser.add_argument("--limit", type=float, help="lm-eval --limit (a smoke run; not comparable with the paper)")
    parser.add_argument("--device", default=None, help="lm-eval device (default: cuda when available, else cpu)")
    parser.add_argument("--batch-size", default="auto", help="lm-eval batch size")
    parser.add_argument("--max-gen-toks", type=int, help="lm-eval max_gen_toks (default: the task's)")
    return parser.parse_args(argv), extra


def upper_bound(args: argparse.Namespace, extra: list[str]) -> Path:
    import torch

    tasks = task_folders(args.data, [t.strip() for t in args.tasks.split(",") if t.strip()])
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = "bfloat16" if device.startswith("cuda") else "float32"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "-q", "--num_processes", str(args.num_processes)]
    if args.accelerate_config:
        launch += ["--config_file", args.accelerate_config]
    elif device == "cpu":
        # `--cpu` starts one process whatever --num_processes says (the recipe refuses that); several CPU
        # processes train together as DDP over gloo when launched as "multi-GPU"
        launch += ["--multi_gpu" if args.num_processes > 1 else "--cpu", "--num_machines", "1", "--mixed_precision",
                   "no", "--dynamo_backend", "no"]
    per_task = {}
    for number, (task, folder) in enumerate(tasks.items(), 1):
        model = args.out / "models" / task
        if (model / "training_summary.json").is_file():
            print(f"[sft-upper-bound] task {number} of {len(tasks)}: {task}: already trained ({model})", flush=True)
        else:
            command = [*launch, str(RECIPES_DIR / f"{args.recipe}.py"), "--train_file", str(folder),
                       "--output_dir", str(model), *extra]
            if args.model_name_or_path:
                command += ["--model_name_or_path", args.model_name_or_path]
            run(command, f"task {number} of {len(tasks)}: training {task}")
        name = args.profile.task(task)
        evaluation = args.out / "eval" / task
        command = [sys.executable, "-m", "lm_eval", "--include_path", str(TASKS_DIR), "--tasks", name, "--model", "hf",
                   "--model_args", f"pretrained={model},dtype={dtype}", "--device", device,
                   "--batch_size", str(args.batch_size), "--output_path", str(evaluation), "--log_samples"]
        if args.limit is not None:
            command += ["--limit", f"{args.limit:g}"]
        if args.max_gen_toks:
            command += ["--gen_kwargs", f"max_gen_toks={args.max_gen_toks}"]
        run(command, f"task {number} of {len(tasks)}: evaluating {task}")
        per_task[task] = json.loads(newest_results(evaluation).read_text(encoding="utf-8"))
    document = merged_results(per_task, args.limit)
    target = args.out / "results" / "SFT_ours" / f"results_{time.strftime('%Y-%m-%dT%H-%M-%S')}.json"
    write_atomic(target, json.dumps(document, indent=2, default=str) + "\n")
    missing = sorted(set(TASK_NAMES.values()) - set(per_task))
    print(f"[sft-upper-bound] wrote {target}: {len(per_task)} task(s) as '{MODEL_LABEL}'"
          + (f"; no model for {len(missing)} (gaps in the tables)" if missing else "")
          + f". Next: ecomgpt-results {args.out / 'results'} --paper-models \"SFT (7b1)\" --out results/upper-bound")
    return target


def main(argv: list[str] | None = None) -> int:
    args, extra = parse(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return run_command("sft_upper_bound", lambda: upper_bound(args, extra) and 0)


if __name__ == "__main__":
    sys.exit(main())
