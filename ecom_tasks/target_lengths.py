"""Gold-target lengths of each task, and the `max_gen_toks` that lets >= 99% of them fit.

Without a tokenizer, lengths are UTF-8 bytes: every token of a byte-level BPE tokenizer (BLOOM's, GPT's)
covers at least one byte, so bytes bound the token count from above. With `--tokenizer PATH` the same
table is measured in that tokenizer's tokens, to check the YAML values against a real model.

    python -m ecom_tasks.target_lengths [--tokenizer bigscience/bloomz-7b1]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass

COVERAGE = 0.99
ROUND_TO = 16


@dataclass(frozen=True)
class LengthStats:
    p50: int
    p99: int
    max: int

    @property
    def max_gen_toks(self) -> int:
        """The p99 length plus one (a tokenizer may add a leading-space token), rounded up to 16."""
        return ROUND_TO * math.ceil((self.p99 + 1) / ROUND_TO)


def quantile(sorted_values: list[int], q: float) -> int:
    """The smallest value v with at least q of the values <= v (a nearest-rank quantile)."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def length_stats(targets: list[str], length: Callable[[str], int] | None = None) -> LengthStats:
    length = length or (lambda text: len(text.encode("utf-8")))
    values = sorted(length(t) for t in targets)
    return LengthStats(p50=quantile(values, 0.5), p99=quantile(values, COVERAGE), max=values[-1])


def main(argv: list[str] | None = None) -> None:
    from ecom_tasks.release import released_tasks
    from ecom_tasks.utils import build_docs

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", help="measure in this tokenizer's tokens instead of UTF-8 bytes")
    args = parser.parse_args(argv)
    length = None
    unit = "bytes"
    if args.tokenizer:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        length = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
        unit = "tokens"
    print(f"{'task':55} {'p50':>6} {'p99':>6} {'max':>6} {'max_gen_toks':>12}  ({unit})")
    for folder in released_tasks():
        stats = length_stats([doc["target"] for doc in build_docs(folder)], length)
        print(f"{folder:55} {stats.p50:6d} {stats.p99:6d} {stats.max:6d} {stats.max_gen_toks:12d}")


if __name__ == "__main__":
    main()
