"""`ecomgpt demo`: the whole pipeline on this machine, offline, in about two minutes - a smoke run.

Build a small mixture from three raw datasets (their classification tasks), make a tiny random
BLOOM-architecture model locally, fine-tune it with the 560m recipe through `accelerate launch` on the CPU,
evaluate the untrained and the trained model on four classification tasks of `ecom_unseen` with `--limit`,
and write the tables, the plots and the loss curve. The configuration is chosen so that training shows: the
trained model learns the answer format and the label prior (it answers "not match" to every matching
question), which beats the untrained model's empty answers on the matching tasks. That is all it learns; its
scores say nothing about EcomGPT.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ecomgpt_core.errors import EcomGPTError
from ecomgpt_data.raw import locate_raw as resolve_raw_dir
from ecomgpt_core.files import write_atomic

# Classification tasks whose answers ("match" / "not match", "same" / "not same", topics) a tiny model can
# learn the format and prior of in a couple of minutes on 2 cores; the sources give such tasks to train on.
DEMO_SOURCES = ("product_matching_magellan", "ecd_ecommerce_dialogue_sample", "semeval_absa_laptops")
DEMO_TASKS = ("ecom_multicpr_query_item_matching", "ecom_openbg_title_attribute_matching", "ecom_openbg_item_align",
              "ecom_absa_review_topic")
DEMO_PARADIGMS_LEFT_OUT = ("EXT", "GEN", "NER")

BANNER = """\
=====================================================================================================
 ecomgpt demo - a SMOKE RUN of the whole pipeline with a TINY RANDOM model (BLOOM architecture, hidden
 64, 2 layers, a tokenizer trained here). Fine-tuning teaches it the answer format and the most common
 label, nothing more: its scores mean nothing about EcomGPT; the point is that every stage runs and that
 training shows. For real numbers, train bigscience/bloomz-* with recipes/ on GPUs.
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


