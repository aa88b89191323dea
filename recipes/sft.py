"""The shared supervised fine-tuning module behind `recipes/bloomz_*.py`.

Built on transformers' `Trainer` (not a hand-written loop): it already does accelerate-launched DDP / FSDP /
DeepSpeed, bf16, gradient accumulation, cosine schedule with warm-up, checkpoints and exact resumption, and
length-grouped sampling. TRL's `SFTTrainer` is not used because the truncation rule here is specific (cut
the prompt from the left, keep the response whole, drop an instance whose response alone is too long) and
TRL would need the same hand-made tokenisation anyway.

What this module adds: reading a mixture from `ecomgpt-data`, tokenising prompt + "\\n" + response + EOS
with the loss on response tokens only, the paper's defaults, the recipe's sharding choice, gloo for
multi-process CPU runs, an optional LoRA with a merged export, and a summary of what was dropped.

Speed on GPUs (measured in `benchmarks/gpu_figures.py`): the 250,880-entry vocabulary logits are computed only
where the loss is taken (about one token in ten of the mixture is a response token), BLOOM's hand-written GELU
is swapped for torch's fused one (the same function), and AdamW is torch's fused implementation.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorForSeq2Seq,
    HfArgumentParser,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from ecomgpt_core.errors import EXIT_USER_ERROR, EcomGPTError
from ecomgpt_data.instructions import RESPONSE_SEPARATOR
from ecomgpt_data.mixture_folder import dataset_dir, response_of
from recipes import distribution

logger = logging.getLogger("recipes.sft")
IGNORE_INDEX = -100


class RecipeError(EcomGPTError):
    """A training input the user can fix: the mixture, the model or an option."""

# ../shared/paper/training_setup.md: AdamW, lr 2e-5, weight decay 0, cosine, 3% warm-up, 3 epochs, per-device
# batch 4, gradient accumulation 8, max length 1024, bf16.
PAPER_DEFAULTS = dict(
    learning_rate=2e-5, weight_decay=0.0, lr_scheduler_type="cosine", warmup_steps=0.03, num_train_epochs=3,
    per_device_train_batch_size=4, gradient_accumulation_steps=8, optim="adamw_torch",
    logging_steps=10, save_steps=500, save_total_limit=3, report_to="none", seed=42,
    remove_unused_columns=False, length_column_name="length", ddp_find_unused_parameters=False,
)
FSDP_ARGS = dict(fsdp="full_shard auto_wrap",
                 fsdp_config={"transformer_layer_cls_to_wrap": ["BloomBlock"], "activation_checkpointing": True})


@dataclass(frozen=True)
class Recipe:
    """One scale's declarative settings; everything else is a command-line override."""

    model_name_or_path: str
    output_dir: str
    per_device_train_batch_size: int = 4
    gradient_accumulation_steps: int = 8
    sharding: str = "ddp"  # "ddp" (plain data parallel) or "fsdp" (full shard + activation checkpointing)


@dataclass
class ScriptArguments:
    model_name_or_path: str = field(default="", metadata={"help": "hub id or local folder of the model to fine-tune"})
    train_file: str = field(default="", metadata={"help": "an ecomgpt-data folder, its mixture.jsonl, or a save_to_disk folder"})
    max_length: int = field(default=1024, metadata={"help": "tokens per instance, prompt + response + EOS"})
    model_dtype: str = field(default="float32", metadata={
        "help": "dtype the weights are loaded in: float32 (full fine-tuning keeps fp32 master weights, bf16 "
                "autocast) or bfloat16 (frozen base weights under --use_lora)"})
    sharding: str = field(default="ddp", metadata={"help": "ddp or fsdp (FSDP applies only on GPUs)"})
    allow_downgrade: bool = field(default=False, metadata={
        "help": "train even when the launch asked for FSDP, DeepSpeed, more processes or more machines than run "
                "(by default the run stops before training and says how to launch it)"})
    use_lora: bool = field(default=False, metadata={"help": "train LoRA adapters (peft) and export a merged model"})
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: str = field(default="query_key_value", metadata={"help": "comma-separated module names"})
    response_only_logits: bool = field(default=True, metadata={
        "help": "compute the vocabulary logits only at the positions the loss is taken on (the response tokens); "
                "the same loss and gradients, less time and memory. Needs transformers >= 5.21 (boolean "
                "logits_to_keep); with an older one every position's logits are computed"})
    fused_gelu: bool = field(default=True, metadata={
        "help": "run BLOOM's tanh-approximated GELU as torch's fused nn.GELU(approximate='tanh'), the same function "
                "in one kernel instead of about ten elementwise ones each way"})
    pad_to_multiple_of: int | None = field(default=None, metadata={
        "help": "pad each batch's length up to a multiple of this (as transformers' collators do): few distinct "
                "shapes, so torch.compile with static shapes compiles each once; costs padding. Off by default"})


