"""FewCLUE EPRSTMT (zh): e-commerce product reviews labelled Positive / Negative.

Reads `train_few_all`, `dev_few_all` and `test_public` (JSON lines `{"id", "sentence", "label"}`), never the
`train_k` / `dev_k` files, which are subsets of the `*_few_all` ones. A review read before (in another file) is
skipped and counted.
"""

from __future__ import annotations

import json
from pathlib import Path

from ecomgpt_data import atomic_tasks as at
from ecomgpt_data.records import FirstSeen, Malformed, Record, Skipped, numbered_lines
from ecomgpt_data.sources import Source, register, task_factory

NAME = "fewclue_eprstmt_review_sentiment"
FILES = ("train_few_all.json", "dev_few_all.json", "test_public.json")
SENTIMENTS = {"Positive": "正面", "Negative": "负面"}


def files(root: Path) -> list[Path]:
    return [root / name for name in FILES]


def read(root: Path):
    seen = FirstSeen()
    for path in files(root):
        for origin, line in numbered_lines(path, root):
            try:
                row = json.loads(line)
                sentence, label = row["sentence"].strip(), SENTIMENTS[row["label"]]
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                yield Malformed(origin, f"expected a JSON object with a sentence and a label Positive or "
                                        f"Negative ({type(error).__name__}: {error})")
                continue
            if not sentence:
                yield Skipped(origin, "empty review")
            elif seen.again(sentence):
                yield Skipped(origin, "review already read")
            else:
                yield Record(NAME, origin, "zh", "review", sentence, labels={"sentiment": (label,)})


_task = task_factory("eprstmt", NAME, "zh")

register(Source(
    name=NAME, lang="zh", folder=NAME, files=files, read=read,
    tasks=(
        _task("review_sentiment", "CLS", "original", "classify", ("review sentiment classification", "评论情感分类"),
              at.classify("sentiment", tuple(SENTIMENTS.values()))),
        _task("review_writing", "GEN", "reversal", "generate_from_labels",
              ("writing a review of a given sentiment", "按指定情感撰写评论"),
              at.generate_from_labels(("sentiment",), ("情感",))),
    ),
))
