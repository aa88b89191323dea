"""The GPU figures: training throughput, memory and MFU of `recipes/sft.py` for the BLOOMZ 560m / 1b7 shapes, and
generation speed of the suite through lm-eval's `hf` backend. One script, one JSON of figures, so that a single
visit to a GPU machine measures everything.

    python benchmarks/gpu_figures.py --data DIR --out figures.json [--runs 1b7:recipe:32 ...] [--phases train]
    python benchmarks/gpu_figures.py --prepare DIR --mixture MIXTURE_FOLDER   # on any machine, beforehand

`--prepare` writes what the GPU machine cannot make without the hub or the raw data: a sample of a real mixture
(`mixture.jsonl`, so the batches have the real length distribution), a byte-level BPE tokenizer trained on that
mixture (32k entries; BLOOM's own needs the hub), and a copy of the evaluation sets (`eval/`, from
`ECOMGPT_EVAL_DIR`, else the fetched copy).

Models have random weights with the real shapes (`BloomConfig` with the bigscience/bloomz-* dimensions and the real
250,880-entry vocabulary); throughput and memory depend on shapes, not on weights. The tokenizer only uses the
first 32k ids; the random model still computes all 250,880 logits.

Training runs `recipes.sft.build_trainer` with the recipe's own settings (bloomz_560m / bloomz_1b7: bf16 autocast
over fp32 weights, response-only loss, length-grouped sampling, max length 1024) for each `--runs` entry
SHAPE:VARIANT:BATCH, a per-device batch at the recipe's global batch of 32 sequences on one device (accumulation
32 / BATCH; the recipes' own split is 4 x 8). VARIANTS names what each variant changes ("before" is the recipe
as it was before its GPU speed-ups). After `--warmup` optimizer steps it measures non-pad tokens per second
(counted in the collator, in training order, so that no count forces a GPU sync), peak allocated memory,
MFU = 6 * N * tokens/s over the card's dense bf16 peak, the hardware FLOPs utilisation (the matrix FLOPs really
done: padding included, vocabulary logits only where computed; attention scores left out), and the useful-token
fraction of the batches. A probe finds the largest per-device batch whose worst case (every sequence 1024
tokens) still fits.

Generation: the `ecom_unseen` tasks, `--gen-limit` records each, `max_gen_toks` from the task YAMLs, lm-eval `hf`
with `batch_size=auto`; prompts/s and generated tokens/s (counted from the output tensors). A random model never
emits end-of-sequence, so every answer runs to `max_gen_toks`: the worst case.

`--tiny` shrinks every shape for a CPU dry run of the whole script.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHAPES = {  # hidden, layers, heads (bigscience/bloomz-* configs)
    "560m": (1024, 24, 16),
    "1b7": (2048, 24, 16),
    "3b": (2560, 30, 32),
    "7b1": (4096, 30, 32),
}
TINY_SHAPE = (64, 2, 2)
VOCAB = 250880
# Dense bf16 peak of the SXM cards (NVIDIA's data sheets, without sparsity).
PEAK_TFLOPS = {"H100": 989.4, "H200": 989.4, "A100": 312.0}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def peak_tflops(name: str) -> float | None:
    return next((value for key, value in PEAK_TFLOPS.items() if key in name), None)


def prepare(out: Path, mixture: Path, instances: int, seed: int) -> None:
    import random
    import shutil

    from ecomgpt.tiny_bloom import train_tokenizer
    from ecomgpt_data.mixture_folder import read_rows

    rows = read_rows(mixture)
    out.mkdir(parents=True, exist_ok=True)
    train_tokenizer([r["prompt"] + "\n" + r["response"] for r in rows], vocab_size=32000).save_pretrained(out / "tokenizer")
    sample = random.Random(seed).sample(rows, min(instances, len(rows)))
    with (out / "mixture.jsonl").open("w", encoding="utf-8") as handle:
        for r in sample:
            handle.write(json.dumps({"id": r["id"], "prompt": r["prompt"], "response": r["response"]},
                                    ensure_ascii=False) + "\n")
    from ecom_tasks.data import EvalDataError, eval_dir

    try:  # found as every command finds them: $ECOMGPT_EVAL_DIR, else the fetched copy
        source = eval_dir()
    except EvalDataError as error:
        raise SystemExit(f"gpu_figures.py: error: {error}") from None
    shutil.copytree(source, out / "eval", dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))
    print(f"wrote {out}: tokenizer/, mixture.jsonl ({len(sample)} of {len(rows)} instances), eval/")


def make_model(shape: str, tokenizer_dir: Path, out: Path, tiny: bool, vocab: int) -> int:
    """Save a random BLOOM of `shape` (bf16 on disk) with the local tokenizer; returns its parameter count."""
    from transformers import AutoTokenizer, BloomConfig, BloomForCausalLM

    hidden, layers, heads = TINY_SHAPE if tiny else SHAPES[shape]
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = BloomConfig(vocab_size=vocab, hidden_size=hidden, n_layer=layers, n_head=heads,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = BloomForCausalLM(config)
    parameters = sum(p.numel() for p in model.parameters())
    model.to(torch.bfloat16).save_pretrained(out)
    tokenizer.save_pretrained(out)
    del model
    return parameters


def release_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


# What each variant changes against the recipe's defaults (command-line overrides of recipes/sft.py).
VARIANTS = {
    "recipe": [],
    "before": ["--response_only_logits", "False", "--fused_gelu", "False", "--optim", "adamw_torch"],
    "all-logits": ["--response_only_logits", "False"],
    "bloom-gelu": ["--fused_gelu", "False"],
    "adamw-torch": ["--optim", "adamw_torch"],
    "checkpointing": ["--gradient_checkpointing", "True"],
    "compile": ["--torch_compile", "True"],
    "compile-blocks": [],  # the recipe, then each BloomBlock compiled with dynamic shapes (see train_figures)
}
COMPILED_BLOCKS = {"compile-blocks": "dynamic"}
for multiple in (32, 64):
    # lengths padded to a multiple (at most 1024 / multiple shapes), each BloomBlock compiled with static shapes;
    # and the same padding in eager mode, which is what the padding costs
    VARIANTS[f"pad{multiple}"] = VARIANTS[f"compile-blocks-pad{multiple}"] = ["--pad_to_multiple_of", str(multiple)]
    COMPILED_BLOCKS[f"compile-blocks-pad{multiple}"] = "static"
GLOBAL_BATCH = 32  # sequences per optimizer step on one device: the recipes' 4 x 8
DEFAULT_RUNS = ["1b7:recipe:32", "1b7:before:32", "1b7:recipe:4", "1b7:before:4", "1b7:recipe:16", "1b7:recipe:8",
                "560m:recipe:4", "560m:before:4", "560m:recipe:32", "560m:recipe:16", "1b7:all-logits:32",
                "1b7:bloom-gelu:32", "1b7:adamw-torch:32", "1b7:checkpointing:32"]


def parse_run(text: str) -> tuple[str, str, int]:
    shape, variant, batch = (text.split(":") + ["", ""])[:3]
    if shape not in SHAPES or variant not in VARIANTS or not batch.isdigit() or GLOBAL_BATCH % int(batch):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected SHAPE:VARIANT:BATCH with SHAPE in {sorted(SHAPES)}, VARIANT in {sorted(VARIANTS)} "
            f"and BATCH dividing {GLOBAL_BATCH}")
    return shape, variant, int(batch)


def train_figures(model_dir: Path, mixture: Path, recipe, extra: list[str], warmup: int, steps: int,
                  parameters: int, hidden: int, vocab: int, peak: float | None, compile_blocks: str | None = None,
                  profile: bool = False) -> dict:
    from transformers import TrainerCallback

    from recipes.sft import IGNORE_INDEX, build_trainer, parse

    class Meter(TrainerCallback):
        """Times the optimizer steps after the warm-up. `batches` holds (non-pad tokens, padded tokens, positions
        with logits, target tokens, shape) of every batch in the order the collator made them, which is the training
        order; counting there needs no GPU sync (Trainer's `include_num_input_tokens_seen` syncs every batch)."""

        def __init__(self):
            self.start = self.end = None
            self.batches = []
            self.profiler = None

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == warmup:
                synchronize()
                self.start = time.perf_counter()
                if profile:  # the timed steps under torch.profiler (slower: a separate run from the figures)
                    self.profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                                                       torch.profiler.ProfilerActivity.CUDA])
                    self.profiler.start()

        def on_train_end(self, args, state, control, **kwargs):
            synchronize()
            self.end = time.perf_counter()
            if self.profiler is not None:
                self.profiler.stop()

    with tempfile.TemporaryDirectory() as out:
        argv = ["--model_name_or_path", str(model_dir), "--train_file", str(mixture), "--output_dir", out,
                "--max_steps", str(warmup + steps), "--save_strategy", "no", "--logging_steps", "10",
                "--disable_tqdm", "True", *extra]
        script, args = parse(recipe, argv)
        meter = Meter()
        trainer, _, counts, _ = build_trainer(script, args, callbacks=[meter])
        collate = trainer.data_collator

        def counting(features):
            batch = collate(features)
            targets = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
            logits_at = int(batch["logits_to_keep"].sum()) if "logits_to_keep" in batch else batch["labels"].numel()
            meter.batches.append((int(batch["attention_mask"].sum()), batch["attention_mask"].numel(), logits_at,
                                  targets, tuple(batch["input_ids"].shape)))
            return batch

        trainer.data_collator = counting
        if compile_blocks:  # regional compilation: the blocks share one compiled graph (per shape, when static)
            for block in trainer.model.transformer.h:
                block.compile(dynamic=compile_blocks == "dynamic")
        # static shapes: one graph per padded length, 1024 / 32 at most (for this run only, not the later ones)
        recompiles = (torch._dynamo.config.patch(recompile_limit=max(torch._dynamo.config.recompile_limit, 40))
                      if compile_blocks == "static" else contextlib.nullcontext())
        release_memory()
        with recompiles:
            trainer.train()
        seconds = meter.end - meter.start
        accumulation = args.gradient_accumulation_steps
        timed = meter.batches[warmup * accumulation:(warmup + steps) * accumulation]
        real, padded, logits_at, targets = (sum(column) for column in list(zip(*timed))[:4])
        # a shape first met in the timed steps costs a compile there (static shapes): say how often that happened
        warm_shapes = {b[4] for b in meter.batches[:warmup * accumulation]}
        timed_shapes = [b[4] for b in timed]
        head = hidden * vocab  # the tied embedding, used again as the output projection
        result = {"per_device_batch": args.per_device_train_batch_size, "accumulation": accumulation,
                  "optim": getattr(args.optim, "value", str(args.optim)), "response_only_logits": script.response_only_logits,
                  "fused_gelu": script.fused_gelu,
                  "response_only_logits_used": bool(getattr(collate, "response_only_logits", False)),
                  "gradient_checkpointing": bool(args.gradient_checkpointing), "torch_compile": bool(args.torch_compile),
                  "bf16": bool(args.bf16), "pad_to_multiple_of": script.pad_to_multiple_of,
                  "compiled_blocks": compile_blocks, "measured_steps": steps, "timed_batches": len(timed),
                  "distinct_shapes_timed": len(set(timed_shapes)),
                  "shapes_new_in_timed_steps": len(set(timed_shapes) - warm_shapes),
                  "seconds": seconds, "non_pad_tokens": real, "tokens_per_second": real / seconds,
                  "seconds_per_optimizer_step": seconds / steps, "useful_token_fraction": real / max(padded, 1),
                  "target_token_fraction": targets / max(real, 1),
                  "instances": counts["instances"], "prompt_truncated": counts["prompt_truncated"],
                  "final_loss": next((e["loss"] for e in reversed(trainer.state.log_history) if "loss" in e), None)}
        if torch.cuda.is_available():
            result["peak_allocated_gb"] = torch.cuda.max_memory_allocated() / 1e9
            result["peak_reserved_gb"] = torch.cuda.max_memory_reserved() / 1e9
        if meter.profiler is not None:
            result["profile"] = profile_summary(meter.profiler, seconds)
        if peak:
            result["mfu"] = 6 * parameters * result["tokens_per_second"] / (peak * 1e12)
            done = 6 * (parameters - head) * padded + 6 * head * logits_at
            result["hardware_flops_utilisation"] = done / seconds / (peak * 1e12)
        del trainer
    release_memory()
    return result