def load_mixture(path: str):
    """A mixture as a `datasets.Dataset` with `id`, `prompt` and `response` columns (from `response`, or from TRL's
    `completion`)."""
    from datasets import Value, load_dataset, load_from_disk
    from datasets.exceptions import DatasetGenerationError

    source = Path(path)
    source = dataset_dir(source) or source  # an `ecomgpt-data build` folder: its `datasets` copy
    if not source.exists():
        raise RecipeError(f"--train_file {path}: no such file or folder")
    if source.is_file() and source.stat().st_size == 0:
        raise RecipeError(f"--train_file {path} is empty; build a mixture with `ecomgpt-data build`")
    try:
        if source.is_dir():
            dataset = load_from_disk(str(source))
        else:
            dataset = load_dataset("json", data_files=str(source), split="train")
    except (OSError, ValueError, DatasetGenerationError) as error:  # not a dataset folder, not JSON lines
        raise RecipeError(f"--train_file {path}: not a mixture ({type(error).__name__}: {str(error)[:300]})") from None
    if "response" not in dataset.column_names and "completion" in dataset.column_names:
        # TRL's prompt-completion columns (an `ecomgpt-data build` folder's `dataset/`): the completion is the
        # separator and the response
        dataset = dataset.map(lambda row: {"response": response_of(row["completion"])},
                              remove_columns=["completion"], keep_in_memory=True)
    missing = {"prompt", "response"} - set(dataset.column_names)
    if missing:
        raise RecipeError(f"--train_file {path}: missing column(s) {sorted(missing)}; it has {dataset.column_names}")
    for column in ("prompt", "response"):  # a JSON number or boolean (a label "5") is read as its text
        feature = dataset.features[column]
        if not isinstance(feature, Value):
            raise RecipeError(f"--train_file {path}: column {column!r} holds {type(feature).__name__} values, not "
                              "text; every prompt and response must be a string")
        if feature.dtype not in ("string", "large_string"):
            dataset = dataset.cast_column(column, Value("string"))
    if len(dataset) == 0:
        raise RecipeError(f"--train_file {path} holds no instance")
    if "id" not in dataset.column_names:
        dataset = dataset.add_column("id", [str(i) for i in range(len(dataset))])
    return dataset


def encode(prompt_ids: list[int], response_ids: list[int], eos_id: int, max_length: int) -> dict | None:
    """input_ids and labels for one instance, or None when the response and EOS alone exceed max_length.
    The prompt is cut from the left when the whole does not fit; prompt tokens are IGNORE_INDEX in labels."""
    target = list(response_ids) + [eos_id]
    if len(target) > max_length:
        return None
    room = max_length - len(target)
    kept = list(prompt_ids)[len(prompt_ids) - room:] if len(prompt_ids) > room else list(prompt_ids)
    return {"input_ids": kept + target, "labels": [IGNORE_INDEX] * len(kept) + target,
            "truncated": len(kept) < len(prompt_ids)}


