"""Useful-token fraction (non-pad tokens / all tokens in the batches) of one epoch over a real mixture, at the
paper's global batch 128 (4 GPUs x per-device batch 4 x accumulation 8): pad everything to 1024, pad to the
longest in random batches, and the recipe's length grouping (transformers' length-grouped sampler as the
Trainer builds it). Then tokens per second on this CPU for a tiny BLOOM: the recipe against a plain `Trainer`
baseline (random batches), in the same process.

    .venv/bin/python benchmarks/train_padding.py [--tokenizer bigscience/bloomz-560m]

Without `--tokenizer` a byte-level BPE is trained on the mixture (BLOOM's tokenizer needs the model hub);
it splits text into more tokens than BLOOM's 250k vocabulary, so sequences are longer than BLOOM's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

PER_DEVICE, ACCUMULATION, GPUS, MAX_LENGTH = 4, 8, 4, 1024


def useful_fraction(lengths: list[int], order: list[int], pad_to: int | None) -> float:
    useful = total = 0
    for start in range(0, len(order), PER_DEVICE):
        batch = [lengths[i] for i in order[start:start + PER_DEVICE]]
        useful += sum(batch)
        total += len(batch) * (pad_to or max(batch))
    return useful / total


def padding_table(lengths: list[int], seed: int) -> dict[str, float]:
    from transformers.trainer_pt_utils import get_length_grouped_indices

    generator = torch.Generator().manual_seed(seed)
    random_order = torch.randperm(len(lengths), generator=generator).tolist()
    # Trainer: LengthGroupedSampler(train_batch_size * gradient_accumulation_steps); the batches it yields are
    # then dealt out to the GPUs by accelerate, so each micro-batch is 4 consecutive indices.
    grouped = get_length_grouped_indices(lengths, PER_DEVICE * ACCUMULATION, generator=generator)
    return {"pad to 1024": useful_fraction(lengths, random_order, MAX_LENGTH),
            "pad to longest, random batches": useful_fraction(lengths, random_order, None),
            "recipe (length-grouped)": useful_fraction(lengths, grouped, None)}


def tokens_per_second(model_dir: Path, train_set, tokenizer, grouped: bool) -> float:
    """Non-pad tokens per second over one epoch of `train_set` (a whole epoch, so that both orders see the
    same instances: the grouped order starts with its longest batch)."""
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from recipes.sft import CompletionCollator

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=PER_DEVICE, num_train_epochs=1,
                                 learning_rate=1e-4, report_to="none", save_strategy="no", logging_steps=10**6,
                                 remove_unused_columns=False, length_column_name="length", seed=0, use_cpu=True,
                                 train_sampling_strategy="group_by_length" if grouped else "random",
                                 disable_tqdm=True)
        collator = CompletionCollator(tokenizer)
        seen = []

        def count(features):
            batch = collator(features)
            seen.append(int(batch["attention_mask"].sum()))
            return batch

        trainer = Trainer(model=AutoModelForCausalLM.from_pretrained(model_dir), args=args, train_dataset=train_set,
                          data_collator=count)
        start = time.perf_counter()
        trainer.train()
        return sum(seen) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", help="a tokenizer to measure lengths with (default: BPE trained here)")
    parser.add_argument("--per-task", type=int, default=800)
    parser.add_argument("--throughput-instances", type=int, default=1200,
                        help="instances (a seeded sample of the mixture) in each throughput epoch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from datasets import Dataset
    from transformers import AutoTokenizer

    from ecomgpt.tiny_bloom import make_tiny_bloom
    from ecomgpt_data.config import MixtureConfig
    from ecomgpt_data.mixture import build
    from ecomgpt_data.mixture_folder import read_rows
    from recipes.sft import tokenize_mixture

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build(MixtureConfig(per_task=args.per_task).validate(), tmp / "mix", progress=False)
        rows = read_rows(tmp / "mix")
        texts = [r["prompt"] + "\n" + r["response"] for r in rows]
        model_dir = make_tiny_bloom(tmp / "tiny", texts, vocab_size=8000)
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or model_dir)
        data = Dataset.from_list([{"id": r["id"], "prompt": r["prompt"], "response": r["response"]} for r in rows])
        train_set, counts = tokenize_mixture(data, tokenizer, MAX_LENGTH)
        lengths = train_set["length"]
        print(f"mixture: {len(rows):,} instances, {len(lengths):,} kept ({counts['dropped_response_too_long']} dropped, "
              f"{counts['prompt_truncated']} prompts cut); mean length {sum(lengths) / len(lengths):.0f} tokens, "
              f"max {max(lengths)}; tokenizer {'BPE trained here (8k)' if not args.tokenizer else args.tokenizer}")
        print(f"useful-token fraction, global batch {PER_DEVICE * ACCUMULATION * GPUS} "
              f"({GPUS} GPUs x {PER_DEVICE} x {ACCUMULATION}), one epoch:")
        for name, fraction in padding_table(lengths, args.seed).items():
            print(f"  {name:<32} {fraction:.3f}")

        if args.tokenizer:
            return
        tokenizer.padding_side = "right"
        sample = train_set.shuffle(seed=args.seed).select(range(min(args.throughput_instances, len(train_set))))
        baseline = tokens_per_second(model_dir, sample, tokenizer, grouped=False)
        recipe = tokens_per_second(model_dir, sample, tokenizer, grouped=True)
        print(f"tiny BLOOM on CPU, one epoch of {len(sample):,} instances in batches of {PER_DEVICE}, "
              "non-pad tokens per second:")
        print(f"  plain Trainer (random batches)   {baseline:8,.0f}")
        print(f"  recipe (length-grouped)          {recipe:8,.0f}   ratio {recipe / baseline:.2f}")


if __name__ == "__main__":
    main()