def loss_curve(log_history: list[dict]):
    """The training loss per logged step (the Trainer's log history), as a matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(entry["step"], entry["loss"]) for entry in log_history if "loss" in entry and "step" in entry]
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot([x for x, _ in points], [y for _, y in points], marker=".")
    axis.set_xlabel("step")
    axis.set_ylabel("training loss (response tokens)")
    axis.set_title("ecomgpt demo: fine-tuning the tiny model")
    figure.tight_layout()
    return figure


def comparison_lines(untrained, trained, tasks: list[str]) -> tuple[list[str], list[str]]:
    """(a per-task micro-F1 table of the two runs, the tasks where the trained model scores higher)."""
    lines = [f"      {'task':<40} {'untrained':>10} {'trained':>10}"]
    better = []
    for task in tasks:
        before = untrained.scores.get(task, {}).get("micro_f1")
        after = trained.scores.get(task, {}).get("micro_f1")
        show = lambda value: "-" if value is None else f"{value:.1f}"  # noqa: E731
        lines.append(f"      {task:<40} {show(before):>10} {show(after):>10}")
        if before is not None and after is not None and after > before:
            better.append(task)
    return lines, better


DEMO_MARK = ".ecomgpt-demo"


def is_demo_folder(folder: Path) -> bool:
    """Whether `folder` is the demo's own output (its mark, or an earlier version's comparison and mixture), the
    only kind of folder --overwrite removes."""
    return (folder / DEMO_MARK).is_file() or (
        (folder / "comparison.txt").is_file() and (folder / "mixture" / "manifest.json").is_file())


def run_demo(out: Path, raw_dir: str | None = None, sources: list[str] | None = None, per_task: int = 64,
             steps: int = 150, limit: int = 24, max_gen_toks: int = 8, overwrite: bool = False,
             tasks: list[str] | None = None, learning_rate: float = 3e-3) -> Path:
    from ecom_tasks import TASKS_DIR
    from ecomgpt.results import make_results, save_figure
    from ecomgpt.tiny_bloom import make_tiny_bloom
    from ecomgpt_data.config import MixtureConfig
    from ecomgpt_data.mixture import build
    from ecomgpt_data.mixture_folder import read_rows
    from recipes import bloomz_560m

    sources, tasks = list(sources or DEMO_SOURCES), list(tasks or DEMO_TASKS)
    out = Path(out)
    if out.exists():
        if not overwrite:
            raise DemoError(f"{out} exists; pass --overwrite to replace it")
        if not is_demo_folder(out):
            raise DemoError(f"{out} exists and is not a folder `ecomgpt demo` wrote, so --overwrite does not replace "
                            "it; choose a new --out, or remove it yourself")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / DEMO_MARK).write_text("written by `ecomgpt demo`; `ecomgpt demo --overwrite` may replace this folder\n",
                                 encoding="utf-8")
    print(BANNER, flush=True)

    _stage(1, f"building a mixture of the classification tasks of {', '.join(sources)} (at most {per_task} "
              f"instances per task) from {resolve_raw_dir(raw_dir)}")
    mixture = out / "mixture"
    config = MixtureConfig(raw_dir=raw_dir, per_task=per_task, sources=sources,
                           drop_paradigms=list(DEMO_PARADIGMS_LEFT_OUT))
    manifest = build(config.validate(), mixture, progress=False)
    print(f"      {manifest['totals']['selected']} instances from {len(manifest['tasks'])} tasks -> {mixture}")

    _stage(2, "making a tiny random BLOOM-architecture model with a tokenizer trained on the mixture")
    rows = read_rows(mixture)
    untrained = make_tiny_bloom(out / "model-untrained", [r["prompt"] + "\n" + r["response"] for r in rows],
                                vocab_size=2000, hidden_size=64)
    print(f"      -> {untrained}")

    _stage(3, f"fine-tuning it for {steps} steps with recipes/bloomz_560m.py through `accelerate launch` on the CPU")
    trained = out / "model-trained"
    _run([sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1", "--num_machines", "1",
          "--mixed_precision", "no", "--dynamo_backend", "no", bloomz_560m.__file__,
          "--model_name_or_path", str(untrained), "--train_file", str(mixture), "--output_dir", str(trained),
          "--max_steps", str(steps), "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "1",
          "--learning_rate", str(learning_rate), "--warmup_steps", "0.1", "--max_length", "512",
          "--logging_steps", "5", "--save_steps", "100000", "--disable_tqdm", "true"], "fine-tuning")
    summary = json.loads((trained / "training_summary.json").read_text(encoding="utf-8"))
    save_figure(loss_curve(summary["log_history"]), out / "training_loss.png")
    print(f"      -> {trained}; loss curve -> {out / 'training_loss.png'}")

    _stage(4, f"evaluating both models on {len(tasks)} tasks of ecom_unseen with --limit {limit} (lm-eval, hf, CPU)")
    runs = []
    for name, model in (("untrained", untrained), ("trained", trained)):
        target = out / "eval" / name
        _run([sys.executable, "-m", "lm_eval", "--include_path", str(TASKS_DIR), "--tasks", ",".join(tasks),
              "--model", "hf", "--model_args", f"pretrained={model},dtype=float32", "--device", "cpu",
              "--batch_size", "8", "--limit", str(limit), "--gen_kwargs", f"max_gen_toks={max_gen_toks}",
              "--output_path", str(target), "--log_samples"], f"evaluating the {name} model")
        runs.append(target)

    _stage(5, "writing the tables and plots")
    results = out / "results"
    read, warnings = make_results(runs, results, ["tiny BLOOM, untrained", f"tiny BLOOM, {steps} steps"],
                                  plot_limited=True)
    missing = [w for w in warnings if w.endswith(" is missing")]
    for warning in warnings:
        if warning not in missing:
            print(f"      warning: {warning}")
    if missing:
        print(f"      (the demo evaluates {len(tasks)} of the 12 tasks: the others show as missing in the tables)")
    lines, better = comparison_lines(read[0], read[1], tasks)
    print("\n      micro-F1 on the first {} records of each task:\n{}".format(limit, "\n".join(lines)))
    verdict = (f"      the trained model scores higher on {len(better)} of {len(tasks)} tasks ({', '.join(better)})"
               if better else "      the trained model scores no higher than the untrained one on any task")
    print(verdict + ": it has learned the answer format and the most common label, not the tasks.")
    write_atomic(out / "comparison.txt", "\n".join(lines + [verdict.strip()]) + "\n")
    print(f"""
Done. This was a SMOKE RUN of a tiny random model: its numbers test the pipeline, not EcomGPT. Outputs in {out}:
  mixture/            the training mixture (mixture.jsonl, dataset/, manifest.json)
  model-untrained/    the tiny random model;  model-trained/  after {steps} steps (+ training_summary.json)
  training_loss.png   the loss curve;  comparison.txt  the table above
  eval/               lm-eval results and samples of both models
  results/            results.md, tables as .md / .csv / .tex, table4_bars.png
The real thing: recipes/README.md (BLOOMZ on GPUs), then ecomgpt-results on the lm-eval output folders.""")
    return out