def tokenize_mixture(dataset, tokenizer, max_length: int):
    """(tokenised dataset with `id`, `input_ids`, `labels`, `length`; counts of dropped / truncated)."""
    def batch(rows):
        # The separator belongs to the target: the evaluation prompt ends at "### Response:", so the model must
        # learn to write the separator itself (masked as prompt, it was never a target, and a small model
        # fine-tuned so answered with EOS at once).
        prompts = tokenizer(list(rows["prompt"]), add_special_tokens=False)["input_ids"]
        responses = tokenizer([RESPONSE_SEPARATOR + (r or "") for r in rows["response"]],
                              add_special_tokens=False)["input_ids"]
        out = {"id": [], "input_ids": [], "labels": [], "length": [], "truncated": [], "dropped": [], "empty": []}
        for row_id, text, p, r in zip(rows["id"], rows["response"], prompts, responses, strict=True):
            empty = not (text or "").strip()  # would train on EOS alone
            encoded = None if empty else encode(p, r, tokenizer.eos_token_id, max_length)
            out["id"].append(row_id)
            out["empty"].append(empty)
            out["dropped"].append(encoded is None)
            encoded = encoded or {"input_ids": [], "labels": [], "truncated": False}
            out["input_ids"].append(encoded["input_ids"])
            out["labels"].append(encoded["labels"])
            out["truncated"].append(encoded["truncated"])
            out["length"].append(len(encoded["input_ids"]))
        return out

    tokenised = dataset.map(batch, batched=True, remove_columns=dataset.column_names, keep_in_memory=True,
                            desc="Tokenising")
    empty = sum(tokenised["empty"])
    counts = {"instances": len(tokenised), "dropped_response_too_long": sum(tokenised["dropped"]) - empty,
              "dropped_empty_response": empty, "prompt_truncated": sum(tokenised["truncated"])}
    kept = tokenised.filter(lambda row: not row["dropped"], keep_in_memory=True).remove_columns(
        ["dropped", "truncated", "empty"])
    return kept, counts


@dataclass
class CompletionCollator:
    """Pads input_ids / attention_mask with the pad token and labels with IGNORE_INDEX (DataCollatorForSeq2Seq),
    after taking off the `id` and `length` columns.

    With `response_only_logits`, the batch also says where the model needs logits: `logits_to_keep`, a boolean
    (batch, length) mask of the positions whose next token is a target, and `shift_labels`, those targets in the
    same (row-major) order. transformers' causal-LM loss then projects only those hidden states onto the
    vocabulary; `Trainer` counts `shift_labels` for the loss's normaliser, as it counts `labels[..., 1:]`."""

    tokenizer: object
    response_only_logits: bool = False
    pad_to_multiple_of: int | None = None

    def __post_init__(self):
        self.pad = DataCollatorForSeq2Seq(self.tokenizer, padding=True, label_pad_token_id=IGNORE_INDEX,
                                          pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="pt")

    def __call__(self, features):
        features = [dict(f) for f in features]
        for f in features:
            f.pop("id", None)
            f.pop("length", None)
        batch = self.pad(features)
        if self.response_only_logits:
            targets = batch["labels"][:, 1:]
            kept = targets != IGNORE_INDEX
            batch["logits_to_keep"] = torch.nn.functional.pad(kept, (0, 1), value=False)
            batch["shift_labels"] = targets[kept]
        return batch


def supports_response_only_logits(model) -> bool:
    """Whether `model.forward` takes a boolean `logits_to_keep` mask (transformers >= 5.21 flattens the kept
    positions; an older one reads a 2-D tensor as positions)."""
    import transformers
    from packaging.version import Version

    return (Version(transformers.__version__).release >= (5, 21)
            and "logits_to_keep" in inspect.signature(model.forward).parameters)