def profile_summary(profiler, seconds: float) -> dict:
    """Where the GPU time of the profiled steps went: kernel time by kind, against the wall time."""
    kinds = {"matmul": ("gemm", "gemv", "cutlass", "sm90_xmma", "nvjet", "cublas"),
             "attention softmax": ("softmax",), "layer norm": ("layer_norm", "layernorm"),
             "optimizer": ("adam", "multi_tensor"), "copies and casts": ("copy", "cast", "to_copy")}
    totals, kernels = {}, 0.0
    rows = []
    for event in profiler.key_averages():
        device_us = getattr(event, "self_device_time_total", None) or getattr(event, "self_cuda_time_total", 0)
        if not device_us or event.device_type != torch.autograd.DeviceType.CUDA:
            continue
        if getattr(event, "is_user_annotation", False) or event.key.startswith(("Optimizer.", "ProfilerStep")):
            continue  # a span over kernels counted on their own (the first profile counted AdamW.step twice)
        name = event.key.lower()
        kind = next((k for k, marks in kinds.items() if any(m in name for m in marks)), "other elementwise")
        totals[kind] = totals.get(kind, 0.0) + device_us / 1e6
        kernels += device_us / 1e6
        rows.append((device_us / 1e6, event.count, event.key[:120]))
    rows.sort(reverse=True)
    return {"profiled_wall_seconds": seconds, "gpu_kernel_seconds": kernels,
            "gpu_busy_fraction": kernels / seconds if seconds else None,
            "seconds_by_kind": dict(sorted(totals.items(), key=lambda kv: -kv[1])),
            "top_kernels": [{"seconds": t, "calls": n, "name": k} for t, n, k in rows[:25]]}


