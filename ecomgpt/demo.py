"""`ecomgpt demo`: the whole pipeline on this machine, offline, in a few minutes - a smoke run.

Build a small mixture from the raw datasets, make a tiny random BLOOM-architecture model locally, fine-tune it
for a few steps with the 560m recipe through `accelerate launch` on the CPU, evaluate the untrained and the
trained model on `ecom_unseen` with a small `--limit`, and write the tables and plots. The scores of a model
this small say nothing about EcomGPT; the run shows that every stage works and where its outputs go.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ecomgpt_core.errors import EcomGPTError
from ecomgpt_core.locations import raw_dir as resolve_raw_dir

BANNER = """\
=====================================================================================================
 ecomgpt demo - a SMOKE RUN of the whole pipeline with a TINY RANDOM model (BLOOM architecture, hidden
 64, 2 layers, a tokenizer trained here). Its scores are near zero and mean nothing about EcomGPT; the
 point is that every stage runs. For real numbers, train bigscience/bloomz-* with recipes/ on GPUs.
====================================================================================================="""


class DemoError(EcomGPTError):
    pass


def _stage(number: int, text: str) -> None:
    print(f"\n[{number}/5] {text}", flush=True)


def _run(command: list[str], stage: str) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(command, env=env)
    if result.returncode != 0:
        raise DemoError(f"{stage} failed (exit {result.returncode}): {' '.join(command)}")


def run_demo(out: Path, raw_dir: str | None = None, sources: list[str] | None = None, per_task: int = 16,
             steps: int = 30, limit: int = 2, max_gen_toks: int = 32, overwrite: bool = False) -> Path:
    from ecom_tasks import TASKS_DIR
    from ecomgpt.results import make_results
    from ecomgpt.tiny_bloom import make_tiny_bloom
    from ecomgpt_data.config import MixtureConfig
    from ecomgpt_data.mixture import build
    from recipes import bloomz_560m

    out = Path(out)
    if out.exists():
        if not overwrite:
            raise DemoError(f"{out} exists; pass --overwrite to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    print(BANNER, flush=True)

    _stage(1, f"building a mixture (at most {per_task} instances per task) from {resolve_raw_dir(raw_dir)}")
    mixture = out / "mixture"
    manifest = build(MixtureConfig(raw_dir=raw_dir, per_task=per_task, sources=list(sources or [])).validate(), mixture)
    print(f"      {manifest['totals']['selected']} instances from {len(manifest['tasks'])} tasks -> {mixture}")

    _stage(2, "making a tiny random BLOOM-architecture model with a tokenizer trained on the mixture")
    rows = [json.loads(line) for line in (mixture / "mixture.jsonl").read_text(encoding="utf-8").splitlines()]
    untrained = make_tiny_bloom(out / "model-untrained", [r["prompt"] + "\n" + r["response"] for r in rows],
                                vocab_size=2000, hidden_size=64)
    print(f"      -> {untrained}")

    _stage(3, f"fine-tuning it for {steps} steps with recipes/bloomz_560m.py through `accelerate launch` on the CPU")
    trained = out / "model-trained"
    _run([sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1", "--num_machines", "1",
          "--mixed_precision", "no", "--dynamo_backend", "no", bloomz_560m.__file__,
          "--model_name_or_path", str(untrained), "--train_file", str(mixture), "--output_dir", str(trained),
          "--max_steps", str(steps), "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "1",
          "--learning_rate", "1e-3", "--warmup_steps", "0.1", "--max_length", "512", "--logging_steps", "5",
          "--save_steps", "100000", "--disable_tqdm", "true"], "fine-tuning")
    print(f"      -> {trained}")

    _stage(4, f"evaluating both models on ecom_unseen with --limit {limit} (lm-eval, hf model, CPU)")
    runs = []
    for name, model in (("untrained", untrained), ("trained", trained)):
        target = out / "eval" / name
        _run([sys.executable, "-m", "lm_eval", "--include_path", str(TASKS_DIR), "--tasks", "ecom_unseen",
              "--model", "hf", "--model_args", f"pretrained={model},dtype=float32", "--device", "cpu",
              "--batch_size", "8", "--limit", str(limit), "--gen_kwargs", f"max_gen_toks={max_gen_toks}",
              "--output_path", str(target)], f"evaluating the {name} model")
        runs.append(target)

    _stage(5, "writing the tables and plots")
    results = out / "results"
    _, warnings = make_results(runs, results, ["tiny BLOOM, untrained", f"tiny BLOOM, {steps} steps"],
                               plot_limited=True)
    for warning in warnings:
        print(f"      warning: {warning}")
    print(f"""
Done (smoke run of a tiny random model). Outputs in {out}:
  mixture/          the training mixture (mixture.jsonl, dataset/, manifest.json)
  model-untrained/  the tiny random model;  model-trained/  after {steps} steps (+ training_summary.json)
  eval/             lm-eval results of both models
  results/          results.md, tables as .md / .csv / .tex, table4_bars.png
The real thing: recipes/README.md (BLOOMZ on GPUs), then ecomgpt-results on the lm-eval output folders.""")
    return out