def use_fused_gelu(model) -> int:
    """Replace each BLOOM MLP's `BloomGelu` by `nn.GELU(approximate="tanh")`; returns how many were replaced.

    Done here because transformers offers no switch for it: BLOOM's GELU is a hand-written autograd function of
    about ten elementwise kernels forward and fifteen backward, each a pass over the (tokens, 4 x hidden)
    activations; torch's tanh GELU computes the same formula (the same constants, to 8 digits) in one kernel
    each way. It has no weights, so saved checkpoints are unchanged."""
    swapped = 0
    for module in model.modules():
        if type(getattr(module, "gelu_impl", None)).__name__ == "BloomGelu":
            module.gelu_impl = torch.nn.GELU(approximate="tanh")
            swapped += 1
    return swapped


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def runtime_defaults(recipe: Recipe | None) -> dict:
    """The paper's defaults, the recipe's settings, and what the hardware needs."""
    defaults = dict(PAPER_DEFAULTS)
    if recipe is not None:
        defaults.update({k: v for k, v in dataclasses.asdict(recipe).items()})
    has_gpu = torch.cuda.is_available()
    if has_gpu and torch.cuda.is_bf16_supported():
        defaults["bf16"] = True
    if has_gpu:
        defaults["optim"] = "adamw_torch_fused"  # the same AdamW in a few kernels instead of a loop over tensors
    if not has_gpu and world_size() > 1:
        # Without both, processes started by `accelerate launch` on a CPU-only machine do not train together:
        # transformers builds accelerate's state as multi-CPU (gloo, DDP-wrapped model) only with use_cpu set;
        # otherwise each process updates its own copy of the model.
        defaults["ddp_backend"] = "gloo"
        defaults["use_cpu"] = True
    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    if "train_sampling_strategy" in fields:
        defaults["train_sampling_strategy"] = "group_by_length"
    else:  # transformers 4.x
        defaults["group_by_length"] = True
    return defaults


def apply_sharding(args: TrainingArguments, script: ScriptArguments) -> None:
    """FSDP full shard with activation checkpointing for `sharding=fsdp` on GPUs, unless the accelerate config
    already chose FSDP or DeepSpeed; DeepSpeed (zero3 config) gets gradient checkpointing instead."""
    launcher_fsdp = distribution.launcher_flag("ACCELERATE_USE_FSDP")
    launcher_deepspeed = distribution.launcher_flag("ACCELERATE_USE_DEEPSPEED")
    if script.sharding not in ("ddp", "fsdp"):
        raise RecipeError(f"--sharding must be ddp or fsdp, got {script.sharding!r}")
    if script.sharding != "fsdp" or launcher_fsdp:
        return
    if launcher_deepspeed:
        args.gradient_checkpointing = True
    elif torch.cuda.is_available():
        args.fsdp, args.fsdp_config = FSDP_ARGS["fsdp"], dict(FSDP_ARGS["fsdp_config"])
    else:
        logger.warning("sharding=fsdp needs GPUs; training without sharding on CPU")