def largest_batch(model_dir: Path, candidates: list[int], seq: int) -> dict:
    """The largest per-device batch of `seq`-token sequences for which one recipe-like step (fp32 weights, bf16
    autocast, forward + backward + AdamW) fits; peak memory of each size tried."""
    from transformers import AutoModelForCausalLM

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.0)
    peaks, fits = {}, None
    for batch in candidates:
        release_memory()
        try:
            tokens = torch.randint(0, 32000, (batch, seq), device=device)
            with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = model(input_ids=tokens, labels=tokens).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            synchronize()
            peaks[batch] = torch.cuda.max_memory_allocated() / 1e9 if device == "cuda" else None
            fits = batch
        except torch.OutOfMemoryError:
            peaks[batch] = "out of memory"
            break
        finally:
            loss = tokens = None
    del model, optimizer
    release_memory()
    return {"sequence_length": seq, "largest_fitting_batch": fits, "peak_allocated_gb_by_batch": peaks}


def generation_figures(model_dir: Path, eval_dir: Path, limit: int, batch_size: str) -> dict:
    import lm_eval
    from lm_eval.models import huggingface
    from lm_eval.tasks import TaskManager

    from ecom_tasks import TASKS_DIR

    os.environ["ECOMGPT_EVAL_DIR"] = str(eval_dir)
    counted = {"prompts": 0, "generated_tokens": 0, "batches": 0, "batch_sizes": set()}
    original = huggingface.HFLM._model_generate

    def counting(self, context, max_length, stop, **kwargs):
        output = original(self, context, max_length, stop, **kwargs)
        counted["prompts"] += context.shape[0]
        counted["generated_tokens"] += (output.shape[1] - context.shape[1]) * context.shape[0]
        counted["batches"] += 1
        counted["batch_sizes"].add(int(context.shape[0]))
        return output

    huggingface.HFLM._model_generate = counting
    try:
        start = time.perf_counter()
        results = lm_eval.simple_evaluate(
            model="hf", model_args=f"pretrained={model_dir},dtype=bfloat16,device={'cuda' if torch.cuda.is_available() else 'cpu'}", tasks=["ecom_unseen"], limit=limit,
            batch_size=batch_size, task_manager=TaskManager(include_path=str(TASKS_DIR)))
        seconds = time.perf_counter() - start
    finally:
        huggingface.HFLM._model_generate = original
    release_memory()
    return {"backend": "hf", "batch_size": batch_size, "limit_per_task": limit, "tasks": 12,
            "prompts": counted["prompts"], "generated_tokens": counted["generated_tokens"],
            "batch_sizes_seen": sorted(counted["batch_sizes"]), "seconds_incl_scoring": seconds,
            "prompts_per_second": counted["prompts"] / seconds,
            "generated_tokens_per_second": counted["generated_tokens"] / seconds,
            "group_rouge_l": results["groups"]["ecom_unseen"].get("rouge_l,none") if results else None}