def parse(recipe: Recipe | None, argv: list[str] | None = None) -> tuple[ScriptArguments, TrainingArguments]:
    parser = HfArgumentParser((ScriptArguments, TrainingArguments), allow_abbrev=False)  # --max_step is no --max_steps
    parser.set_defaults(**runtime_defaults(recipe))
    script, args, unknown = parser.parse_args_into_dataclasses(args=argv, return_remaining_strings=True)
    if unknown:  # HfArgumentParser would raise a ValueError with a traceback
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not script.model_name_or_path:
        parser.error("--model_name_or_path is required (a recipe file sets it)")
    if not script.train_file:
        parser.error("--train_file is required (an ecomgpt-data folder, mixture.jsonl or save_to_disk folder)")
    given = set(sys.argv[1:] if argv is None else argv)
    if recipe is not None and "--output_dir" not in given and script.model_name_or_path != recipe.model_name_or_path:
        # another model than the recipe's: its own output folder, never the recipe's
        args.output_dir = f"outputs/{Path(script.model_name_or_path.rstrip('/')).name}-ecomgpt"
    if "--logging_steps" not in given and 0 < args.max_steps < 5 * args.logging_steps:
        args.logging_steps = max(1, args.max_steps // 5)  # a short run still logs a few points of its loss
    return script, args


def load_or_explain(load, name: str, **kwargs):
    """`load(name)`, or a `RecipeError` saying that the model is neither a folder nor a reachable hub id."""
    try:
        return load(name, **kwargs)
    except (OSError, ValueError) as error:
        where = "the folder exists but holds no model" if Path(name).is_dir() else (
            "no such folder, and the model hub has no such id or cannot be reached (offline?)")
        detail = " ".join(str(error).split())[:200]  # one line: hub errors carry newlines
        raise RecipeError(f"--model_name_or_path {name}: {where} ({type(error).__name__}: {detail})") from None


class LogTheLastStep(TrainerCallback):
    """Log at the last step, so that the reported `train_loss` is the mean over every process.

    Written by hand because transformers has no option for it: `Trainer` averages the loss over processes
    only at logging steps, and adds the loss since the last logging step from the local process alone; with
    several processes and token-averaged losses that remainder is rank 0's share times the number of
    processes (a 2-process CPU run reported 8.504 where one process with the same global batches, and the
    same final weights, reported 7.611)."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps and args.logging_strategy != "no":
            control.should_log = True
        return control


def build_trainer(script: ScriptArguments, args: TrainingArguments, callbacks: list | None = None):
    """(the `Trainer` over the tokenised mixture, the tokenizer, counts of dropped / truncated instances, the
    tokenizer's own padding side). `callbacks` are `TrainerCallback`s (benchmarks observe training through them)."""
    if script.pad_to_multiple_of is not None and script.pad_to_multiple_of < 1:
        raise RecipeError(f"--pad_to_multiple_of must be a positive number of tokens, got {script.pad_to_multiple_of}")
    if script.model_dtype not in ("float32", "bfloat16", "float16"):
        raise RecipeError(f"--model_dtype must be float32, bfloat16 or float16, got {script.model_dtype!r}")
    apply_sharding(args, script)
    tokenizer = load_or_explain(AutoTokenizer.from_pretrained, script.model_name_or_path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    saved_padding_side = tokenizer.padding_side
    tokenizer.padding_side = "right"

    with args.main_process_first(desc="reading the mixture"):
        dataset = load_mixture(script.train_file)
    train_set, counts = tokenize_mixture(dataset, tokenizer, script.max_length)
    if len(train_set) == 0:
        raise RecipeError(f"--train_file {script.train_file}: no instance fits --max_length {script.max_length}")
    logger.info("instances %(instances)d, dropped (response too long) %(dropped_response_too_long)d, dropped "
                "(empty response) %(dropped_empty_response)d, prompt cut from the left %(prompt_truncated)d", counts)

    model = load_or_explain(AutoModelForCausalLM.from_pretrained, script.model_name_or_path,
                            dtype=getattr(torch, script.model_dtype))
    if script.fused_gelu and use_fused_gelu(model):
        logger.info("BLOOM's GELU runs as torch's fused tanh GELU (--fused_gelu False keeps the original)")
    response_only = script.response_only_logits and supports_response_only_logits(model)
    if script.response_only_logits and not response_only:
        import transformers

        logger.warning("logits at every position: transformers %s or this model takes no boolean logits_to_keep "
                       "(needs transformers >= 5.21); training is the same, slower", transformers.__version__)
    if script.use_lora:
        if args.fsdp or distribution.launcher_flag("ACCELERATE_USE_DEEPSPEED"):
            raise RecipeError("--use_lora is for single-GPU / DDP runs; use full fine-tuning with FSDP or ZeRO-3")
        from peft import LoraConfig, get_peft_model

        if args.gradient_checkpointing:
            model.enable_input_require_grads()  # checkpointed blocks need an input that requires grad
        model = get_peft_model(model, LoraConfig(
            r=script.lora_r, lora_alpha=script.lora_alpha, lora_dropout=script.lora_dropout, task_type="CAUSAL_LM",
            target_modules=[m.strip() for m in script.lora_target_modules.split(",") if m.strip()]))

    trainer = Trainer(model=model, args=args, train_dataset=train_set, processing_class=tokenizer,
                      data_collator=CompletionCollator(tokenizer, response_only, script.pad_to_multiple_of),
                      callbacks=[LogTheLastStep(), *(callbacks or [])])
    return trainer, tokenizer, counts, saved_padding_side


def train(script: ScriptArguments, args: TrainingArguments, callbacks: list | None = None) -> Path:
    trainer, tokenizer, counts, saved_padding_side = build_trainer(script, args, callbacks)
    ran = distribution.running(trainer.accelerator.state)
    gap = distribution.refuse_downgrade(distribution.asked(), ran, script.allow_downgrade)
    if gap:
        logger.warning("training with less than the launch asked for (--allow_downgrade): %s", gap)
    train_set = trainer.train_dataset
    result = trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)

    out = Path(args.output_dir)
    tokenizer.padding_side = saved_padding_side
    if script.use_lora:
        trainer.model.save_pretrained(out / "adapter")
        if trainer.is_world_process_zero():
            trainer.model.merge_and_unload().save_pretrained(out)
    else:
        trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(out)
        summary = {**counts, "trained_instances": len(train_set), "world_size": args.world_size,
                   "distributed": ran.as_dict(),
                   "global_step": result.global_step, "train_loss": result.training_loss,
                   "log_history": trainer.state.log_history}
        (out / "training_summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        writer = ("the first process of each machine (--save_on_each_node)" if args.save_on_each_node
                  else "process 0 only")
        print(f"trained with {ran.describe()}, backend {ran.backend}; the model was written by {writer}", flush=True)
        print(f"saved the fine-tuned model to {out} ({result.global_step} steps, final training loss "
              f"{result.training_loss:.4f}; {len(train_set)} instances trained of {counts['instances']}: "
              f"{counts['dropped_response_too_long']} dropped as too long, {counts['dropped_empty_response']} with an "
              f"empty response, {counts['prompt_truncated']} prompts cut; summary in {out / 'training_summary.json'})",
              flush=True)
    return out


def leave_together() -> None:
    """The end of a finished multi-process run: every rank waits for the others and closes the process group.
    After a DeepSpeed run the process then ends here, without the interpreter's teardown (atexit handlers and
    non-daemon threads still run first). Why by hand: DeepSpeed keeps its engine referenced from its module
    globals, so gloo process groups and their worker threads outlive `destroy_process_group`. A rank then aborted
    at exit now and then ("terminate called without an active exception"), failing a launch whose model was
    already saved; the likely cause (not reproduced here) is such a thread, stopped inside C++ when it wants the
    interpreter during its teardown. No library call releases those groups (accelerate's free_memory and
    DeepSpeed's destroy leave them referenced)."""
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()
    if not distribution.launcher_flag("ACCELERATE_USE_DEEPSPEED"):
        return
    import atexit
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # what a normal exit runs before the teardown (logging's flush, trackers' finish)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main(recipe: Recipe | None = None, argv: list[str] | None = None, callbacks: list | None = None) -> Path:
    """Parse, train and save; a `RecipeError` (bad input) ends the process with one line from rank 0 and exit
    status 2 (launch with `accelerate launch -q` so that accelerate adds no traceback of its own)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    script, args = parse(recipe, argv)
    try:
        out = train(script, args, callbacks)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            leave_together()
        return out
    except EcomGPTError as error:  # RecipeError, DowngradeError
        if distribution.is_first_process():
            print(f"{Path(sys.argv[0]).name}: error: {error}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_USER_ERROR) from None


if __name__ == "__main__":
    main()