def fsdp_figures(model_dir: Path, mixture: Path, out: Path, steps: int, tiny: bool) -> dict:
    """The 7b1 recipe under the shipped fsdp.yaml on every GPU here (`accelerate launch`, the command users
    type), on a model of the given shape: what the run says it ran, its loss and speed, and whether the saved
    folder loads. On a CPU (`--tiny`) the recipe refuses, as FSDP needs GPUs: the refusal is the figure."""
    import subprocess

    from transformers import AutoModelForCausalLM

    gpus = max(1, torch.cuda.device_count())
    command = [sys.executable, "-m", "accelerate.commands.launch", "-q", "--config_file",
               str(REPO / "recipes/accelerate_configs/fsdp.yaml"), "--num_processes", str(gpus),
               # on a CPU accelerate would stop at sync_module_states ("no available devices") before the recipe
               *(["--mixed_precision", "no", "--fsdp_sync_module_states", "false", "--fsdp_cpu_ram_efficient_loading",
                  "false"] if tiny else []), str(REPO / "recipes/bloomz_7b1.py"),
               "--model_name_or_path", str(model_dir), "--train_file", str(mixture), "--max_steps", str(steps),
               "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "1", "--logging_steps", "1",
               "--save_strategy", "no", "--output_dir", str(out)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    figures = {"gpus": gpus, "seconds": round(time.perf_counter() - started, 1), "returncode": result.returncode,
               "said": [line for line in (result.stdout + result.stderr).splitlines()
                        if "trained with" in line or "error:" in line][-3:]}
    summary = out / "training_summary.json"
    if result.returncode == 0 and summary.is_file():
        ran = json.loads(summary.read_text())
        figures.update(distributed=ran["distributed"], train_loss=ran["train_loss"], steps=ran["global_step"],
                       loads=AutoModelForCausalLM.from_pretrained(out) is not None)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", type=Path, help="write the inputs for a GPU run into this folder and stop")
    parser.add_argument("--mixture", type=Path, help="with --prepare: an `ecomgpt-data build` folder")
    parser.add_argument("--instances", type=int, default=6000, help="with --prepare: mixture sample size")
    parser.add_argument("--data", type=Path, help="a folder written by --prepare")
    parser.add_argument("--out", type=Path, default=Path("gpu_figures.json"))
    parser.add_argument("--runs", nargs="+", type=parse_run, default=[parse_run(r) for r in DEFAULT_RUNS],
                        metavar="SHAPE:VARIANT:BATCH", help=f"training runs, in order; variants: {sorted(VARIANTS)}")
    parser.add_argument("--warmup", type=int, default=3, help="optimizer steps before timing")
    parser.add_argument("--profile", action="store_true", help="run the timed steps under torch.profiler and add "
                        "where the GPU time went (its timings are then slower than an unprofiled run's)")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps (each 32 sequences)")
    parser.add_argument("--phases", nargs="+", default=["train", "generate", "probe", "fsdp"],
                        choices=["train", "generate", "probe", "fsdp"])
    parser.add_argument("--probe-batches", nargs="+", type=int, default=[4, 8, 16, 32, 64])
    parser.add_argument("--gen-limit", type=int, default=100, help="records per task for the generation run")
    parser.add_argument("--gen-shape", default="560m", choices=sorted(SHAPES))
    parser.add_argument("--gen-batch-size", default="auto", help="lm-eval's --batch_size for the generation run")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes: a CPU dry run of the whole script")
    args = parser.parse_args()
    if args.prepare:
        if not args.mixture:
            parser.error("--prepare needs --mixture")
        return prepare(args.prepare, args.mixture, args.instances, seed=0)
    if not args.data:
        parser.error("--data (a folder written by --prepare) is required")
    if not (args.data / "mixture.jsonl").is_file() or not (args.data / "tokenizer").is_dir():
        parser.error(f"--data {args.data}: no mixture.jsonl and tokenizer/ there; write them with --prepare")

    from recipes import bloomz_1b7, bloomz_3b, bloomz_7b1, bloomz_560m

    recipes = {"560m": bloomz_560m.RECIPE, "1b7": bloomz_1b7.RECIPE, "3b": bloomz_3b.RECIPE, "7b1": bloomz_7b1.RECIPE}
    name = torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor() or "cpu"
    if not torch.cuda.is_available() and not args.tiny:
        raise SystemExit("no CUDA GPU here: run with --tiny for a CPU dry run")
    peak = peak_tflops(name)
    import transformers

    from ecomgpt_core.files import write_atomic

    vocab = 32000 if args.tiny else VOCAB
    figures = {"device": name, "torch": torch.__version__, "transformers": transformers.__version__,
               "peak_bf16_tflops": peak, "tiny": args.tiny, "vocab": vocab, "training": {}, "probe": {},
               "generation": {}, "fsdp": {}, "errors": []}

    def save():
        write_atomic(args.out, json.dumps(figures, indent=2, default=str) + "\n")

    def attempt(label: str, work):
        log(f"{label} ...")
        try:
            value = work()
            log(f"{label}: {json.dumps(value, default=str)}")
            return value
        except Exception as error:  # noqa: BLE001 - one failed measurement must not lose the others
            traceback.print_exc()
            figures["errors"].append(f"{label}: {type(error).__name__}: {error}"[:2000])
            release_memory()
            return None
        finally:
            save()

    runs = args.runs if "train" in args.phases else []
    shapes = {shape for shape, _, _ in runs}
    with tempfile.TemporaryDirectory() as tmp:
        models = {}
        fsdp_shape = "560m"
        wanted = shapes | ({args.gen_shape} if "generate" in args.phases else set())
        for shape in sorted(wanted | ({fsdp_shape} if "fsdp" in args.phases else set())):
            models[shape] = (Path(tmp) / shape, make_model(shape, args.data / "tokenizer", Path(tmp) / shape, args.tiny,
                                                           vocab))
            log(f"model {shape}: {models[shape][1] / 1e9:.3f} B parameters")
        mixture = args.data / "mixture.jsonl"
        for shape, variant, batch in runs:
            model_dir, parameters = models[shape]
            hidden = (TINY_SHAPE if args.tiny else SHAPES[shape])[0]
            extra = [*VARIANTS[variant], "--per_device_train_batch_size", str(batch),
                     "--gradient_accumulation_steps", str(GLOBAL_BATCH // batch)]
            figures["training"].setdefault(shape, {"parameters": parameters})
            label = f"{variant} {batch}x{GLOBAL_BATCH // batch}"
            figures["training"][shape][label] = attempt(
                f"train {shape} {label}", lambda: train_figures(model_dir, mixture, recipes[shape], extra, args.warmup,
                                                                args.steps, parameters, hidden, vocab, peak,
                                                                compile_blocks=COMPILED_BLOCKS.get(variant),
                                                                profile=args.profile))
        if "generate" in args.phases:
            figures["generation"]["hf"] = attempt(
                "generate hf", lambda: generation_figures(models[args.gen_shape][0], args.data / "eval",
                                                          2 if args.tiny else args.gen_limit,
                                                          "4" if args.tiny else args.gen_batch_size))
        if "probe" in args.phases:
            for shape in sorted(shapes):
                figures["probe"][shape] = attempt(
                    f"probe {shape}", lambda: largest_batch(models[shape][0], args.probe_batches,
                                                            64 if args.tiny else 1024))
        if "fsdp" in args.phases:
            figures["fsdp"][fsdp_shape] = attempt(
                f"fsdp {fsdp_shape}", lambda: fsdp_figures(models[fsdp_shape][0], mixture, Path(tmp) / "fsdp-out",
                                                           2 if args.tiny else args.steps, args.tiny))
    save()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
